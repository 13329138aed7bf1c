// The deliberately broken setting of keyed-transactional, on its pure step: with backorder=K a product is sold
// up to K units ahead of its stock until its first restock, which pays the debt back; with 0 it never is.
import { describe, expect, it } from "vitest";
import { PartitionState, type ByProduct } from "../../systems-under-test/keyed-transactional/records.ts";
import { step } from "../../systems-under-test/keyed-transactional/reserve.ts";

let offset = 0;
const stock = (type: "StockSet" | "StockAdded", quantity: number): ByProduct => ({
  kind: "stock",
  event: { type, productId: "p", quantity },
  src: 0,
  offset: offset++,
});
let n = 0;
const order = (quantity = 1): ByProduct => ({
  kind: "order",
  order: { type: "OrderPlaced", orderId: `o${n++}`, productId: "p", quantity, customerId: "c", sentAtMs: 0 },
});

function sold(backorder: number, inputs: ByProduct[]): number {
  const st = new PartitionState();
  return inputs.filter((r) => step(st, r, "0", backorder).decision?.type === "OrderReserved").length;
}

describe("keyed-transactional backorder (broken on purpose)", () => {
  it("sells K units ahead of the stock before the first restock, none after it", () => {
    const before = [stock("StockSet", 2), ...Array.from({ length: 5 }, () => order())];
    expect(sold(0, before)).toBe(2);
    expect(sold(2, before)).toBe(4);
    // The restock (+3) pays the 2 units back: 1 more can be sold, and no credit is left.
    expect(sold(2, [...before, stock("StockAdded", 3), ...Array.from({ length: 5 }, () => order())])).toBe(5);
  });

  it("the credit survives a restore from the changelog", () => {
    const st = new PartitionState();
    step(st, stock("StockSet", 0), "0", 2);
    const out = step(st, order(), "0", 2);
    expect(out.decision?.type).toBe("OrderReserved");
    const restored = new PartitionState();
    for (const [k, v] of out.changelog) restored.applyChangelog(k, Buffer.from(JSON.stringify(v)));
    expect(restored.credit.get("p")).toBe(1);
    expect(step(restored, order(), "0", 2).decision?.type).toBe("OrderReserved");
    expect(step(restored, order(), "0", 2).decision?.type).toBe("OrderRejected");
  });
});
