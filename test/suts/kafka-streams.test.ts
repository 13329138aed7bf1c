// kafka-streams against a real broker: the last unit is sold once, bad input is answered, and a
// kill -9 in the middle of a burst neither loses nor repeats a decision (exactly_once_v2).
// First: fixes kafkajs's read_committed filter before kafkajs loads (see the module).
import { readCommittedFixStats } from "../../systems-under-test/contract/kafkajs-read-committed.ts";
import { randomBytes } from "node:crypto";
import kafkajs from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OrderPlaced } from "../../systems-under-test/contract/index.ts";
import { SutRun, summarize } from "../support/sut-run.ts";
import { testConnection, uniqueNs } from "../support/kafka.ts";

const PARTITIONS = 4;

/** The partition kafkajs (and Java's default partitioner: both murmur2) picks for a key. */
function partitionOf(key: string): number {
  const partitioner = kafkajs.Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: PARTITIONS }, (_, i) => ({
    partitionErrorCode: 0,
    partitionId: i,
    leader: 0,
    replicas: [0],
    isr: [0],
  }));
  return partitioner({ topic: "t", partitionMetadata, message: { key, value: null } });
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, Math.round(performance.now() - t0)];
}

describe("kafka-streams SUT (2 instances)", () => {
  let run: SutRun;
  const stock: Record<string, number> = { serve: 2 };
  for (let i = 0; i < 20; i++) stock[`last-${i}`] = 1;

  beforeAll(async () => {
    run = await SutRun.create({
      sut: "kafka-streams",
      connection: testConnection(),
      ns: uniqueNs("kstreams"),
      partitions: PARTITIONS,
    });
    // All stock before the instances start: stock and orders reach the processor through one
    // repartition topic, but from different upstream tasks (see the README).
    await run.setStock(stock);
    const [, ms] = await timed(() => run.start(2));
    console.log(`kafka-streams: 2 instances started to ready in ${ms} ms (logs in ${run.logDir})`);
  });
  afterAll(async () => {
    await run?.stop();
  });

  it("sells the last unit exactly once when two orders race for it", async () => {
    const specs = Object.keys(stock)
      .filter((p) => p.startsWith("last-"))
      .flatMap((productId) => [{ productId }, { productId }]);
    const sent = await run.placeOrders(specs);
    const log = await run.waitForDecisions((l) => l.decidedAll(sent.map((o) => o.orderId)), 90_000);
    const s = summarize(log, stock, sent);
    expect(s.undecided).toEqual([]);
    expect(s.duplicates).toEqual([]);
    expect(s.oversold).toEqual([]);
    for (let i = 0; i < 20; i++) {
      const outcomes = sent.filter((o) => o.productId === `last-${i}`).map((o) => log.terminal(o.orderId)[0]!);
      expect(outcomes.map((d) => d.type).sort(), `last-${i}`).toEqual(["OrderRejected", "OrderReserved"]);
      expect(outcomes.find((d) => d.type === "OrderRejected")).toMatchObject({ reason: "OUT_OF_STOCK", quantity: 1 });
    }
    for (const o of sent) expect(log.terminal(o.orderId)[0]).toMatchObject({ productId: o.productId, quantity: 1 });
    for (const d of log.all) expect(["0", "1"]).toContain(d.instance);
    const byInstance: Record<string, number> = {};
    for (const d of log.all) byInstance[d.instance] = (byInstance[d.instance] ?? 0) + 1;
    console.log(`kafka-streams: decisions by instance ${JSON.stringify(byInstance)}`);
  });

  it("rejects invalid orders with the right reason and keeps serving", async () => {
    const tag = randomBytes(3).toString("hex");
    const order = (orderId: string, extra: object) =>
      JSON.stringify({
        type: "OrderPlaced",
        orderId,
        productId: "serve",
        quantity: 1,
        customerId: "c",
        sentAtMs: 1,
        ...extra,
      });
    const bad = {
      [`json-${tag}`]: "{not json",
      [`zero-${tag}`]: order(`zero-${tag}`, { quantity: 0 }),
      [`negative-${tag}`]: order(`negative-${tag}`, { quantity: -3 }),
      [`fraction-${tag}`]: order(`fraction-${tag}`, { quantity: 1.5 }),
      [`no-customer-${tag}`]: JSON.stringify({
        type: "OrderPlaced",
        orderId: `no-customer-${tag}`,
        productId: "serve",
        quantity: 1,
        sentAtMs: 1,
      }),
      [`wrong-type-${tag}`]: order(`wrong-type-${tag}`, { type: "OrderShipped" }),
      [`array-${tag}`]: "[1,2]",
      [`trailing-${tag}`]: `${order(`trailing-${tag}`, {})} x`,
      [`tombstone-${tag}`]: null,
    };
    await run.produceRaw(Object.entries(bad).map(([key, value]) => ({ key, value })));
    const unknown = await run.placeOrders([{ productId: "no-such-product" }]);
    const valid = await run.placeOrders([{ productId: "serve" }]);
    const ids = [...Object.keys(bad), unknown[0]!.orderId, valid[0]!.orderId];
    const log = await run.waitForDecisions((l) => l.decidedAll(ids), 60_000);
    for (const id of Object.keys(bad))
      expect(log.terminal(id), id).toMatchObject([{ type: "OrderRejected", reason: "INVALID", orderId: id }]);
    // What could be salvaged from a bad order is echoed back.
    expect(log.terminal(`zero-${tag}`)[0]).toMatchObject({ productId: "serve", quantity: 0 });
    expect(log.terminal(unknown[0]!.orderId)).toMatchObject([
      { type: "OrderRejected", reason: "UNKNOWN_PRODUCT", productId: "no-such-product" },
    ]);
    expect(log.terminal(valid[0]!.orderId)).toMatchObject([{ type: "OrderReserved", productId: "serve", quantity: 1 }]);
    expect(run.group.crashes()).toEqual([]);
  });

  it("decides a retried orderId once", async () => {
    // "serve" has 1 unit left. The retry and a sentinel share the orders partition (same upstream
    // task, so the same order on the repartition topic) and the decisions partition: once the
    // sentinel's decision is read, a second decision of the retry would have been read before it.
    const [first] = await run.placeOrders([{ productId: "serve" }]);
    await run.waitForDecisions((l) => l.decidedAll([first!.orderId]), 60_000);
    let sentinelId = "";
    for (let i = 0; partitionOf(sentinelId) !== partitionOf(first!.orderId) || !sentinelId; i++)
      sentinelId = `sentinel-${first!.orderId}-${i}`;
    await run.produceRaw([{ key: first!.orderId, value: JSON.stringify(first) }]);
    const [sentinel] = await run.placeOrders([{ productId: "serve", orderId: sentinelId }]);
    const log = await run.waitForDecisions((l) => l.decidedAll([sentinel!.orderId]), 60_000);
    expect(log.terminal(first!.orderId)).toHaveLength(1);
    expect(log.terminal(first!.orderId)[0]).toMatchObject({ type: "OrderReserved" });
    // No stock left for the sentinel: had the retry reserved again, it would say OUT_OF_STOCK too,
    // and the product would be oversold; either way the order above sees exactly one answer.
    expect(log.terminal(sentinel!.orderId)).toMatchObject([{ type: "OrderRejected", reason: "OUT_OF_STOCK" }]);
  });
});

