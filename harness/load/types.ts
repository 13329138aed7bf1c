// What a load driver reports, whichever way it delivers the orders.
import type { Connection } from "../../systems-under-test/contract/connection.ts";
import type { GeneratedOrder } from "../scenario/generate.ts";
import type { OrderSource } from "./schedule.ts";

export interface LoadCallbacks {
  /** The order left the harness at sentAtMs (its value carries that time). */
  onSent?: (o: GeneratedOrder, intendedAtMs: number, sentAtMs: number) => void;
  onAck?: (o: GeneratedOrder, ack: { partition?: number; offset?: string; ackAtMs: number }) => void;
  onError?: (o: GeneratedOrder, err: { status: "failed" | "unknown"; error: string; atMs: number }) => void;
}

export interface LoadStats {
  planned: number;
  sent: number;
  acked: number;
  failed: number;
  unknown: number;
  /** Sends without an outcome yet. */
  pending: number;
  maxSendDelayMs: number;
  /** The driver could not keep the schedule (see harness/load/harness-bound.ts): the rate is the harness's limit. */
  harnessBound: boolean;
  harnessBoundReason?: string;
  /** p99 of actual − intended send, over the orders intended after the producers were ready. */
  sendDelayP99Ms?: number;
  /** p99 wait of a record in a producer worker's queue before its send began (kafka driver). */
  queueDelayP99Ms?: number;
}

export interface LoadOptions extends LoadCallbacks {
  connection: Connection;
  ns: string;
  /** Sorted by offsetMs. Read only through length and at(i) (a compact table may stand in for the array). */
  orders: OrderSource<GeneratedOrder>;
  /** Kafka driver: producer worker threads (default DEFAULT_PRODUCERS, at most the partition count). */
  producers?: number;
  /**
   * Epoch ms of offset 0 (may be slightly in the future), or a function the driver calls once it is ready to send:
   * its setup (producer threads) can take seconds on a loaded machine, and a schedule that starts late sends its
   * first seconds at once (orders and restocks would then no longer come in their planned order).
   */
  t0: number | (() => number);
  /** After this long without an acknowledgement a send counts as unknown (a late ack still counts). */
  ackTimeoutMs?: number;
}

export interface LoadHandle {
  /** Epoch ms of offset 0, as the driver fixed it. */
  readonly t0: number;
  readonly stats: LoadStats;
  /** Resolves when every order was sent and each has an outcome (ack, error or timeout). */
  readonly done: Promise<LoadStats>;
  /** Stops sending (Ctrl-C, a fatal error); done still resolves. */
  abort(): void;
  /** The http driver with `decisions`: what the client saw of each order's decision (GET /orders/:id). */
  readonly clientDecisions?: ClientDecisions;
}

/** Client-side outcome of the decision long polls, one per accepted order. */
export interface ClientDecisionStats {
  /** Accepted orders queued for a poll. */
  polled: number;
  /** A final decision came back (200). */
  decided: number;
  /** No decision by the order's deadline (or settle gave up on it). */
  timedOut: number;
  /** Not polled: the poll queue was full (memory bound). */
  skipped: number;
  /** Failed poll requests (each retried until the deadline). */
  errors: number;
  /** Orders still being polled. */
  open: number;
}

export interface ClientDecisionSummary {
  /** Decision latency as the client sees it: answer received − intended send (µs percentiles). */
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number; count?: number; mean?: number };
  polls: ClientDecisionStats;
}

export interface ClientDecisions {
  readonly stats: ClientDecisionStats;
  /**
   * Waits until every polled order has an outcome or untilMs passes, gives up on the rest (timedOut), closes the polls.
   */
  settle(untilMs: number): Promise<ClientDecisionSummary>;
}

export function emptyStats(planned: number): LoadStats {
  return { planned, sent: 0, acked: 0, failed: 0, unknown: 0, pending: 0, maxSendDelayMs: 0, harnessBound: false };
}

/** The load's offset 0, fixed when the driver is ready to send. */
export function startTime(t0: LoadOptions["t0"]): number {
  return typeof t0 === "function" ? t0() : t0;
}
