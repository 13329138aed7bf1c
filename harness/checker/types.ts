// The checker's input and output: what the harness saw (history) and what the SUT committed.
// Pure data, so invariants can be unit-tested on synthetic logs.
import type { Decision } from "../../systems-under-test/contract/events.ts";

/** What the harness did with one order (from history.ndjson). */
export interface SentOrder {
  orderId: string;
  productId: string;
  quantity: number;
  /** false for a poison pill / contract-breaking order (bad JSON, quantity <= 0, unknown product...). */
  valid: boolean;
  invalidKind?: string;
  /** Intended send time, ms since the epoch (open-loop schedule). */
  intendedAtMs: number;
  sentAtMs?: number;
  ackAtMs?: number;
  /** acked: broker acknowledged; failed: broker refused for sure; unknown: timeout, may or may not be stored. */
  status: "acked" | "failed" | "unknown" | "unsent";
  /** For status unknown: whether the order was found in <ns>.orders afterwards. */
  inTopic?: boolean;
  /** A retry of an earlier orderId (same order sent twice on purpose): decided once. */
  duplicateSend?: boolean;
  /** Where the broker stored it in <ns>.orders (from the ack): orders behind a poison pill on one partition. */
  partition?: number;
  offset?: string;
}

/** One decision record read from <ns>.decisions. */
export interface ObservedDecision {
  event: Decision;
  /** When the checker first saw it (ms since the epoch) — committed reads only. */
  seenAtMs: number;
  /** Kafka record timestamp (producer CreateTime). */
  recordTimestampMs: number;
  partition: number;
  offset: string;
}

/** One restock send: when the harness started sending it (epoch ms) and how many units. */
export interface RestockSend {
  sentAtMs: number;
  quantity: number;
}

export interface ProductStock {
  productId: string;
  initial: number;
  /** Acknowledged restocks (S(p) = initial + restocked). */
  restocked: number;
  /**
   * Every restock send of the product, acknowledged or not (a refused one may still be stored), with its send
   * start: what oversell-in-time counts as available from then on. Absent: the times are unknown (a history
   * written before they were recorded), and the product is not judged in time when it had restocks.
   */
  restocks?: RestockSend[];
}

export interface CheckInput {
  confirms: boolean;
  claims: Invariant[];
  products: ProductStock[];
  orders: SentOrder[];
  /** read_committed, in partition order. */
  decisions: ObservedDecision[];
  /** Malformed records on <ns>.decisions: kept as evidence, never a crash. */
  malformedDecisions: { partition: number; offset: string; reason: string }[];
  /** Decisions seen with read_uncommitted that never became committed (aborted-read, info only). */
  abortedDecisions: Decision[];
  /** For confirming SUTs: reservation TTL, plus grace, after which an open reservation is stuck. */
  reservationTtlMs?: number;
  stuckGraceMs?: number;
  /** The scenario's warmupMs: orders intended in it are left out of latency and throughput. */
  warmupMs?: number;
  /** When the checker stopped reading (end of drain). */
  drainEndedAtMs: number;
  /** False when the drain deadline passed with acknowledged orders undecided. */
  drainComplete: boolean;
  /** Invariants the checker must catch for this SUT (manifest expectedViolations). */
  expectedViolations: Invariant[];
  /**
   * False when no SUT instance was running at the end of the drain: undecided orders then make the verdict unknown, not
   * fail.
   */
  sutRunning: boolean;
  /** Fault windows, so latency/throughput can be marked. */
  faults: FaultWindow[];
}

export interface FaultWindow {
  kind: string;
  target: string;
  /** ms since the epoch */
  at: number;
  until: number;
}

/** oversell-in-time: the instant a product was certainly oversold, and the stock then. */
export interface InTimeInstant {
  atMs: number;
  /** Initial stock + restocks whose send started by then (widened by the margin). */
  stock: number;
  /** Units held by orders certainly committed and certainly not yet released then. */
  held: number;
  /** Restock sends counted in `stock`. */
  restocksBefore: number;
}

export interface Violation {
  count: number;
  /** A few examples with evidence: orderIds/productIds and the events involved. */
  examples: { id: string; detail: string; events?: unknown[]; instant?: InTimeInstant }[];
}

/** The invariants a SUT can claim (sut.json `claims`, `expectedViolations`): the one list of their names. */
export const INVARIANTS = [
  "oversell",
  "oversell-in-time",
  "duplicate",
  "conflict",
  "lost",
  "phantom",
  "false-rejection",
  "stuck",
  "invalid-accepted",
] as const;
export type Invariant = (typeof INVARIANTS)[number];
/** Every check the checker reports: the invariants, then the information-only ones. */
export const ALL_CHECKS = [...INVARIANTS, "aborted-read"] as const;
export type CheckName = (typeof ALL_CHECKS)[number];
