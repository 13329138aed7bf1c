// The saga SUT against the real broker, 2 instance processes per run.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Decision, OrderPlaced } from "../../systems-under-test/contract/index.ts";
import { paymentFails } from "../../systems-under-test/saga/order-side.ts";
import { SutRun, summarize, type DecisionLog } from "../support/sut-run.ts";
import { testConnection, uniqueNs } from "../support/kafka.ts";

const FINAL = new Set(["OrderConfirmed", "OrderCancelled", "ReservationExpired", "OrderRejected"]);

/** Per-order protocol: at most one OrderReserved, exactly one terminal, in the right order. */
function protocolErrors(log: DecisionLog, orderIds: string[]): string[] {
  const errors: string[] = [];
  for (const id of orderIds) {
    const ds: Decision[] = log.byOrder.get(id) ?? [];
    const types = ds.map((d) => d.type);
    const finals = types.filter((t) => FINAL.has(t));
    const reserved = types.filter((t) => t === "OrderReserved").length;
    if (finals.length !== 1) errors.push(`${id}: ${finals.length} terminal decisions [${types.join(",")}]`);
    else if (reserved > 1) errors.push(`${id}: reserved ${reserved} times [${types.join(",")}]`);
    else if (finals[0] === "OrderRejected" ? reserved !== 0 : reserved !== 1 || types[0] !== "OrderReserved") {
      errors.push(`${id}: bad sequence [${types.join(",")}]`);
    }
  }
  return errors;
}

const terminalOf = (log: DecisionLog, id: string) => (log.byOrder.get(id) ?? []).find((d) => FINAL.has(d.type));
const allFinal = (ids: string[]) => (log: DecisionLog) => ids.every((id) => terminalOf(log, id));

