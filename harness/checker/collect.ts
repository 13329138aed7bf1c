// Reading what a SUT committed on <ns>.decisions (and what the harness stored on <ns>.orders).
// Each committed decision goes straight to a sink (the streaming judge, the run folder's record) as its
// batch arrives; nothing per record is kept here but the last offset of each partition.
// First import: kafkajs 2.2.4's own aborted-record filter leaks aborted records when several producers'
// transactions interleave on a partition; the checker must never read those as committed.
import type { Batch } from "kafkajs";
import type { Connection } from "../../systems-under-test/contract/connection.ts";
import type { Decision } from "../../systems-under-test/contract/events.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { AbortedTracker } from "./aborted.ts";
import { decodeDecision } from "./decode.ts";
import { caughtUp, committedEnds, kafkaFor, sleep, STOP_TIMEOUT_MS, TopicReader, withTimeout } from "./reader.ts";
import { mustBeDecided, terminalDecisionTypes } from "./rules.ts";
import type { CheckInput, ObservedDecision, SentOrder } from "./types.ts";

export { mustBeDecided, terminalDecisionTypes };

export const DEFAULT_QUIET_MS = 1_500;
const TICK_MS = 100;

/** Where committed records go, in partition offset order, each once. */
export interface DecisionSink {
  /** raw: the record value as text (JSON), for a record of what was read. */
  decision(
    d: Decision,
    partition: number,
    offset: string,
    seenAtMs: number,
    recordTimestampMs: number,
    raw: string,
  ): void;
  malformed(partition: number, offset: string, reason: string): void;
}

export interface CollectResult {
  /** Only with the default (in-memory) sink: every committed decision. */
  decisions: ObservedDecision[];
  malformedDecisions: CheckInput["malformedDecisions"];
  abortedDecisions: Decision[];
  drainEndedAtMs: number;
  drainComplete: boolean;
  /** Orders owed a decision that had none at the end (with `orders`; else empty, see undecidedCount). */
  undecided: string[];
  undecidedCount: number;
  /** Distinct client errors met while reading (broker unavailable...), for the report; never fatal. */
  warnings: string[];
  /** Per partition, the highest offset the committed reader's fetches passed (the cross-check reads as far). */
  readThrough: Map<number, bigint>;
}

export interface DecisionWatchOptions {
  connection: Connection;
  ns: string;
  confirms: boolean;
  /** Also read with read_uncommitted to find aborted decisions (default true). */
  trackAborted?: boolean;
  signal?: AbortSignal;
  /** Default: keep every decision in memory (tests, small runs). */
  sink?: DecisionSink;
}

export interface DoneOptions {
  /** Owed orders as a list (small runs) ... */
  orders?: SentOrder[];
  /** ... or as a count kept by the sink (the streaming judge): owed orders still without a terminal decision. */
  pending?: () => number;
  owed?: number;
  quietMs?: number;
  onProgress?: (decided: number, expected: number) => void;
  signal?: AbortSignal;
}

export interface DecisionWatch {
  /** Resolves once the read_committed consumer has joined its group and been assigned (seenAtMs is then live). */
  ready: Promise<void>;
  /** ready, or false after timeoutMs. */
  waitReady(timeoutMs: number): Promise<boolean>;
  /** Committed decision records seen so far. */
  seen(): number;
  /** Drain until every owed order is decided and quietMs passed, or deadlineMs (epoch ms); then stop. Call once. */
  done(deadlineMs: number, opts: DoneOptions): Promise<CollectResult>;
  /** Stop without a result (error paths). Idempotent. */
  stop(): Promise<void>;
}

export interface CollectOptions extends DoneOptions {
  connection: Connection;
  ns: string;
  confirms: boolean;
  /** Absolute epoch ms. */
  deadlineMs: number;
}

/** The default sink: decisions kept as objects, and the owed orders' progress from a list. */
class MemorySink implements DecisionSink {
  readonly decisions: ObservedDecision[] = [];
  readonly malformedList: CheckInput["malformedDecisions"] = [];
  readonly decided = new Set<string>();
  constructor(private readonly terminal: ReadonlySet<string>) {}

