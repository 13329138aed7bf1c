// The judge stage bench and check share: one SUT's orders in a book (from the generated stream and the
// history), its decisions judged as they arrive (from the topic, or from the run folder's record), and
// the result. bench and `check --from-topics` write the record; `check` reads it back with no broker.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Connection } from "../../systems-under-test/contract/connection.ts";
import type { Decision } from "../../systems-under-test/contract/events.ts";
import {
  explain,
  finish,
  findOrdersInTopic,
  Judge,
  OrderBook,
  startDecisionWatch,
  type CollectResult,
  type DecisionSink,
  type DecisionWatch,
  type Evaluation,
  type FaultWindow,
  type ObservedDecision,
} from "../checker/index.ts";
import { crossCheck, describeCrossCheck, type CrossCheckResult } from "../checker/cross-check.ts";
import { DecisionStore, readStore, scratchStoreFile, storeFile, type StoreEnd } from "../checker/store.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { readSutOrders, type SutMeta } from "../history/read.ts";
import type { SutResult } from "../report/result-schema.ts";
import type { GeneratedStream } from "../scenario/generate.ts";
import { evaluatedResult, type SutBase } from "./results.ts";

/** Feeds the judge; `seenFromRecordTime`: a re-read long after the run uses the record's CreateTime as "seen". */
class JudgeSink implements DecisionSink {
  malformedCount = 0;
  constructor(
    private readonly judge: Judge,
    private readonly seenFromRecordTime = false,
  ) {}

  decision(d: Decision, partition: number, _offset: string, seenAtMs: number, recordTimestampMs: number): void {
    this.judge.decide(d, partition, this.seenFromRecordTime ? recordTimestampMs : seenAtMs, recordTimestampMs);
  }

  malformed(): void {
    this.malformedCount++;
  }
}

export interface SutRef {
  name: string;
  ns: string;
  confirms: boolean;
}

/** How the drain ended, whichever way the decisions were read. */
export interface DrainOutcome {
  drainEndedAtMs: number;
  drainComplete: boolean;
  undecided: number;
  aborted: Decision[];
  malformed: number;
  warnings: string[];
  /** Live reads only: per partition, the offset the committed reader passed (the cross-check reads as far). */
  readThrough?: Map<number, bigint>;
}

export class SutJudging {
  readonly book: OrderBook;
  readonly judge: Judge;
  readonly sink: JudgeSink;
  private watch?: DecisionWatch;
  private store?: DecisionStore;

  /** From the generated stream (bench, check of a run folder), or a book read elsewhere (the orders topic). */
  constructor(
    stream: GeneratedStream | OrderBook,
    readonly sut: SutRef,
    seenFromRecordTime = false,
  ) {
    this.book = stream instanceof OrderBook ? stream : OrderBook.fromStream(stream);
    this.judge = new Judge(this.book, { confirms: sut.confirms, products: [], seenIsLive: !seenFromRecordTime });
    this.sink = new JudgeSink(this.judge, seenFromRecordTime);
  }

  /** Starts reading <ns>.decisions (bench: before the load), recording what is read in `file`. */
  watchTopic(connection: Connection, file: string): DecisionWatch {
    this.store = new DecisionStore(
      file,
      { sut: this.sut.name, ns: this.sut.ns, confirms: this.sut.confirms },
      this.sink,
    );
    this.watch = startDecisionWatch({ connection, ns: this.sut.ns, confirms: this.sut.confirms, sink: this.store });
    return this.watch;
  }

  /** What the history says happened to each order, and the stock that was acknowledged. */
  async readHistory(historyFile: string, meta: SutMeta): Promise<void> {
    await readSutOrders(historyFile, meta, this.book);
    this.judge.setStock(meta.products);
  }

  /**
   * Orders whose send timed out: are they in <ns>.orders (then owed a decision)? With `cutShort` (no sut-end
   * line: the harness died mid-load) unsent orders are looked up too, as their lines may be lost.
   */
  async lookUpUnknown(connection: Connection, cutShort = false): Promise<number> {
    const ids: string[] = [];
    for (let i = 0; i < this.book.size; i++) {
      const st = this.book.statusOf(i);
      if (st === "unknown" || (cutShort && st === "unsent")) ids.push(this.book.orderId(i));
    }
    if (ids.length === 0) return 0;
    const found = await findOrdersInTopic(connection, this.sut.ns, ids, 20_000);
    this.applyFound(found, cutShort);
    this.store?.inTopic(found);
    return ids.length;
  }