describe("kafka-streams SUT, process faults mid-burst", () => {
  let run: SutRun;
  const stock: Record<string, number> = {};
  for (let i = 0; i < 30; i++) stock[`crash-${i}`] = 2;
  for (let i = 0; i < 20; i++) stock[`pause-${i}`] = 2;

  beforeAll(async () => {
    run = await SutRun.create({
      sut: "kafka-streams",
      connection: testConnection(),
      ns: uniqueNs("kstreams-crash"),
      partitions: PARTITIONS,
    });
    await run.setStock(stock);
    // One at a time here, to see what a single instance costs (the first joins an empty group).
    for (const i of [0, 1]) {
      const [, ms] = await timed(() => run.group.start(i));
      console.log(`kafka-streams: instance ${i} started to ready in ${ms} ms`);
    }
  });
  afterAll(async () => {
    await run?.stop();
  });

  it("decides every order exactly once and never oversells across a crash and restart", async () => {
    // 4 orders per product for 2 units: 120 orders, in waves so that the kill lands mid-burst.
    const specs = Object.keys(stock)
      .filter((p) => p.startsWith("crash-"))
      .flatMap((productId) => Array.from({ length: 4 }, () => ({ productId })));
    const waves = Array.from({ length: 6 }, (_, w) => specs.filter((_, i) => i % 6 === w));
    const sent: OrderPlaced[] = [];
    sent.push(...(await run.placeOrders(waves[0]!)), ...(await run.placeOrders(waves[1]!)));
    // Kill once part of the first waves is decided: the rest are in flight on the victim's tasks.
    await run.waitForDecisions((l) => l.all.length >= 10, 60_000);
    const victim = run.group.child(1)!.pid;
    await run.group.kill(1);
    console.log(
      `kafka-streams: killed instance 1 (pid ${victim}) with ${run.decisions.all.length}/${sent.length} decided`,
    );
    for (const wave of waves.slice(2)) sent.push(...(await run.placeOrders(wave)));
    const [, restartMs] = await timed(() => run.group.start(1));
    console.log(`kafka-streams: instance 1 restarted to ready in ${restartMs} ms`);

    const log = await run.waitForDecisions((l) => l.decidedAll(sent.map((o) => o.orderId)), 150_000);
    const s = summarize(log, stock, sent);
    const ours = new Set(sent.map((o) => o.orderId));
    console.log(
      `kafka-streams crash: ${s.decided}/${s.orders} decided, ` +
        `${s.reserved} reserved, rejected ${JSON.stringify(s.rejected)}, ` +
        `decisions read ${log.all.length}, aborted records dropped ` +
        `by the read_committed fix ${readCommittedFixStats().dropped}`,
    );
    expect(s.undecided).toEqual([]);
    expect(s.duplicates).toEqual([]);
    expect(s.conflicts).toEqual([]);
    expect(s.oversold).toEqual([]);
    // Every product had 4 orders for 2 units, so exactly 2 of each are sold: none lost to the crash.
    expect(s.reserved).toBe(60);
    expect(s.rejected).toEqual({ OUT_OF_STOCK: 60 });
    expect(log.all.filter((d) => ours.has(d.orderId))).toHaveLength(120);
    expect(log.malformed).toEqual([]);
    expect(run.group.crashes()).toEqual([]);
  }, 300_000);

  it("survives a paused instance (a zombie past its session timeout) without duplicates or oversell", async () => {
    const specs = Object.keys(stock)
      .filter((p) => p.startsWith("pause-"))
      .flatMap((productId) => Array.from({ length: 4 }, () => ({ productId })));
    const waves = Array.from({ length: 4 }, (_, w) => specs.filter((_, i) => i % 4 === w));
    const before = run.decisions.all.length;
    const sent: OrderPlaced[] = [...(await run.placeOrders(waves[0]!))];
    await run.waitForDecisions((l) => l.all.length >= before + 5, 60_000);
    run.group.pause(1);
    for (const wave of waves.slice(1)) sent.push(...(await run.placeOrders(wave)));
    // Instance 0 takes over once the session times out; the zombie's open transaction is aborted.
    const [, takeoverMs] = await timed(() =>
      run.waitForDecisions((l) => l.decidedAll(sent.map((o) => o.orderId)), 150_000),
    );
    run.group.resume(1);
    console.log(`kafka-streams pause: all ${sent.length} decided ${takeoverMs} ms after the pause, instance 1 resumed`);
    // The resumed zombie must rejoin and serve, not re-decide: more orders, one per product.
    const after = await run.placeOrders(
      Object.keys(stock)
        .filter((p) => p.startsWith("pause-"))
        .map((productId) => ({ productId })),
    );
    sent.push(...after);
    const log = await run.waitForDecisions((l) => l.decidedAll(after.map((o) => o.orderId)), 150_000);
    const s = summarize(log, stock, sent);
    expect(s.undecided).toEqual([]);
    expect(s.duplicates).toEqual([]);
    expect(s.oversold).toEqual([]);
    expect(s.reserved).toBe(40);
    expect(s.rejected).toEqual({ OUT_OF_STOCK: 60 });
    expect(run.group.crashes()).toEqual([]);
  }, 300_000);
});