describe("saga: payment always succeeds", () => {
  let run: SutRun;
  beforeAll(async () => {
    run = await SutRun.create({
      sut: "saga",
      connection: testConnection(),
      ns: uniqueNs("saga-a"),
      env: { OVERSELL_SETTING_PAYMENT_FAILURE_RATE: "0", OVERSELL_SETTING_PAYMENT_DELAY_MS: "0" },
    });
    await run.start();
  });
  afterAll(async () => {
    await run?.stop();
  });

  it("stock 1 and two concurrent orders: exactly one sale and one rejection, 20 times", async () => {
    const stock = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`last-${i}`, 1]));
    await run.setStock(stock);
    const sent = await run.placeOrders(Object.keys(stock).flatMap((productId) => [{ productId }, { productId }]));
    const ids = sent.map((o) => o.orderId);
    const log = await run.waitForDecisions(allFinal(ids), 90_000);
    expect(protocolErrors(log, ids)).toEqual([]);
    for (const productId of Object.keys(stock)) {
      const outcomes = sent.filter((o) => o.productId === productId).map((o) => terminalOf(log, o.orderId)!);
      const types = outcomes
        .map((d) => (d.type === "OrderRejected" ? `${d.type}:${(d as { reason: string }).reason}` : d.type))
        .sort();
      expect(types, productId).toEqual(["OrderConfirmed", "OrderRejected:OUT_OF_STOCK"]);
    }
    const s = summarize(log, stock, sent, true);
    expect(s.oversold).toEqual([]);
    expect(s.unitsSold).toBe(20);
  });

  it("rejects invalid orders with the right reason and keeps serving", async () => {
    await run.setStock({ "inv-ok": 1 });
    await run.produceRaw([
      { key: "bad-json", value: "{not json" },
      { key: "bad-missing", value: JSON.stringify({ type: "OrderPlaced", orderId: "bad-missing" }) },
      {
        key: "bad-type",
        value: JSON.stringify({
          type: "OrderPlaced",
          orderId: "bad-type",
          productId: "inv-ok",
          quantity: "1",
          customerId: "c",
          sentAtMs: 1,
        }),
      },
      {
        key: "bad-zero",
        value: JSON.stringify({
          type: "OrderPlaced",
          orderId: "bad-zero",
          productId: "inv-ok",
          quantity: 0,
          customerId: "c",
          sentAtMs: 1,
        }),
      },
      {
        key: "bad-neg",
        value: JSON.stringify({
          type: "OrderPlaced",
          orderId: "bad-neg",
          productId: "inv-ok",
          quantity: -2,
          customerId: "c",
          sentAtMs: 1,
        }),
      },
      { key: "bad-null", value: null },
    ]);
    const unknown = await run.placeOrders([{ productId: "no-such-product" }]);
    const good = await run.placeOrders([{ productId: "inv-ok" }]);
    const invalid = ["bad-json", "bad-missing", "bad-type", "bad-zero", "bad-neg", "bad-null"];
    const ids = [...invalid, unknown[0]!.orderId, good[0]!.orderId];
    const log = await run.waitForDecisions(allFinal(ids), 60_000);
    expect(protocolErrors(log, ids)).toEqual([]);
    for (const id of invalid)
      expect(terminalOf(log, id), id).toMatchObject({ type: "OrderRejected", reason: "INVALID" });
    expect(terminalOf(log, unknown[0]!.orderId)).toMatchObject({ type: "OrderRejected", reason: "UNKNOWN_PRODUCT" });
    expect(terminalOf(log, good[0]!.orderId)).toMatchObject({
      type: "OrderConfirmed",
      productId: "inv-ok",
      quantity: 1,
    });
    expect(run.group.crashes()).toEqual([]);
  });

  it(
    "kill -9 of an instance mid-burst, failover, then " + "restart: no duplicate, conflict, lost order or oversell",
    async () => {
      const stock = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`crash-${i}`, 3]));
      await run.setStock(stock);
      const sent = [];
      for (let round = 0; round < 6; round++) {
        sent.push(...(await run.placeOrders(Object.keys(stock).map((productId) => ({ productId })))));
        if (round === 1) await run.group.kill(1);
        await new Promise((r) => setTimeout(r, 200));
      }
      // With instance 1 dead, its tasks move to instance 0 (after the session timeout) and finish.
      let ids = sent.map((o) => o.orderId);
      await run.waitForDecisions(allFinal(ids), 90_000);
      // Restart: tasks move back while new orders and a restock arrive.
      const restart = run.group.start(1);
      for (const productId of Object.keys(stock)) await run.addStock(productId, 1);
      sent.push(...(await run.placeOrders(Object.keys(stock).flatMap((productId) => [{ productId }, { productId }]))));
      await restart;
      sent.push(...(await run.placeOrders(Object.keys(stock).map((productId) => ({ productId })))));
      ids = sent.map((o) => o.orderId);
      const log = await run.waitForDecisions(allFinal(ids), 90_000);
      expect(protocolErrors(log, ids)).toEqual([]);
      const total = Object.fromEntries(Object.keys(stock).map((p) => [p, 4]));
      const s = summarize(log, total, sent, true);
      expect(s.undecided).toEqual([]);
      expect(s.duplicates).toEqual([]);
      expect(s.conflicts).toEqual([]);
      expect(s.oversold).toEqual([]);
      expect(s.unitsSold).toBeGreaterThan(0);
      expect(run.group.crashes()).toEqual([]);
    },
  );

  it("a paused instance (zombie past its session timeout) is fenced: nothing decided twice", async () => {
    const stock = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`zombie-${i}`, 2]));
    await run.setStock(stock);
    const sent = await run.placeOrders(Object.keys(stock).map((productId) => ({ productId })));
    run.group.pause(1);
    try {
      sent.push(...(await run.placeOrders(Object.keys(stock).flatMap((productId) => [{ productId }, { productId }]))));
      // Instance 0 takes the paused instance's tasks over (fencing its producers) and decides all.
      await run.waitForDecisions(allFinal(sent.map((o) => o.orderId)), 90_000);
    } finally {
      run.group.resume(1);
    }
    // The zombie wakes up with stale tasks: its transactions must fail, then it rejoins.
    sent.push(...(await run.placeOrders(Object.keys(stock).map((productId) => ({ productId })))));
    const ids = sent.map((o) => o.orderId);
    const log = await run.waitForDecisions(allFinal(ids), 90_000);
    expect(protocolErrors(log, ids)).toEqual([]);
    const s = summarize(log, stock, sent, true);
    expect(s.duplicates).toEqual([]);
    expect(s.conflicts).toEqual([]);
    expect(s.oversold).toEqual([]);
    expect(s.unitsSold).toBe(20);
    expect(run.group.crashes()).toEqual([]);
  });
});

