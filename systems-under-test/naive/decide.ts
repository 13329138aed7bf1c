// The product service's check: read the view, decide, do NOT touch the view.
import { parseOrderRecord, type Decision } from "../contract/index.ts";
import type { StockView } from "./view.ts";

export function decide(view: StockView, instance: string, key: Buffer | null, value: Buffer | null): Decision {
  const input = parseOrderRecord(key, value);
  if (!input.ok) {
    return {
      type: "OrderRejected",
      orderId: input.orderId,
      productId: input.productId,
      quantity: input.quantity,
      instance,
      reason: "INVALID",
    };
  }
  const { orderId, productId, quantity } = input.order;
  const left = view.available(productId);
  if (left === undefined)
    return { type: "OrderRejected", orderId, productId, quantity, instance, reason: "UNKNOWN_PRODUCT" };
  if (left >= quantity) return { type: "OrderReserved", orderId, productId, quantity, instance };
  return { type: "OrderRejected", orderId, productId, quantity, instance, reason: "OUT_OF_STOCK" };
}
