// Reading what a SUT committed on <ns>.decisions (and what the harness stored on <ns>.orders).
// Consumers use throwaway groups and never commit: every (re)start reads from the beginning and
// records are de-duplicated by partition+offset, so a rebalance or a broker restart loses nothing.
// First import: kafkajs 2.2.4's own aborted-record filter leaks aborted records when several producers'
// transactions interleave on a partition; the checker must never read those as committed.
import "../../systems-under-test/contract/kafkajs-read-committed.ts";
import { randomBytes } from "node:crypto";
import kafkajs, { type Admin, type Consumer, type KafkaMessage } from "kafkajs";
import { kafkaJsConfig, type Connection } from "../../systems-under-test/contract/connection.ts";
import { decisionSchema, parseJson, type Decision } from "../../systems-under-test/contract/events.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { mustBeDecided, terminalDecisionTypes } from "./rules.ts";
import type { CheckInput, ObservedDecision, SentOrder } from "./types.ts";

export { mustBeDecided, terminalDecisionTypes };

const { Kafka, logLevel } = kafkajs;

export const DEFAULT_QUIET_MS = 1_500;
/** How long stopping a consumer may take before it is abandoned (a dead broker must not hang the run). */
const STOP_TIMEOUT_MS = 3_000;
const TICK_MS = 100;

export interface CollectResult {
  decisions: ObservedDecision[];
  malformedDecisions: CheckInput["malformedDecisions"];
  abortedDecisions: Decision[];
  drainEndedAtMs: number;
  drainComplete: boolean;
  /** Orders owed a decision that had none at the end (empty when drainComplete). */
  undecided: string[];
  /** Distinct client errors met while reading (broker unavailable...), for the report; never fatal. */
  warnings: string[];
}

export interface DecisionWatchOptions {
  connection: Connection;
  ns: string;
  confirms: boolean;
  /** Also read with read_uncommitted to find aborted decisions (default true). */
  trackAborted?: boolean;
  signal?: AbortSignal;
}

export interface DoneOptions {
  orders: SentOrder[];
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const key = (partition: number, offset: string) => `${partition}:${offset}`;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, () => { clearTimeout(t); resolve(undefined); });
  });
}

function kafkaFor(connection: Connection, clientId: string) {
  return new Kafka(kafkaJsConfig(connection, clientId, {
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 15_000,
    retry: { initialRetryTime: 200, maxRetryTime: 2_000, retries: 8 },
  }));
}

interface RawRecord {
  partition: number;
  message: KafkaMessage;
}

/**
 * One consumer on one topic that keeps itself alive until stopped: kafkajs restarts it on retriable
 * failures; on anything else (topic missing, connect refused) it is rebuilt after a pause.
 */
class TopicReader {
  readonly ready: Promise<void>;
  joined = false;
  /** Highest offset (records, aborted records and markers alike) each partition's fetches have passed. */
  readonly position = new Map<number, bigint>();
  private markReady!: () => void;
  private stopped = false;
  private markStopped!: () => void;
  private readonly stoppedSignal = new Promise<void>((r) => (this.markStopped = r));
  private consumer?: Consumer;
  private loopDone?: Promise<void>;

  constructor(
    private readonly connection: Connection,
    private readonly topic: string,
    private readonly readUncommitted: boolean,
    private readonly label: string,
    private readonly onRecords: (records: RawRecord[], receivedAtMs: number) => void,
    private readonly onError: (message: string) => void,
  ) {
    this.ready = new Promise((r) => (this.markReady = r));
  }

