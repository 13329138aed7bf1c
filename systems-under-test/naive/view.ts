// The product service's stock view: what it believes is left per product.
// It is fed only from topics (stock events and OrderReserved decisions), like a
// Kafka Streams store, so it lags behind the decisions this instance just made.
import type { Decision, StockEvent } from "../contract/index.ts";

export class StockView {
  private left = new Map<string, number>();

  applyStock(e: StockEvent): void {
    if (e.type === "StockSet") this.left.set(e.productId, e.quantity);
    else this.left.set(e.productId, (this.left.get(e.productId) ?? 0) + e.quantity);
  }

  /** The separate processor's job: a reservation seen on `decisions` takes units out. */
  applyDecision(d: Decision): void {
    if (d.type !== "OrderReserved") return;
    if (!this.left.has(d.productId)) return;
    this.left.set(d.productId, this.left.get(d.productId)! - d.quantity);
  }

  /** undefined = no stock event seen for this product. */
  available(productId: string): number | undefined {
    return this.left.get(productId);
  }
}