  decision(event: Decision, partition: number, offset: string, seenAtMs: number, recordTimestampMs: number): void {
    this.decisions.push({ event, seenAtMs, recordTimestampMs, partition, offset });
    if (this.terminal.has(event.type)) this.decided.add(event.orderId);
  }

  malformed(partition: number, offset: string, reason: string): void {
    this.malformedList.push({ partition, offset, reason });
  }
}

/** Committed records → sink, each (partition, offset) once even when a restarted consumer reads again. */
function committedHandler(
  sink: DecisionSink,
  aborted: AbortedTracker | undefined,
  state: { count: number; lastAtMs: number; malformed: number },
  transactional: () => void,
) {
  const last = new Map<number, number>();
  return (batch: Batch, now: number) => {
    const p = batch.partition;
    let pos = last.get(p) ?? -1;
    for (const m of batch.messages) {
      if ((m as { batchContext?: { inTransaction?: boolean } }).batchContext?.inTransaction) transactional();
      const off = Number(m.offset);
      if (off <= pos) continue;
      pos = off;
      state.lastAtMs = now;
      aborted?.committed(p, off);
      const text = m.value === null ? null : m.value.toString("utf8");
      const r = decodeDecision(text);
      if (!r.ok) {
        state.malformed++;
        sink.malformed(p, m.offset, r.reason);
        continue;
      }
      state.count++;
      sink.decision(r.value, p, m.offset, now, Number(m.timestamp), text!);
    }
    last.set(p, pos);
  };
}

/** Starts reading <ns>.decisions now (before the load), so seenAtMs is when the decision became visible. */
export function startDecisionWatch(opts: DecisionWatchOptions): DecisionWatch {
  const topic = topicsFor(opts.ns).decisions;
  const memory = opts.sink ? undefined : new MemorySink(terminalDecisionTypes(opts.confirms));
  const warnings = new Set<string>();
  const warn = (m: string) => {
    if (warnings.size < 20) warnings.add(m);
  };
  const state = { count: 0, lastAtMs: 0, malformed: 0 };
  const aborted = opts.trackAborted === false ? undefined : new AbortedTracker();
  const label = opts.ns.slice(0, 150);
  const w: Watching = {
    opts,
    topic,
    label,
    memory,
    state,
    aborted,
    warnings,
    warn,
    ru: undefined,
    stopping: undefined,
  };
  // The read_uncommitted reader (aborted decisions) reads the whole topic a second time. Only records of
  // transactions can be aborted, and every transaction leaves records the committed reader sees marked as
  // transactional, or skips (its markers, its aborted records): so it starts at the first such sign and
  // reads from the beginning. A SUT that never writes transactionally is read once.
  const transactional = () => {
    if (w.ru || !aborted || w.stopping) return;
    w.ru = openUncommittedReader(opts.connection, topic, label, aborted, warn);
    w.ru.start();
  };
  const onCommitted = committedHandler(opts.sink ?? memory!, aborted, state, transactional);
  const rc = new TopicReader(
    opts.connection,
    topic,
    false,
    `${label}.rc`,
    onCommitted,
    warn,
    (p, last) => aborted?.committedPassed(p, Number(last)),
    transactional,
  );
  rc.start();
  const stop = () => (w.stopping ??= Promise.all([rc.stop(), w.ru?.stop()]).then(() => undefined));
  opts.signal?.addEventListener("abort", () => void stop(), { once: true });
  return {
    ready: rc.ready,
    waitReady: async (timeoutMs) =>
      (await withTimeout(
        rc.ready.then(() => true),
        timeoutMs,
      )) ?? false,
    seen: () => state.count,
    done: (deadlineMs, d) => drainThenStop(w, rc, stop, deadlineMs, d),
    stop,
  };
}