  start(): void {
    this.loopDone = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const groupId = `oversell-checker.${this.label}.${randomBytes(6).toString("hex")}`;
      const consumer = kafkaFor(this.connection, groupId).consumer({
        groupId,
        readUncommitted: this.readUncommitted,
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: 250,
        sessionTimeout: 15_000,
        heartbeatInterval: 1_000,
        retry: { initialRetryTime: 200, maxRetryTime: 2_000, retries: 8, restartOnFailure: async () => true },
      });
      this.consumer = consumer;
      let gaveUp!: () => void;
      const crashed = new Promise<void>((r) => (gaveUp = r));
      consumer.on(consumer.events.CRASH, (e) => {
        this.onError(`${this.label}: ${e.payload.error.message}`);
        if (!e.payload.restart) gaveUp();
      });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        this.joined = true;
        this.markReady();
      });
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        const p = e.payload.partition, last = BigInt(e.payload.lastOffset);
        if ((this.position.get(p) ?? -1n) < last) this.position.set(p, last);
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: this.topic, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const now = Date.now();
            this.onRecords(batch.messages.map((message) => ({ partition: batch.partition, message })), now);
          },
        });
        await Promise.race([crashed, this.stoppedSignal]);
      } catch (e) {
        this.onError(`${this.label}: ${(e as Error).message}`);
      }
      await withTimeout(consumer.disconnect(), STOP_TIMEOUT_MS);
      if (!this.stopped) await Promise.race([sleep(1_000), this.stoppedSignal]);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.markStopped();
    // One bound for both: a consumer still retrying its connect may not answer disconnect() promptly.
    await withTimeout(Promise.all([this.consumer?.disconnect(), this.loopDone]), STOP_TIMEOUT_MS);
  }
}

/** Offsets a read_committed reader must pass to have seen everything committed now (last stable offset − 1). */
async function committedEnds(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.offset) - 1n]));
}

function caughtUp(position: Map<number, bigint>, ends: Map<number, bigint>): boolean {
  for (const [p, last] of ends) if (last >= 0n && (position.get(p) ?? -1n) < last) return false;
  return true;
}