describe("saga: payment failures and expiry release stock", () => {
  it("a cancelled (payment failed) order releases its unit to a later order", async () => {
    const run = await SutRun.create({
      sut: "saga",
      connection: testConnection(),
      ns: uniqueNs("saga-b"),
      env: { OVERSELL_SETTING_PAYMENT_FAILURE_RATE: "0.5", OVERSELL_SETTING_PAYMENT_DELAY_MS: "0" },
    });
    try {
      await run.start();
      // Payment is a pure function of the orderId: pick ids that fail and succeed.
      const pick = (fail: boolean, tag: string) => {
        for (let i = 0; ; i++) if (paymentFails(`${tag}-${i}`, 0.5) === fail) return `${tag}-${i}`;
      };
      const products = ["pay-0", "pay-1", "pay-2"];
      await run.setStock(Object.fromEntries(products.map((p) => [p, 1])));
      const first = await run.placeOrders(
        products.map((productId) => ({ productId, orderId: pick(true, `f-${productId}`) })),
      );
      let log = await run.waitForDecisions(allFinal(first.map((o) => o.orderId)), 60_000);
      for (const o of first)
        expect(terminalOf(log, o.orderId), o.orderId).toMatchObject({
          type: "OrderCancelled",
          reason: "PAYMENT_FAILED",
        });
      const second = await run.placeOrders(
        products.map((productId) => ({ productId, orderId: pick(false, `s-${productId}`) })),
      );
      const ids = [...first, ...second].map((o) => o.orderId);
      log = await run.waitForDecisions(allFinal(ids), 60_000);
      expect(protocolErrors(log, ids)).toEqual([]);
      for (const o of second) expect(terminalOf(log, o.orderId), o.orderId).toMatchObject({ type: "OrderConfirmed" });
      expect(
        summarize(log, Object.fromEntries(products.map((p) => [p, 1])), [...first, ...second], true).oversold,
      ).toEqual([]);
    } finally {
      await run.stop();
    }
  });

  it("payment slower than the TTL: the hold expires, the unit is released, never confirmed and expired", async () => {
    const run = await SutRun.create({
      sut: "saga",
      connection: testConnection(),
      ns: uniqueNs("saga-c"),
      env: {
        OVERSELL_SETTING_PAYMENT_FAILURE_RATE: "0",
        OVERSELL_SETTING_RESERVATION_TTL_MS: "1500",
        OVERSELL_SETTING_PAYMENT_DELAY_MS: "4000",
      },
    });
    try {
      await run.start();
      const products = ["ttl-0", "ttl-1", "ttl-2"];
      await run.setStock(Object.fromEntries(products.map((p) => [p, 1])));
      const first = await run.placeOrders(products.flatMap((productId) => [{ productId }, { productId }]));
      let log = await run.waitForDecisions(allFinal(first.map((o) => o.orderId)), 60_000);
      for (const productId of products) {
        const types = first
          .filter((o) => o.productId === productId)
          .map((o) => terminalOf(log, o.orderId)!.type)
          .sort();
        expect(types, productId).toEqual(["OrderRejected", "ReservationExpired"]);
      }
      // Stray commands after expiry (a late confirm, a cancel, a redelivered reserve) change
      // nothing: the product side already sealed the fate. Same key, so they precede the next round.
      const expired = first.filter((o) => terminalOf(log, o.orderId)!.type === "ReservationExpired");
      await run.produceRaw(
        expired.flatMap((o) => [
          { key: o.productId, value: JSON.stringify({ type: "Confirm", orderId: o.orderId, productId: o.productId }) },
          {
            key: o.productId,
            value: JSON.stringify({
              type: "Cancel",
              orderId: o.orderId,
              productId: o.productId,
              reason: "PAYMENT_FAILED",
            }),
          },
          {
            key: o.productId,
            value: JSON.stringify({
              type: "Reserve",
              orderId: o.orderId,
              productId: o.productId,
              quantity: 1,
              replyPartition: 0,
            }),
          },
        ]),
        run.topics.internal("saga", "reserve-commands"),
      );
      // Released exactly once: of two later orders per product one holds the unit (and expires), one is refused.
      const second = await run.placeOrders(products.flatMap((productId) => [{ productId }, { productId }]));
      const ids = [...first, ...second].map((o) => o.orderId);
      log = await run.waitForDecisions(allFinal(ids), 60_000);
      for (const productId of products) {
        const types = second
          .filter((o) => o.productId === productId)
          .map((o) => terminalOf(log, o.orderId)!.type)
          .sort();
        expect(types, productId).toEqual(["OrderRejected", "ReservationExpired"]);
      }
      expect(protocolErrors(log, ids)).toEqual([]);
      expect(log.all.filter((d) => d.type === "OrderConfirmed")).toEqual([]);
    } finally {
      await run.stop();
    }
  });
});

