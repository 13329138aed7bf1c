// naive against a real broker: it must oversell when orders race for the last unit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SutRun, summarize } from "../support/sut-run.ts";
import { testConnection, uniqueNs } from "../support/kafka.ts";

describe("naive SUT (2 instances)", () => {
  let run: SutRun;
  const stock: Record<string, number> = {};

  beforeAll(async () => {
    run = await SutRun.create({ sut: "naive", connection: testConnection(), ns: uniqueNs("naive") });
    for (let i = 0; i < 40; i++) stock[`race-${i}`] = 1;
    stock["valid-after-poison"] = 5;
    await run.setStock(stock);
    await run.start(2);
  });
  afterAll(async () => {
    await run?.stop();
  });

  it("oversells the last unit under a concurrent burst (check and decrement are apart)", async () => {
    // 40 products with stock 1, 4 orders each, all in one burst over 4 partitions / 2 instances.
    const specs = Object.keys(stock)
      .filter((p) => p.startsWith("race-"))
      .flatMap((productId) => Array.from({ length: 4 }, () => ({ productId })));
    const sent = await run.placeOrders(specs);
    const log = await run.waitForDecisions((l) => l.decidedAll(sent.map((o) => o.orderId)), 90_000);
    const s = summarize(log, stock, sent);
    console.log(
      `naive: ${s.oversold.length}/40 products oversold (units sold ${s.unitsSold} ` +
        `vs stock ${s.stockTotal - 5}), duplicates ${s.duplicates.length}`,
    );
    expect(s.undecided).toEqual([]);
    expect(s.oversold.length).toBeGreaterThanOrEqual(1);
  });

  it("rejects invalid orders with the right reason and keeps serving", async () => {
    await run.produceRaw([
      { key: "bad-json", value: "{not json" },
      {
        key: "bad-qty",
        value: JSON.stringify({
          type: "OrderPlaced",
          orderId: "bad-qty",
          productId: "valid-after-poison",
          quantity: 0,
          customerId: "c",
          sentAtMs: 1,
        }),
      },
      {
        key: "bad-type",
        value: JSON.stringify({
          type: "OrderPlaced",
          orderId: "bad-type",
          productId: 7,
          quantity: "1",
          customerId: "c",
          sentAtMs: 1,
        }),
      },
      { key: "missing", value: JSON.stringify({ type: "OrderPlaced", orderId: "missing" }) },
      { key: "null-value", value: null },
    ]);
    const unknown = await run.placeOrders([{ productId: "no-such-product" }]);
    const valid = await run.placeOrders([
      { productId: "valid-after-poison" },
      { productId: "valid-after-poison", quantity: 2 },
    ]);
    const ids = [
      "bad-json",
      "bad-qty",
      "bad-type",
      "missing",
      "null-value",
      ...unknown.map((o) => o.orderId),
      ...valid.map((o) => o.orderId),
    ];
    const log = await run.waitForDecisions((l) => l.decidedAll(ids), 60_000);
    for (const id of ["bad-json", "bad-qty", "bad-type", "missing", "null-value"]) {
      expect(log.terminal(id), id).toMatchObject([{ type: "OrderRejected", reason: "INVALID" }]);
    }
    expect(log.terminal(unknown[0]!.orderId)).toMatchObject([{ type: "OrderRejected", reason: "UNKNOWN_PRODUCT" }]);
    for (const o of valid)
      expect(log.terminal(o.orderId)).toMatchObject([
        { type: "OrderReserved", productId: "valid-after-poison", quantity: o.quantity },
      ]);
    expect(run.group.crashes()).toEqual([]);
  });

  it("shuts down cleanly on SIGTERM (exit 0)", async () => {
    await run.group.stop(1, 20_000);
    expect(run.group.child(1)?.exitCode()).toBe(0);
  });
});
