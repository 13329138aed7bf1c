// keyed-transactional against a real broker, 2 instances: the last unit is sold once, always.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SutRun, summarize } from "../support/sut-run.ts";
import { testConnection, uniqueNs } from "../support/kafka.ts";

describe("keyed-transactional SUT (2 instances)", () => {
  let run: SutRun;
  const stock: Record<string, number> = {};

  beforeAll(async () => {
    run = await SutRun.create({ sut: "keyed-transactional", connection: testConnection(), ns: uniqueNs("kt") });
    for (let i = 0; i < 20; i++) stock[`last-unit-${i}`] = 1;
    stock["valid-after-poison"] = 5;
    await run.setStock(stock);
    await run.start(2);
  });
  afterAll(async () => {
    await run?.stop();
  });

  it("stock 1 and two concurrent orders: exactly one reservation and one rejection, 20 of 20 products", async () => {
    // 20 independent repetitions in one burst: each product is its own race.
    const products = Object.keys(stock).filter((p) => p.startsWith("last-unit-"));
    const sent = await run.placeOrders(products.flatMap((productId) => [{ productId }, { productId }]));
    const log = await run.waitForDecisions((l) => l.decidedAll(sent.map((o) => o.orderId)), 90_000);
    let exact = 0;
    for (const p of products) {
      const ds = sent.filter((o) => o.productId === p).flatMap((o) => log.terminal(o.orderId));
      const reserved = ds.filter((d) => d.type === "OrderReserved").length;
      const rejected = ds.filter((d) => d.type === "OrderRejected" && d.reason === "OUT_OF_STOCK").length;
      if (ds.length === 2 && reserved === 1 && rejected === 1) exact++;
    }
    const s = summarize(log, stock, sent);
    console.log(
      `keyed-transactional: ${exact}/20 products with exactly one reservation ` +
        `and one rejection; sold ${s.unitsSold} of ${s.stockTotal - 5}`,
    );
    expect(exact).toBe(20);
    expect(s.oversold).toEqual([]);
    expect(s.duplicates).toEqual([]);
  });

  it("rejects invalid orders (INVALID, UNKNOWN_PRODUCT) and keeps serving valid ones", async () => {
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
        key: "neg-qty",
        value: JSON.stringify({
          type: "OrderPlaced",
          orderId: "neg-qty",
          productId: "valid-after-poison",
          quantity: -3,
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
    // A bad stock record must not stop the service either.
    await run.produceRaw([{ key: "x", value: "garbage" }], run.topics.stock);
    const unknown = await run.placeOrders([{ productId: "no-such-product" }]);
    const valid = await run.placeOrders([
      { productId: "valid-after-poison" },
      { productId: "valid-after-poison", quantity: 2 },
    ]);
    const bad = ["bad-json", "bad-qty", "neg-qty", "bad-type", "missing", "null-value"];
    const ids = [...bad, ...unknown.map((o) => o.orderId), ...valid.map((o) => o.orderId)];
    const log = await run.waitForDecisions((l) => l.decidedAll(ids), 60_000);
    for (const id of bad) expect(log.terminal(id), id).toMatchObject([{ type: "OrderRejected", reason: "INVALID" }]);
    expect(log.terminal(unknown[0]!.orderId)).toMatchObject([{ type: "OrderRejected", reason: "UNKNOWN_PRODUCT" }]);
    // 5 units: 1 + 2 reserved; afterwards 3 does not fit.
    expect(log.terminal(valid[0]!.orderId)).toMatchObject([{ type: "OrderReserved", quantity: 1 }]);
    expect(log.terminal(valid[1]!.orderId)).toMatchObject([{ type: "OrderReserved", quantity: 2 }]);
    const late = await run.placeOrders([{ productId: "valid-after-poison", quantity: 3 }]);
    await run.waitForDecisions((l) => l.decidedAll([late[0]!.orderId]), 60_000);
    expect(log.terminal(late[0]!.orderId)).toMatchObject([{ type: "OrderRejected", reason: "OUT_OF_STOCK" }]);
    expect(run.group.crashes()).toEqual([]);
  });

  it("a restock during load reaches the owner of the product", async () => {
    // 2 units left; +3 makes 5. Restock and orders travel on different topics, so retry an
    // order of 5 until one is reserved (before the restock is routed it is OUT_OF_STOCK).
    await run.addStock("valid-after-poison", 3);
    let reserved = false;
    for (let i = 0; i < 20 && !reserved; i++) {
      const [o] = await run.placeOrders([{ productId: "valid-after-poison", quantity: 5 }]);
      const log = await run.waitForDecisions((l) => l.decidedAll([o!.orderId]), 60_000);
      const d = log.terminal(o!.orderId);
      expect(d).toHaveLength(1);
      reserved = d[0]!.type === "OrderReserved";
    }
    expect(reserved).toBe(true);
    // And now nothing is left.
    const [last] = await run.placeOrders([{ productId: "valid-after-poison" }]);
    const log = await run.waitForDecisions((l) => l.decidedAll([last!.orderId]), 60_000);
    expect(log.terminal(last!.orderId)).toMatchObject([{ type: "OrderRejected", reason: "OUT_OF_STOCK" }]);
  });

  it("shuts down cleanly on SIGTERM (exit 0)", async () => {
    await run.group.stop(1, 20_000);
    expect(run.group.child(1)?.exitCode()).toBe(0);
  });
});

describe("keyed-transactional with OVERSELL_SETTING_TRANSACTIONS=off (the broken-on-purpose variant)", () => {
  let run: SutRun;
  const stock: Record<string, number> = {};

  beforeAll(async () => {
    run = await SutRun.create({
      sut: "keyed-transactional",
      connection: testConnection(),
      ns: uniqueNs("kt-off"),
      env: { OVERSELL_SETTING_TRANSACTIONS: "off" },
    });
    for (let i = 0; i < 10; i++) stock[`p-${i}`] = 1;
    await run.setStock(stock);
    await run.start(2);
  });
  afterAll(async () => {
    await run?.stop();
  });

  it("still serves orders without faults (its weakness only shows under crashes and zombies)", async () => {
    const sent = await run.placeOrders(Object.keys(stock).flatMap((productId) => [{ productId }, { productId }]));
    const log = await run.waitForDecisions((l) => l.decidedAll(sent.map((o) => o.orderId)), 60_000);
    const s = summarize(log, stock, sent);
    expect(s.unitsSold).toBe(10);
    expect(s.duplicates).toEqual([]);
    expect(
      run.group.child(0)?.logFile && (await import("node:fs")).readFileSync(run.group.child(0)!.logFile, "utf8"),
    ).toContain("transactions OFF");
  });
});
