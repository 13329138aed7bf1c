// The kafka driver against the real test broker: open-loop sends, an outcome for every order.
import { describe, expect, it } from "vitest";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { startKafkaLoad } from "../../harness/load/kafka-driver.ts";
import { generateStream, validateScenario, BUILTIN_SCENARIOS } from "../../harness/scenario/index.ts";
import { createTopics, testConnection, testKafka, uniqueNs, until } from "../support/kafka.ts";

describe("kafka load driver", () => {
  it("sends a small stream open-loop and records an ack (partition/offset) for every order, with send times", async () => {
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
      connection: conn, ns, orders: stream.orders, t0,
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
    const consumer = testKafka("load-reader").consumer({ groupId: `${ns}.reader` });
    const seen = new Map<string, string>();
    await consumer.connect();
    await consumer.subscribe({ topic: t.orders, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => void seen.set(`${partition}:${message.offset}`, message.key?.toString() ?? "") });
    try {
      await until("every record read back", () => seen.size >= stream.orders.length || undefined, 30_000);
    } finally {
      await consumer.disconnect();
    }
    for (const o of stream.orders) {
      const a = acks.get(o.seq)!;
      expect(seen.get(`${a.partition}:${a.offset}`)).toBe(o.key);
    }
  });
});
