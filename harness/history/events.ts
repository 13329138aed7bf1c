// The lines of history.ndjson. Every line has `type` and `t` (ms since the epoch when written).
// Order lines carry `sut` and the stream index `seq` (an honest retry reuses an orderId, not a seq).
// The zod schemas are what a line is checked against when read back (read.ts); the types follow from them.
import { z } from "zod";

const t = z.number();
const sut = z.string();
const verdict = z.enum(["pass", "fail", "unknown"]);
const driver = z.enum(["kafka", "http"]);

export const runStartSchema = z.object({
  type: z.literal("run-start"),
  t,
  runId: z.string(),
  seed: z.number(),
  scenario: z.looseObject({ name: z.string() }),
  kafka: z.object({
    bootstrap: z.string(),
    brokers: z.number(),
    embedded: z.boolean(),
    version: z.string().optional(),
  }),
  /** describeConnection(): no secret. */
  connection: z.string(),
  suts: z.array(z.string()),
  driver,
  faults: z.string().optional(),
  command: z.string().optional(),
});

export const sutStartSchema = z.object({
  type: z.literal("sut-start"),
  t,
  sut,
  ns: z.string(),
  instances: z.number(),
  confirms: z.boolean(),
  claims: z.array(z.string()),
  expectedViolations: z.array(z.string()),
  description: z.string().optional(),
  reservationTtlMs: z.number().optional(),
  partitions: z.number(),
  /** The Kafka client the instances ran on (SUTs with a `client` setting). */
  client: z.object({ name: z.string(), version: z.string() }).optional(),
});

export const stockLineSchema = z.object({
  type: z.literal("stock"),
  t,
  sut,
  event: z.enum(["StockSet", "StockAdded"]),
  items: z.array(z.object({ productId: z.string(), quantity: z.number() })),
  /** Intended time (restocks: load start + offset). */
  intendedAtMs: z.number().optional(),
  /**
   * When the harness started sending it (restocks): no SUT can use these units earlier (oversell-in-time).
   * Absent in histories written before it was recorded.
   */
  sentAtMs: z.number().optional(),
  status: z.enum(["acked", "failed"]),
  error: z.string().optional(),
});

export const loadStartSchema = z.object({
  type: z.literal("load-start"),
  t,
  sut,
  loadStartMs: z.number(),
  orders: z.number(),
  driver,
});

export const sentSchema = z.object({
  type: z.literal("sent"),
  t,
  sut,
  seq: z.number().int().nonnegative(),
  orderId: z.string(),
  productId: z.string(),
  quantity: z.number(),
  valid: z.boolean(),
  kind: z.string(),
  invalidKind: z.string().optional(),
  duplicateSend: z.boolean().optional(),
  intendedAtMs: z.number(),
  sentAtMs: z.number(),
});

export const ackSchema = z.object({
  type: z.literal("ack"),
  t,
  sut,
  seq: z.number().int().nonnegative(),
  orderId: z.string(),
  partition: z.number().optional(),
  offset: z.string().optional(),
  ackAtMs: z.number(),
});

export const sendErrorSchema = z.object({
  type: z.literal("send-error"),
  t,
  sut,
  seq: z.number().int().nonnegative(),
  orderId: z.string(),
  /** failed: refused for sure; unknown: timeout or lost connection, may be stored. */
  status: z.enum(["failed", "unknown"]),
  error: z.string(),
  atMs: z.number(),
});

export const loadEndSchema = z.object({
  type: z.literal("load-end"),
  t,
  sut,
  sent: z.number(),
  acked: z.number(),
  failed: z.number(),
  unknown: z.number(),
  /** The driver itself fell behind its schedule (harness/load/harness-bound.ts): not the SUT's limit. */
  harnessBound: z.boolean().optional(),
  harnessBoundReason: z.string().optional(),
});

export const faultSchema = z.object({
  type: z.enum(["fault-start", "fault-end"]),
  t,
  sut,
  kind: z.string(),
  target: z.string(),
  atMs: z.number(),
  detail: z.string(),
});

export const drainEndSchema = z.object({
  type: z.literal("drain-end"),
  t,
  sut,
  complete: z.boolean(),
  undecided: z.number(),
  sutRunning: z.boolean(),
});

export const sutEndSchema = z.object({
  type: z.literal("sut-end"),
  t,
  sut,
  verdict,
  verdictReason: z.string().optional(),
  crashes: z.array(z.object({ instance: z.string(), code: z.number().nullable() })).optional(),
});

export const runEndSchema = z.object({ type: z.literal("run-end"), t, verdict });
export const interruptedSchema = z.object({ type: z.literal("interrupted"), t, signal: z.string() });
export const errorSchema = z.object({ type: z.literal("error"), t, sut: sut.optional(), message: z.string() });

export const historyEventSchema = z.union([
  sentSchema,
  ackSchema,
  sendErrorSchema,
  runStartSchema,
  sutStartSchema,
  stockLineSchema,
  loadStartSchema,
  loadEndSchema,
  faultSchema,
  drainEndSchema,
  sutEndSchema,
  runEndSchema,
  interruptedSchema,
  errorSchema,
]);

export type RunStartEvent = z.infer<typeof runStartSchema>;
export type SutStartEvent = z.infer<typeof sutStartSchema>;
export type StockEvent = z.infer<typeof stockLineSchema>;
export type LoadStartEvent = z.infer<typeof loadStartSchema>;
export type SentEvent = z.infer<typeof sentSchema>;
export type AckEvent = z.infer<typeof ackSchema>;
export type SendErrorEvent = z.infer<typeof sendErrorSchema>;
export type LoadEndEvent = z.infer<typeof loadEndSchema>;
export type FaultEvent = z.infer<typeof faultSchema>;
export type DrainEndEvent = z.infer<typeof drainEndSchema>;
export type SutEndEvent = z.infer<typeof sutEndSchema>;
export type RunEndEvent = z.infer<typeof runEndSchema>;
export type InterruptedEvent = z.infer<typeof interruptedSchema>;
export type ErrorEvent = z.infer<typeof errorSchema>;
export type HistoryEvent = z.infer<typeof historyEventSchema>;
