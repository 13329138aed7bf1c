// The invariants of docs (harness/checker/README.md) evaluated on what the harness sent and what the SUT
// committed, all in memory: the streaming judge fed from arrays. Pure: no Kafka, no clock; the same input
// always gives the same Evaluation. Runs use the same judge fed as decisions arrive (see judge.ts).
import { OrderBook } from "./book.ts";
import { explain, finish, type Evaluation, type JudgeContext } from "./evaluation.ts";
import { Judge } from "./judge.ts";
import type { CheckInput, ObservedDecision } from "./types.ts";

export { DEFAULT_STUCK_GRACE_MS, MAX_EXAMPLES, MAX_PRODUCTS, MAX_SERIES_BUCKETS } from "./rules.ts";
export type { Evaluation } from "./evaluation.ts";

function offsetKey(d: ObservedDecision): bigint {
  try {
    return BigInt(d.offset);
  } catch {
    return 0n;
  }
}

/** Partition order, offset order within a partition: how a reader delivers them. */
function inReadOrder(ds: readonly ObservedDecision[]): ObservedDecision[] {
  return [...ds].sort((a, b) => {
    if (a.partition !== b.partition) return a.partition - b.partition;
    const x = offsetKey(a),
      y = offsetKey(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

export function contextOf(input: CheckInput): JudgeContext {
  return {
    claims: input.claims,
    expectedViolations: input.expectedViolations,
    reservationTtlMs: input.reservationTtlMs,
    stuckGraceMs: input.stuckGraceMs,
    warmupMs: input.warmupMs,
    drainEndedAtMs: input.drainEndedAtMs,
    drainComplete: input.drainComplete,
    sutRunning: input.sutRunning,
    malformedDecisions: input.malformedDecisions.length,
    abortedDecisions: input.abortedDecisions,
  };
}

export function evaluate(input: CheckInput): Evaluation {
  const judge = new Judge(OrderBook.fromSentOrders(input.orders), {
    confirms: input.confirms,
    // A synthetic input without restock times and without restocks has none.
    products: input.products.map((p) => (p.restocks || p.restocked > 0 ? p : { ...p, restocks: [] })),
  });
  for (const d of inReadOrder(input.decisions)) judge.decide(d.event, d.partition, d.seenAtMs, d.recordTimestampMs);
  const judged = finish(judge, contextOf(input));
  const wanted = new Set(judged.pending.map((p) => p.id));
  const byOrder = new Map<string, ObservedDecision[]>();
  for (const d of input.decisions) {
    if (!wanted.has(d.event.orderId)) continue;
    const list = byOrder.get(d.event.orderId);
    if (list) list.push(d);
    else byOrder.set(d.event.orderId, [d]);
  }
  return explain(judged, byOrder);
}