/** A running watch: what it counted, the warnings met, and its read_uncommitted reader once started. */
interface Watching {
  opts: DecisionWatchOptions;
  topic: string;
  label: string;
  memory: MemorySink | undefined;
  state: { count: number; lastAtMs: number; malformed: number };
  aborted: AbortedTracker | undefined;
  warnings: Set<string>;
  warn: (m: string) => void;
  ru: TopicReader | undefined;
  stopping: Promise<void> | undefined;
}

/** The read_uncommitted reader, from the beginning of the topic, feeding the aborted-record tracker. */
function openUncommittedReader(
  connection: Connection,
  topic: string,
  label: string,
  aborted: AbortedTracker,
  warn: (m: string) => void,
): TopicReader {
  return new TopicReader(
    connection,
    topic,
    true,
    `${label}.ru`,
    (batch) => {
      for (const m of batch.messages)
        aborted.uncommittedRecord(batch.partition, Number(m.offset), m.value?.toString("utf8") ?? null);
    },
    warn,
  );
}

/** done(): drain, stop the readers, and tell what was read and what is still owed. */
async function drainThenStop(
  w: Watching,
  rc: TopicReader,
  stop: () => Promise<void>,
  deadlineMs: number,
  d: DoneOptions,
): Promise<CollectResult> {
  const { opts, topic, warn } = w;
  const progress = owedProgress(d, w.memory);
  const ends = fetchEnds(opts.connection, topic, w.label, deadlineMs, () => w.stopping !== undefined, warn);
  await drainLoop({
    deadlineMs,
    quietMs: d.quietMs ?? DEFAULT_QUIET_MS,
    progress,
    d,
    opts,
    rc,
    ru: () => w.ru,
    state: w.state,
    ends,
    stopping: () => w.stopping,
  });
  const drainEndedAtMs = Date.now();
  if (!rc.joined)
    warn(`the read_committed consumer of ${topic} never joined its group: broker unreachable or topic missing`);
  await Promise.all([stop(), ends.close()]);
  const undecided = progress.undecided();
  const undecidedCount = progress.pending();
  return {
    decisions: w.memory?.decisions ?? [],
    malformedDecisions: w.memory?.malformedList ?? [],
    abortedDecisions: w.aborted?.aborted ?? [],
    drainEndedAtMs,
    drainComplete: undecidedCount === 0,
    undecided,
    undecidedCount,
    warnings: [...w.warnings],
    readThrough: new Map(rc.position),
  };
}

interface OwedProgress {
  owed: number;
  pending(): number;
  undecided(): string[];
}

function owedProgress(d: DoneOptions, memory: MemorySink | undefined): OwedProgress {
  if (d.pending) return { owed: d.owed ?? 0, pending: d.pending, undecided: () => [] };
  if (!d.orders || !memory) throw new Error("DecisionWatch.done: give orders (in-memory sink) or pending (own sink)");
  const owed = mustBeDecided(d.orders);
  const left = () => [...owed].filter((id) => !memory.decided.has(id));
  return { owed: owed.size, pending: () => left().length, undecided: left };
}

interface EndOffsets {
  get(): Map<number, bigint> | undefined;
  close(): Promise<unknown>;
}

/** The committed end of the topic as of now, fetched in the background (the broker may be away for a while). */
function fetchEnds(
  connection: Connection,
  topic: string,
  label: string,
  deadlineMs: number,
  stopped: () => boolean,
  warn: (m: string) => void,
): EndOffsets {
  const admin = kafkaFor(connection, `oversell-checker.${label}.admin`).admin();
  let ends: Map<number, bigint> | undefined;
  const loop = (async () => {
    while (!ends && Date.now() < deadlineMs && !stopped()) {
      try {
        await admin.connect();
        ends = await committedEnds(admin, topic);
      } catch (e) {
        warn(`end offsets of ${topic}: ${(e as Error).message}`);
        await sleep(500);
      }
    }
  })();
  return {
    get: () => ends,
    close: () => Promise.all([withTimeout(admin.disconnect(), STOP_TIMEOUT_MS), withTimeout(loop, STOP_TIMEOUT_MS)]),
  };
}