  applyFound(found: ReadonlySet<string>, cutShort = false): void {
    for (let i = 0; i < this.book.size; i++) {
      const st = this.book.statusOf(i),
        hit = found.has(this.book.orderId(i));
      if (st === "unknown") this.book.setInTopic(i, hit);
      else if (st === "unsent" && cutShort && hit) {
        this.book.failed(i, "unknown");
        this.book.setInTopic(i, true);
      }
    }
  }

  /** Drains the topic until every owed order is decided (or the deadline); closes the record. */
  async drain(
    deadlineMs: number,
    onProgress?: (decided: number, expected: number) => void,
    quietMs?: number,
  ): Promise<DrainOutcome> {
    if (!this.watch || !this.store) throw new Error("SutJudging.drain before watchTopic");
    const owed = this.judge.owe();
    const res: CollectResult = await this.watch.done(deadlineMs, {
      pending: () => this.judge.pending,
      owed: owed + 0,
      onProgress,
      quietMs,
    });
    const out: DrainOutcome = {
      drainEndedAtMs: res.drainEndedAtMs,
      drainComplete: res.drainComplete,
      undecided: res.undecidedCount,
      aborted: res.abortedDecisions,
      malformed: this.sink.malformedCount,
      warnings: res.warnings,
    };
    await this.store.close({ ...out, aborted: out.aborted });
    out.readThrough = res.readThrough;
    return out;
  }

  async stop(): Promise<void> {
    await this.watch?.stop().catch(() => {});
    this.store?.abandon();
  }

  /** Offline: decisions, look-ups and the drain's end from a stored record (no broker). */
  async replay(file: string): Promise<DrainOutcome> {
    const aborted: Decision[] = [];
    const found = new Set<string>();
    const { end } = await readStore(file, {
      decision: (d, p, o, seen, ts) => this.sink.decision(d, p, o, seen, ts),
      malformed: () => this.sink.malformed(),
      aborted: (d) => aborted.push(d),
      inTopic: (ids) => ids.forEach((id) => found.add(id)),
    });
    this.applyFound(found);
    return outcomeOf(end, aborted);
  }

  /** The verdict and figures; examples explained from the record's decisions of just those orders. */
  async evaluate(
    file: string,
    ctx: {
      claims: SutBase["sut"]["claims"];
      expectedViolations: SutBase["sut"]["expectedViolations"];
      reservationTtlMs?: number;
      warmupMs?: number;
      sutRunning: boolean;
      drain: DrainOutcome;
    },
  ): Promise<Evaluation> {
    const judged = finish(this.judge, {
      claims: [...ctx.claims],
      expectedViolations: [...ctx.expectedViolations],
      reservationTtlMs: ctx.reservationTtlMs,
      warmupMs: ctx.warmupMs,
      drainEndedAtMs: ctx.drain.drainEndedAtMs,
      drainComplete: ctx.drain.drainComplete,
      sutRunning: ctx.sutRunning,
      malformedDecisions: ctx.drain.malformed,
      abortedDecisions: ctx.drain.aborted,
    });
    const wanted = new Set(judged.pending.map((p) => p.id));
    const byOrder = new Map<string, ObservedDecision[]>();
    if (wanted.size > 0) {
      await readStore(
        file,
        {
          decision: (event, partition, offset, seenAtMs, recordTimestampMs) => {
            if (!wanted.has(event.orderId)) return;
            const d = { event, partition, offset, seenAtMs, recordTimestampMs };
            const list = byOrder.get(event.orderId);
            if (list) list.push(d);
            else byOrder.set(event.orderId, [d]);
          },
        },
        // Read in full before (replay) or written by this process (live): only the examples' lines are parsed.
        { orderIds: wanted },
      );
    }
    return explain(judged, byOrder);
  }
}

function outcomeOf(end: StoreEnd, aborted: Decision[]): DrainOutcome {
  return {
    drainEndedAtMs: end.drainEndedAtMs,
    drainComplete: end.drainComplete,
    undecided: end.undecided,
    aborted,
    malformed: end.malformed,
    warnings: end.warnings,
  };
}

/** Where a SUT's record goes in the run folder. */
export const recordFile = (runDir: string, sut: string) => join(runDir, storeFile(sut));
/** Where the cross-check's Java listing goes (`check` prefixes its own). */
export const crossCheckFile = (runDir: string, sut: string, prefix = "") =>
  join(runDir, `${prefix}${sut}.cross-check.tsv.gz`);