/** Starts reading <ns>.decisions now (before the load), so seenAtMs is when the decision became visible. */
export function startDecisionWatch(opts: DecisionWatchOptions): DecisionWatch {
  const topic = topicsFor(opts.ns).decisions;
  const terminal = terminalDecisionTypes(opts.confirms);
  const committed = new Map<string, ObservedDecision>();
  const malformed = new Map<string, { partition: number; offset: string; reason: string }>();
  const uncommitted = new Map<string, { partition: number; offset: string; value: string | null }>();
  const decidedOrders = new Set<string>();
  const warnings = new Set<string>();
  let lastRecordAtMs = 0;
  let pending: Set<string> | undefined;

  const warn = (m: string) => { if (warnings.size < 20) warnings.add(m); };
  const onCommitted = (records: RawRecord[], now: number) => {
    for (const { partition, message } of records) {
      const k = key(partition, message.offset);
      if (committed.has(k) || malformed.has(k)) continue; // re-read after a restart: keep the first sighting
      lastRecordAtMs = now;
      const r = parseJson(decisionSchema, message.value);
      if (!r.ok) {
        malformed.set(k, { partition, offset: message.offset, reason: r.reason });
        continue;
      }
      committed.set(k, { event: r.value, seenAtMs: now, recordTimestampMs: Number(message.timestamp), partition, offset: message.offset });
      if (terminal.has(r.value.type)) {
        decidedOrders.add(r.value.orderId);
        pending?.delete(r.value.orderId);
      }
    }
  };
  const onUncommitted = (records: RawRecord[]) => {
    for (const { partition, message } of records) {
      const k = key(partition, message.offset);
      if (!uncommitted.has(k)) uncommitted.set(k, { partition, offset: message.offset, value: message.value?.toString("utf8") ?? null });
    }
  };

  const label = opts.ns.slice(0, 150);
  const rc = new TopicReader(opts.connection, topic, false, `${label}.rc`, onCommitted, warn);
  const ru = opts.trackAborted === false ? undefined : new TopicReader(opts.connection, topic, true, `${label}.ru`, onUncommitted, warn);
  rc.start();
  ru?.start();

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= Promise.all([rc.stop(), ru?.stop()]).then(() => undefined));
  opts.signal?.addEventListener("abort", () => void stop(), { once: true });

  const aborted = (): Decision[] => {
    const out: Decision[] = [];
    for (const [k, u] of uncommitted) {
      if (committed.has(k) || malformed.has(k)) continue;
      // Only once the committed reader has passed the offset: beyond it the transaction may still commit.
      if ((rc.position.get(u.partition) ?? -1n) < BigInt(u.offset)) continue;
      const r = parseJson(decisionSchema, u.value);
      if (r.ok) out.push(r.value);
    }
    return out;
  };

  const done = async (deadlineMs: number, d: DoneOptions): Promise<CollectResult> => {
    const quietMs = d.quietMs ?? DEFAULT_QUIET_MS;
    const owed = mustBeDecided(d.orders);
    pending = new Set([...owed].filter((id) => !decidedOrders.has(id)));
    const admin = kafkaFor(opts.connection, `oversell-checker.${label}.admin`).admin();
    let ends: Map<number, bigint> | undefined;
    const fetchEnds = (async () => {
      while (!ends && Date.now() < deadlineMs && !stopping) {
        try {
          await admin.connect();
          ends = await committedEnds(admin, topic);
        } catch (e) {
          warn(`end offsets of ${topic}: ${(e as Error).message}`);
          await sleep(500);
        }
      }
    })();

    let settledAt: number | undefined;
    let lastProgress = -1;
    for (;;) {
      const now = Date.now();
      if (d.onProgress && owed.size - pending.size !== lastProgress) {
        lastProgress = owed.size - pending.size;
        d.onProgress(lastProgress, owed.size);
      }
      if (now >= deadlineMs || d.signal?.aborted || opts.signal?.aborted || stopping) break;
      if (pending.size === 0 && ends && caughtUp(rc.position, ends)) {
        settledAt ??= now;
        const quiet = now - Math.max(settledAt, lastRecordAtMs) >= quietMs;
        // Give the read_uncommitted reader a bounded chance to pass where the committed one is.
        const abortedSeen = !ru || caughtUp(ru.position, rc.position) || now - settledAt >= quietMs + 5_000;
        if (quiet && abortedSeen) break;
      }
      await sleep(Math.min(TICK_MS, Math.max(1, deadlineMs - now)));
    }
    const drainEndedAtMs = Date.now();
    if (!rc.joined) warn(`the read_committed consumer of ${topic} never joined its group: broker unreachable or topic missing`);
    await Promise.all([stop(), withTimeout(admin.disconnect(), STOP_TIMEOUT_MS), withTimeout(fetchEnds, STOP_TIMEOUT_MS)]);

    const decisions = [...committed.values()].sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
    const malformedDecisions = [...malformed.values()].sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
    const undecided = [...pending];
    return { decisions, malformedDecisions, abortedDecisions: aborted(), drainEndedAtMs, drainComplete: undecided.length === 0, undecided, warnings: [...warnings] };
  };

  return {
    ready: rc.ready,
    waitReady: async (timeoutMs) => (await withTimeout(rc.ready.then(() => true), timeoutMs)) ?? false,
    seen: () => committed.size,
    done,
    stop,
  };
}

/** Reads <ns>.decisions from the beginning until every owed order is decided (plus a quiet period) or the deadline. */
export async function collectDecisions(opts: CollectOptions): Promise<CollectResult> {
  const watch = startDecisionWatch({ connection: opts.connection, ns: opts.ns, confirms: opts.confirms, signal: opts.signal });
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
export async function findOrdersInTopic(connection: Connection, ns: string, orderIds: string[], timeoutMs: number): Promise<Set<string>> {
  const found = new Set<string>();
  if (orderIds.length === 0) return found;
  const wanted = new Set(orderIds);
  const topic = topicsFor(ns).orders;
  const deadline = Date.now() + timeoutMs;
  const onRecords = (records: RawRecord[]) => {
    for (const { message } of records) {
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
  const reader = new TopicReader(connection, topic, false, `${ns.slice(0, 150)}.orders`, onRecords, () => {});
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