interface DrainArgs {
  deadlineMs: number;
  quietMs: number;
  progress: OwedProgress;
  d: DoneOptions;
  opts: DecisionWatchOptions;
  rc: TopicReader;
  /** The read_uncommitted reader, once started. */
  ru: () => TopicReader | undefined;
  state: { lastAtMs: number };
  ends: EndOffsets;
  stopping: () => Promise<void> | undefined;
}

/**
 * Until every owed order is decided, the committed reader has passed the end taken at the start, no record
 * came for quietMs and the read_uncommitted reader caught up (bounded by quietMs + 5 s); or the deadline.
 */
async function drainLoop(a: DrainArgs): Promise<void> {
  let settledAt: number | undefined;
  let lastProgress = -1;
  for (;;) {
    const now = Date.now();
    const pending = a.progress.pending();
    if (a.d.onProgress && a.progress.owed - pending !== lastProgress) {
      lastProgress = a.progress.owed - pending;
      a.d.onProgress(lastProgress, a.progress.owed);
    }
    if (now >= a.deadlineMs || a.d.signal?.aborted || a.opts.signal?.aborted || a.stopping()) return;
    const ends = a.ends.get();
    if (pending === 0 && ends && caughtUp(a.rc.position, ends)) {
      settledAt ??= now;
      const quiet = now - Math.max(settledAt, a.state.lastAtMs) >= a.quietMs;
      const ru = a.ru();
      const abortedSeen = !ru || caughtUp(ru.position, a.rc.position) || now - settledAt >= a.quietMs + 5_000;
      if (quiet && abortedSeen) return;
    }
    await sleep(Math.min(TICK_MS, Math.max(1, a.deadlineMs - now)));
  }
}

/** Reads <ns>.decisions from the beginning until every owed order is decided (plus a quiet period) or the deadline. */
export async function collectDecisions(opts: CollectOptions): Promise<CollectResult> {
  const watch = startDecisionWatch({
    connection: opts.connection,
    ns: opts.ns,
    confirms: opts.confirms,
    signal: opts.signal,
  });
  try {
    return await watch.done(opts.deadlineMs, opts);
  } finally {
    await watch.stop();
  }
}

/**
 * Which of orderIds are stored in <ns>.orders (matched by record key, else by the value's orderId).
 * Reads up to the committed end as of the call, or until all are found, or timeoutMs.
 */
export async function findOrdersInTopic(
  connection: Connection,
  ns: string,
  orderIds: string[],
  timeoutMs: number,
): Promise<Set<string>> {
  const found = new Set<string>();
  if (orderIds.length === 0) return found;
  const wanted = new Set(orderIds);
  const topic = topicsFor(ns).orders;
  const deadline = Date.now() + timeoutMs;
  const onBatch = (batch: Batch) => {
    for (const message of batch.messages) {
      let id = message.key?.toString("utf8");
      if (!id || !wanted.has(id)) {
        try {
          const v = JSON.parse(message.value?.toString("utf8") ?? "null") as { orderId?: unknown } | null;
          if (typeof v?.orderId === "string") id = v.orderId;
        } catch {
          /* a poison pill: only its key can name it */
        }
      }
      if (id && wanted.has(id)) found.add(id);
    }
  };
  const reader = new TopicReader(connection, topic, false, `${ns.slice(0, 150)}.orders`, onBatch, () => {});
  const admin = kafkaFor(connection, `oversell-checker.${ns.slice(0, 150)}.orders-admin`).admin();
  reader.start();
  let ends: Map<number, bigint> | undefined;
  try {
    while (Date.now() < deadline && found.size < wanted.size) {
      if (!ends) {
        try {
          await admin.connect();
          ends = await committedEnds(admin, topic);
        } catch {
          /* broker away: try again until the deadline */
        }
      }
      if (ends && caughtUp(reader.position, ends)) break;
      await sleep(TICK_MS);
    }
  } finally {
    await Promise.all([reader.stop(), withTimeout(admin.disconnect(), STOP_TIMEOUT_MS)]);
  }
  return found;
}
