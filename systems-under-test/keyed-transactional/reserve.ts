// The owner's step, pure: one by-product record against the partition state gives the
// decision (if any) and the changelog entries; check and reserve happen together.
import type { Decision } from "../contract/index.ts";
import type { ByProduct, PartitionState } from "./records.ts";

export interface StepOutput {
  decision?: Decision;
  changelog: [key: string, value: object][];
}

/**
 * `backorder` > 0 breaks the SUT on purpose (the checker's oversell-in-time test): until its first restock, a
 * product may be sold up to that many units ahead of its stock, as if against the restock to come; the restock
 * then pays the debt back, so the end state can still be within the stock.
 */
export function step(state: PartitionState, rec: ByProduct, instance: string, backorder = 0): StepOutput {
  if (rec.kind === "stock") {
    const e = rec.event;
    // Re-routed duplicates (at-least-once router, zombie) carry an offset already applied.
    if (rec.offset < (state.stockNext.get(rec.src) ?? 0)) return { changelog: [] };
    const left = e.type === "StockSet" ? e.quantity : (state.left.get(e.productId) ?? 0) + e.quantity;
    state.left.set(e.productId, left);
    if (e.type === "StockAdded" && backorder > 0) state.credit.set(e.productId, backorder); // restocked: no more
    state.stockNext.set(rec.src, rec.offset + 1);
    return {
      changelog: [
        [`p/${e.productId}`, { left, credit: state.credit.get(e.productId) ?? 0 }],
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
  } else if (left >= quantity || sellsAhead(state, productId, left, quantity, backorder)) {
    state.left.set(productId, left - quantity);
    changelog.push([`p/${productId}`, { left: left - quantity, credit: state.credit.get(productId) ?? 0 }]);
    decision = { type: "OrderReserved", orderId, productId, quantity, instance };
  } else {
    decision = { type: "OrderRejected", orderId, productId, quantity, instance, reason: "OUT_OF_STOCK" };
  }
  state.decided.set(orderId, decision.type);
  changelog.push([`o/${orderId}`, { type: decision.type }]);
  return { decision, changelog };
}

/** The deliberate bug: take the units missing from the product's credit of `backorder` units. */
function sellsAhead(
  state: PartitionState,
  productId: string,
  left: number,
  quantity: number,
  backorder: number,
): boolean {
  const used = state.credit.get(productId) ?? 0,
    missing = quantity - Math.max(left, 0);
  if (backorder <= 0 || used + missing > backorder) return false;
  state.credit.set(productId, used + missing);
  return true;
}
