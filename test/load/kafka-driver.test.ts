// The kafka driver against the real test broker: open-loop sends, an outcome for every order.
import { describe, expect, it } from "vitest";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { startKafkaLoad } from "../../harness/load/kafka-driver.ts";
import { generateStream, validateScenario, BUILTIN_SCENARIOS } from "../../harness/scenario/index.ts";
import { createTopics, keysByOffset, testConnection, testKafka, uniqueNs, until } from "../support/kafka.ts";

describe("kafka load driver", () => {
  it(
    "sends a small stream open-loop and records an ack " + "(partition/offset) for every order, with send times",
    async () => {
      const conn = testConnection();
      const ns = uniqueNs("load");
      const t = topicsFor(ns);
      await createTopics(conn, [t.stock, t.orders, t.decisions], 4);
      const scenario = validateScenario({
        ...BUILTIN_SCENARIOS["last-unit"],
        products: { count: 10, initialStock: 1 },
        demand: { ordersPerProduct: 3 },
        timing: { kind: "burst", windowMs: 300 },
        invalid: { rate: 0.2, kinds: ["bad-json", "near-size-limit", "retry", "zero-quantity"] },
      });
      const stream = generateStream(scenario, 11);
      const sent = new Map<number, { intended: number; at: number }>();
      const acks = new Map<number, { partition?: number; offset?: string; ackAtMs: number }>();
      const errors: string[] = [];
      const t0 = Date.now() + 200;
      const load = await startKafkaLoad({
        connection: conn,
        ns,
        orders: stream.orders,
        t0,
        onSent: (o, intended, at) => sent.set(o.seq, { intended, at }),
        onAck: (o, a) => acks.set(o.seq, a),
        onError: (o, e) => errors.push(`${o.orderId}: ${e.error}`),
      });
      const stats = await load.done;
      expect(errors).toEqual([]);
      expect(stats.sent).toBe(stream.orders.length);
      expect(stats.acked).toBe(stream.orders.length);
      expect(stats.pending).toBe(0);
      for (const o of stream.orders) {
        const s = sent.get(o.seq)!;
        expect(s.intended).toBe(t0 + o.offsetMs);
        // Never early: the send delay (actual - intended) is recorded and not negative.
        expect(s.at).toBeGreaterThanOrEqual(s.intended);
        const a = acks.get(o.seq)!;
        expect(a.partition).toBeGreaterThanOrEqual(0);
        expect(a.partition).toBeLessThan(4);
        expect(BigInt(a.offset!)).toBeGreaterThanOrEqual(0n);
        expect(a.ackAtMs).toBeGreaterThanOrEqual(s.at);
      }

      // The acknowledged offsets are where the records are: read them back.
      const seen = await keysByOffset(testKafka("load-reader"), t.orders, stream.orders.length);
      for (const o of stream.orders) {
        const a = acks.get(o.seq)!;
        expect(seen.get(`${a.partition}:${a.offset}`)).toBe(o.key);
      }
    },
  );
});

describe("kafka load driver: producer worker pool", () => {
  it("delivers every order of a stream exactly once, each ack naming the partition/offset where it is", async () => {
    const conn = testConnection();
    const ns = uniqueNs("load-pool");
    const t = topicsFor(ns);
    await createTopics(conn, [t.stock, t.orders, t.decisions], 5);
    const stream = generateStream(
      validateScenario({ ...BUILTIN_SCENARIOS.steady, timing: { kind: "rate", ratePerSec: 4000, durationMs: 1000 } }),
      3,
    );
    // The driver's contract: only length and at(i) (a compact table stands in for the array in the product).
    const source = { length: stream.orders.length, at: (i: number) => stream.orders[i] };
    const acks = new Map<number, { partition?: number; offset?: string }>();
    let ackCalls = 0;
    const load = await startKafkaLoad({
      connection: conn,
      ns,
      orders: source,
      t0: Date.now() + 200,
      producers: 3,
      onAck: (o, a) => {
        ackCalls++;
        acks.set(o.seq, a);
      },
    });
    const stats = await load.done;
    expect(stats).toMatchObject({
      sent: stream.orders.length,
      acked: stream.orders.length,
      failed: 0,
      unknown: 0,
      pending: 0,
    });
    expect(ackCalls).toBe(stream.orders.length);

    const consumer = testKafka("load-pool-reader").consumer({ groupId: `${ns}.reader` });
    const seen = new Map<string, string[]>();
    let records = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: t.orders, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        records++;
        const at = `${partition}:${message.offset}`;
        seen.set(at, [...(seen.get(at) ?? []), message.key?.toString() ?? ""]);
      },
    });
    try {
      await until("every record read back", () => records >= stream.orders.length || undefined, 60_000);
      // Nothing more arrives: every order is in the topic once.
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      await consumer.disconnect();
    }
    expect(records).toBe(stream.orders.length);
    for (const o of stream.orders) {
      const a = acks.get(o.seq)!;
      expect(seen.get(`${a.partition}:${a.offset}`)).toEqual([o.key]);
    }
  });

  it("says harness-bound when the schedule is beyond what it can send, and why", async () => {
    const conn = testConnection();
    const ns = uniqueNs("load-bound");
    const t = topicsFor(ns);
    await createTopics(conn, [t.stock, t.orders, t.decisions], 2);
    // 150,000 orders all due within the same millisecond: no driver sends them on time.
    const stream = generateStream(
      validateScenario({
        ...BUILTIN_SCENARIOS["last-unit"],
        products: { count: 10, initialStock: 1 },
        demand: { orders: 150_000 },
        timing: { kind: "burst", windowMs: 1 },
      }),
      1,
    );
    // t0 well after the producers are up: the lateness is the rate's, not the start-up's.
    const load = await startKafkaLoad({ connection: conn, ns, orders: stream.orders, t0: Date.now() + 3000 });
    const stats = await load.done;
    expect(stats.acked).toBe(stream.orders.length);
    expect(stats.harnessBound).toBe(true);
    expect(stats.harnessBoundReason).toMatch(/fell behind/);
  });
});
