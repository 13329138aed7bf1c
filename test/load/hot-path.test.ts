// The driver's hot path against the slow ways it replaces: its murmur2 partitioner (32-bit arithmetic)
// against kafkajs's own default partitioner (64-bit Long):
// every key must land on the same partition (or offsets and key order would be wrong); and orderValue's direct
// writing of the usual body against JSON.stringify.
import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { partitionFor } from "../../harness/load/produce.ts";
import { BUILTIN_SCENARIOS, generateStream, orderValue, validateScenario } from "../../harness/scenario/index.ts";

const keyed = kafkajs.Partitioners.DefaultPartitioner();
const metadata = (n: number) =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
  }));

describe("partitionFor", () => {
  it("gives kafkajs's partition for ASCII, unicode, empty and long keys and any partition count", () => {
    let seed = 1;
    const rnd = () => (seed = (Math.imul(seed, 48271) >>> 0) % 0x7fffffff) / 0x7fffffff;
    const alphabet = ["a", "z", "0", "9", "-", "é", "€", "😀", "\u0000", "\u007f", "\u0080", "~"];
    const keys = ["", "o000000", "o123456", "x".repeat(300), "é".repeat(200)];
    for (let i = 0; i < 3000; i++) {
      const n = Math.floor(rnd() * 24);
      let k = "";
      for (let j = 0; j < n; j++) k += alphabet[Math.floor(rnd() * alphabet.length)];
      keys.push(k, `o${String(i).padStart(6, "0")}`);
    }
    const seen = new Set<number>();
    for (const key of keys)
      for (const partitions of [1, 2, 3, 4, 7, 12, 64]) {
        const p = partitionFor("t", key, partitions);
        expect(p, `${JSON.stringify(key)} / ${partitions}`).toBe(
          keyed({ topic: "t", partitionMetadata: metadata(partitions), message: { key, value: null } }),
        );
        if (partitions === 64) seen.add(p);
      }
    expect(seen.size).toBeGreaterThan(60); // spread: a constant partitioner would not pass
  });
});

describe("orderValue", () => {
  it("writes the bytes JSON.stringify writes, for every kind of generated order and odd bodies", () => {
    const scenario = validateScenario({ ...BUILTIN_SCENARIOS.steady, invalid: { rate: 0.3 } });
    const orders = generateStream(scenario, 4).orders;
    const bodies: Record<string, unknown>[] = [
      { type: "OrderPlaced", orderId: 'o"1', productId: "p", quantity: 1, customerId: "c" },
      { type: "OrderPlaced", orderId: "o\u2028", productId: "p\ud800", quantity: -0, customerId: "c\n" },
      { type: "OrderPlaced", orderId: "o", productId: "p", quantity: 1.5e300, customerId: "c", extra: 1 },
      { orderId: "o", type: "OrderPlaced", productId: "p", quantity: 1, customerId: "c" },
      { type: "OrderPlaced", orderId: "o", productId: "p", quantity: 2, customerId: "c", sentAtMs: 1 },
    ];
    let plain = 0;
    for (const o of [...orders, ...bodies.map((body) => ({ ...orders[0]!, raw: undefined, body }))]) {
      for (const at of [1796206861374, 1796206861374.25]) {
        const want = o.raw !== undefined || !o.body ? (o.raw ?? "") : JSON.stringify({ ...o.body, sentAtMs: at });
        expect(orderValue(o, at).toString("utf8")).toBe(want);
        if (o.body && Object.keys(o.body).length === 5) plain++;
      }
    }
    expect(plain).toBeGreaterThan(10);
  });
});