/** A scratch record (check --from-topics must not overwrite the run's own). */
export function scratchRecord(sut: string): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "oversell-recheck-"));
  return { file: join(dir, scratchStoreFile(sut)), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The result of one judged SUT: the same for bench and check. */
export function judgedResult(
  b: SutBase,
  ev: Evaluation,
  extra: { faults: FaultWindow[]; crashes?: SutResult["crashes"]; logs?: string[]; warnings: string[] },
): SutResult {
  return evaluatedResult(b, ev, {
    faults: extra.faults,
    crashes: extra.crashes && extra.crashes.length > 0 ? extra.crashes : undefined,
    ...(extra.logs ? { logs: extra.logs } : {}),
    warnings: extra.warnings.length > 0 ? extra.warnings : undefined,
  });
}

/** Decisions read from the topic now (bench, check --from-topics); watchTopic() was called before. */
export interface LiveSource {
  kind: "live";
  connection: Connection;
  file: string;
  deadlineMs: number;
  cutShort?: boolean;
  onProgress?: (decided: number, expected: number) => void;
  /** How long no record may come once all is read before the drain ends (default DEFAULT_QUIET_MS). */
  quietMs?: number;
  /** When the drain is taken to have ended (a re-check: the original drain's end), else now. */
  drainEndedAtMs?: number;
  /** Called once drained; returns whether a SUT instance was still running (lost vs unknown). */
  afterDrain(d: DrainOutcome): boolean;
  /** --cross-check: a second reader lists the committed records; the Java listing is kept in this file. */
  crossCheck?: { listingFile: string; onStart?: () => void };
}

/** Decisions from the run folder's record (check, offline). */
export interface RecordSource {
  kind: "record";
  file: string;
}

export interface JudgeStageArgs {
  base: SutBase;
  historyFile: string;
  meta: SutMeta;
  reservationTtlMs?: number;
  /** The scenario's warmupMs (latency and throughput leave it out). */
  warmupMs?: number;
  source: LiveSource | RecordSource;
  faults: FaultWindow[];
  crashes?: () => SutResult["crashes"];
  logs?: string[];
  warnings: string[];
}

/** History → book, decisions → judge (live or from the record), → the SUT's result. */
export async function judgeStage(j: SutJudging, a: JudgeStageArgs): Promise<SutResult> {
  await j.readHistory(a.historyFile, a.meta);
  let drain: DrainOutcome, sutRunning: boolean;
  let second: CrossCheckResult | undefined;
  if (a.source.kind === "live") {
    await j.lookUpUnknown(a.source.connection, a.source.cutShort);
    drain = await j.drain(a.source.deadlineMs, a.source.onProgress, a.source.quietMs);
    if (a.source.drainEndedAtMs !== undefined) drain = { ...drain, drainEndedAtMs: a.source.drainEndedAtMs };
    sutRunning = a.source.afterDrain(drain);
    if (a.source.crossCheck) {
      a.source.crossCheck.onStart?.();
      second = await crossCheck({
        connection: a.source.connection,
        topic: topicsFor(j.sut.ns).decisions,
        storeFile: a.source.file,
        readThrough: drain.readThrough ?? new Map(),
        listingFile: a.source.crossCheck.listingFile,
      });
    }
  } else {
    drain = await j.replay(a.source.file);
    sutRunning = a.meta.drainEnd?.sutRunning ?? false;
  }
  const ev = await j.evaluate(a.source.file, {
    ...a.base.sut,
    reservationTtlMs: a.reservationTtlMs,
    warmupMs: a.warmupMs,
    sutRunning,
    drain,
  });
  const res = judgedResult(a.base, ev, {
    faults: a.faults,
    crashes: a.crashes?.(),
    logs: a.logs,
    warnings: [...a.warnings, ...drain.warnings, ...(ev.inTime.note ? [`oversell-in-time: ${ev.inTime.note}`] : [])],
  });
  if (second) withCrossCheck(res, second);
  if (a.meta.loadEnd?.harnessBound) {
    res.throughput.harnessBound = true;
    res.throughput.harnessBoundReason = a.meta.loadEnd.harnessBoundReason;
  }
  return res;
}

/** The second reader's word on the result: a disagreement (or no word at all) is a harness error. */
export function withCrossCheck(res: SutResult, c: CrossCheckResult): void {
  const { listing: _l, ...kept } = c;
  res.crossCheck = kept;
  if (c.agreed) return;
  res.verdict = "unknown";
  res.verdictReason = `harness error: ${describeCrossCheck(c)}`;
  res.matchesExpectation = false;
}
