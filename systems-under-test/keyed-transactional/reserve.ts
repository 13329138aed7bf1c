// The owner's step, pure: one by-product record against the partition state gives the
// decision (if any) and the changelog entries; check and reserve happen together.
import type { Decision } from "../contract/index.ts";
import type { ByProduct, PartitionState } from "./records.ts";

export interface StepOutput {
  decision?: Decision;
  changelog: [key: string, value: object][];
}

export function step(state: PartitionState, rec: ByProduct, instance: string): StepOutput {
  if (rec.kind === "stock") {
    const e = rec.event;
    // Re-routed duplicates (at-least-once router, zombie) carry an offset already applied.
    if (rec.offset < (state.stockNext.get(rec.src) ?? 0)) return { changelog: [] };
    const left = e.type === "StockSet" ? e.quantity : (state.left.get(e.productId) ?? 0) + e.quantity;
    state.left.set(e.productId, left);
    state.stockNext.set(rec.src, rec.offset + 1);
    return {
      changelog: [
        [`p/${e.productId}`, { left }],
        [`s/${rec.src}`, { next: rec.offset + 1 }],
      ],
    };
  }
  const { orderId, productId, quantity } = rec.order;
  if (state.decided.has(orderId)) return { changelog: [] }; // already decided: never twice
  const left = state.left.get(productId);
  let decision: Decision;
  const changelog: StepOutput["changelog"] = [];
  if (left === undefined) {
    decision = { type: "OrderRejected", orderId, productId, quantity, instance, reason: "UNKNOWN_PRODUCT" };
  } else if (left >= quantity) {
    state.left.set(productId, left - quantity);
    changelog.push([`p/${productId}`, { left: left - quantity }]);
    decision = { type: "OrderReserved", orderId, productId, quantity, instance };
  } else {
    decision = { type: "OrderRejected", orderId, productId, quantity, instance, reason: "OUT_OF_STOCK" };
  }
  state.decided.set(orderId, decision.type);
  changelog.push([`o/${orderId}`, { type: decision.type }]);
  return { decision, changelog };
}