describe("saga: an instance expelled from its groups gets its partitions back", () => {
  // An instance stopped past its session timeout is expelled; the other takes its tasks over and
  // takes holds there; when it comes back it gets the same partitions again (assignment by sorted
  // member id: saga-0 first). Those holds must still expire: their timers live in the changelog, and
  // a task the returning instance kept from before would not know them. (The gate's saga[network]
  // cell is the harder variant: there the rejoin comes before any fetch, so no fenced commit forces
  // a rebuild; runtime.ts therefore rebuilds every task on every group join.)
  it("holds taken by the interim owner still expire after the partitions move back", async () => {
    const run = await SutRun.create({
      sut: "saga",
      connection: testConnection(),
      ns: uniqueNs("saga-d"),
      env: {
        OVERSELL_SETTING_PAYMENT_FAILURE_RATE: "0",
        // Payment far slower than the TTL: only the product side's expiry timer can end a hold in time.
        OVERSELL_SETTING_PAYMENT_DELAY_MS: "120000",
        OVERSELL_SETTING_RESERVATION_TTL_MS: "8000",
      },
    });
    try {
      await run.start(2);
      const products = Array.from({ length: 12 }, (_, i) => `expel-${i}`);
      await run.setStock(Object.fromEntries(products.map((p) => [p, 1])));
      run.group.pause(0);
      let sent: OrderPlaced[];
      try {
        sent = await run.placeOrders(products.map((productId) => ({ productId })));
        // Every order is reserved only once instance 1 owns every task: instance 0 has been expelled.
        const reservedAll = (l: DecisionLog) =>
          sent.every((o) => (l.byOrder.get(o.orderId) ?? []).some((d) => d.type === "OrderReserved"));
        await run.waitForDecisions(reservedAll, 60_000);
      } finally {
        run.group.resume(0);
      }
      const ids = sent.map((o) => o.orderId);
      // TTL 8 s + rebalance and restore; well before the 120 s payment could settle anything.
      const ended = await run.waitQuietly(allFinal(ids), 45_000);
      const log = run.decisions;
      const open = ids.filter((id) => !terminalOf(log, id));
      expect(open, `reservations neither confirmed nor released: ${open.join(", ")}`).toEqual([]);
      expect(ended).toBe(true);
      for (const id of ids) expect(terminalOf(log, id)?.type, id).toBe("ReservationExpired");
      expect(protocolErrors(log, ids)).toEqual([]);
      expect(run.group.crashes()).toEqual([]);
      // The instance did come back and take tasks again (else this would not test a rejoin).
      const rejoined = readFileSync(run.group.logFile(0), "utf8").match(/product: task \d+ restored/g)?.length ?? 0;
      expect(rejoined).toBeGreaterThan(2);
    } finally {
      await run.stop();
    }
  });
});
