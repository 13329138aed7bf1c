// The lines of history.ndjson. Every line has `type` and `t` (ms since the epoch when written).
// Order lines carry `sut` and the stream index `seq` (an honest retry reuses an orderId, not a seq).

export interface RunStartEvent {
  type: "run-start";
  t: number;
  runId: string;
  seed: number;
  scenario: Record<string, unknown> & { name: string };
  kafka: { bootstrap: string; brokers: number; embedded: boolean; version?: string };
  /** describeConnection(): no secret. */
  connection: string;
  suts: string[];
  driver: "kafka" | "http";
  faults?: string;
  command?: string;
}

export interface SutStartEvent {
  type: "sut-start";
  t: number;
  sut: string;
  ns: string;
  instances: number;
  confirms: boolean;
  claims: string[];
  expectedViolations: string[];
  description?: string;
  reservationTtlMs?: number;
  partitions: number;
}

export interface StockEvent {
  type: "stock";
  t: number;
  sut: string;
  event: "StockSet" | "StockAdded";
  items: { productId: string; quantity: number }[];
  /** Intended time (restocks: load start + offset). */
  intendedAtMs?: number;
  status: "acked" | "failed";
  error?: string;
}

export interface LoadStartEvent {
  type: "load-start";
  t: number;
  sut: string;
  loadStartMs: number;
  orders: number;
  driver: "kafka" | "http";
}

export interface SentEvent {
  type: "sent";
  t: number;
  sut: string;
  seq: number;
  orderId: string;
  productId: string;
  quantity: number;
  valid: boolean;
  kind: string;
  invalidKind?: string;
  duplicateSend?: boolean;
  intendedAtMs: number;
  sentAtMs: number;
}

export interface AckEvent {
  type: "ack";
  t: number;
  sut: string;
  seq: number;
  orderId: string;
  partition?: number;
  offset?: string;
  ackAtMs: number;
}

export interface SendErrorEvent {
  type: "send-error";
  t: number;
  sut: string;
  seq: number;
  orderId: string;
  /** failed: refused for sure; unknown: timeout or lost connection, may be stored. */
  status: "failed" | "unknown";
  error: string;
  atMs: number;
}

export interface LoadEndEvent {
  type: "load-end";
  t: number;
  sut: string;
  sent: number;
  acked: number;
  failed: number;
  unknown: number;
}

export interface FaultEvent {
  type: "fault-start" | "fault-end";
  t: number;
  sut: string;
  kind: string;
  target: string;
  atMs: number;
  detail: string;
}

export interface DrainEndEvent {
  type: "drain-end";
  t: number;
  sut: string;
  complete: boolean;
  undecided: number;
  sutRunning: boolean;
}

export interface SutEndEvent {
  type: "sut-end";
  t: number;
  sut: string;
  verdict: "pass" | "fail" | "unknown";
  verdictReason?: string;
  crashes?: { instance: string; code: number | null }[];
}

export interface RunEndEvent {
  type: "run-end";
  t: number;
  verdict: "pass" | "fail" | "unknown";
}

export interface InterruptedEvent {
  type: "interrupted";
  t: number;
  signal: string;
}

export interface ErrorEvent {
  type: "error";
  t: number;
  sut?: string;
  message: string;
}

export type HistoryEvent =
  | RunStartEvent
  | SutStartEvent
  | StockEvent
  | LoadStartEvent
  | SentEvent
  | AckEvent
  | SendErrorEvent
  | LoadEndEvent
  | FaultEvent
  | DrainEndEvent
  | SutEndEvent
  | RunEndEvent
  | InterruptedEvent
  | ErrorEvent;
