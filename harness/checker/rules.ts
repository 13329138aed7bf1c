// The checker's rules that more than one stage needs (the drain, the judge, the report): one definition each.
import { DECISION_TYPES, type DecisionType } from "../../systems-under-test/contract/events.ts";
import type { CheckName, SentOrder } from "./types.ts";

/** Decision types by index: the judge keeps per-type counts in typed arrays. */
export const TYPE_INDEX: Readonly<Record<DecisionType, number>> = Object.fromEntries(
  DECISION_TYPES.map((t, i) => [t, i]),
) as Record<DecisionType, number>;
export const RESERVED = TYPE_INDEX.OrderReserved;
export const REJECTED = TYPE_INDEX.OrderRejected;
export const CONFIRMED = TYPE_INDEX.OrderConfirmed;
export const CANCELLED = TYPE_INDEX.OrderCancelled;
export const EXPIRED = TYPE_INDEX.ReservationExpired;

/** Terminal decision types: what ends an order's life (OrderReserved only for non-confirming SUTs). */
export function terminalDecisionTypes(confirms: boolean): ReadonlySet<DecisionType> {
  // confirms:false: OrderReserved is final; any other type is a decision too (a protocol breach shows as a conflict).
  return new Set<DecisionType>(
    confirms
      ? ["OrderConfirmed", "OrderCancelled", "ReservationExpired", "OrderRejected"]
      : ["OrderReserved", "OrderRejected", "OrderConfirmed", "OrderCancelled", "ReservationExpired"],
  );
}

/** The same rule as a mask over TYPE_INDEX bits. */
export function terminalMask(confirms: boolean): number {
  let m = 0;
  for (const t of terminalDecisionTypes(confirms)) m |= 1 << TYPE_INDEX[t];
  return m;
}

/** Send statuses by rank: a later, higher status of one orderId wins (acked > unknown > failed > unsent). */
export const STATUS_NAMES = ["unsent", "failed", "unknown", "acked"] as const satisfies readonly SentOrder["status"][];
export const STATUS_CODE: Readonly<Record<SentOrder["status"], number>> = {
  unsent: 0,
  failed: 1,
  unknown: 2,
  acked: 3,
};

/** Owed a decision: acknowledged, or timed out but found in <ns>.orders. */
export function isOwed(status: SentOrder["status"], inTopic: boolean | undefined): boolean {
  return status === "acked" || (status === "unknown" && inTopic === true);
}

/** Orders the SUT owes a decision. */
export function mustBeDecided(orders: SentOrder[]): Set<string> {
  const ids = new Set<string>();
  for (const o of orders) if (isOwed(o.status, o.inTopic)) ids.add(o.orderId);
  return ids;
}

/** Checks that only mean something if the SUT had a chance to finish: undecided is not wrong while it is down. */
export const LIVENESS_CHECKS: readonly CheckName[] = ["lost", "stuck"];
/** Reported, never judged. */
export const INFO_CHECKS: readonly CheckName[] = ["aborted-read"];

export const MAX_EXAMPLES = 10;
export const MAX_PRODUCTS = 500;
/** Grace after the reservation TTL before an open reservation counts as stuck, when the input gives none. */
export const DEFAULT_STUCK_GRACE_MS = 2_000;
/** Series buckets beyond this (one per second) are dropped: a bad clock must not make a huge result. */
export const MAX_SERIES_BUCKETS = 7_200;
