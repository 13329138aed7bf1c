// Orders and stock read back from the topics (check --from-topics --ns): every rule of topic-orders.ts on records
// written here, on the real test broker.
import { describe, expect, it } from "vitest";
import { encode } from "../../systems-under-test/contract/events.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { ordersFromTopic, stockFromTopic } from "../../harness/checker/topic-orders.ts";
import { createTopics, testConnection, testKafka, uniqueNs } from "../support/kafka.ts";

describe("orders and stock from the topics", () => {
  it("reads each order record as an owed order, validity and latency origin as the rules say", async () => {
    const conn = testConnection();
    const ns = uniqueNs("topic-orders");
    const t = topicsFor(ns);
    await createTopics(conn, [t.stock, t.orders, t.decisions], 2);
    const producer = testKafka("topic-orders").producer();
    await producer.connect();
    const order = (id: string, extra: Record<string, unknown> = {}) => ({
      key: id,
      value: encode({ type: "OrderPlaced", orderId: id, productId: "p1", quantity: 2, customerId: "c", ...extra }),
    });
    try {
      await producer.send({
        topic: t.stock,
        messages: [
          { key: "p1", value: encode({ type: "StockSet", productId: "p1", quantity: 3 }) },
          { key: "p1", value: encode({ type: "StockAdded", productId: "p1", quantity: 4 }) },
          { key: "p2", value: encode({ type: "StockSet", productId: "p2", quantity: 1 }) },
          { key: "p2", value: "not a stock event" },
        ],
      });
      await producer.send({
        topic: t.orders,
        messages: [
          order("stated", { sentAtMs: 1_000_500, intendedAtMs: 1_000_000 }),
          order("unstated", { sentAtMs: 5 }),
          order("bad-intent", { sentAtMs: 5, intendedAtMs: "soon" }),
          order("unknown-product", { sentAtMs: 5, productId: "nope" }),
          order("no-sent-at"),
          { key: "garbled", value: "{not json" },
          order("stated", { sentAtMs: 1_000_600, intendedAtMs: 1_000_100 }),
        ],
      });
    } finally {
      await producer.disconnect();
    }

    const stock = await stockFromTopic(conn, ns);
    expect(stock.products).toEqual([
      { productId: "p1", initial: 3, restocked: 4 },
      { productId: "p2", initial: 1, restocked: 0 },
    ]);
    expect(stock.warnings.join()).toMatch(/1 record\(s\) that are not StockSet/);

    const { book, latencyFrom, warnings } = await ordersFromTopic(conn, ns, new Set(["p1", "p2"]));
    expect(warnings).toEqual([]);
    expect(book.size).toBe(7);
    const row = (id: string) => book.find(id);
    for (const id of ["stated", "unstated", "bad-intent", "unknown-product", "no-sent-at", "garbled"]) {
      expect(row(id), id).toBeGreaterThanOrEqual(0);
      expect(book.summary(row(id)).owed, id).toBe(true);
    }
    // Valid: parses as OrderPlaced (sentAtMs is required) and its product has stock; a bad intendedAtMs is ignored.
    expect(book.valid(row("stated"))).toBe(true);
    expect(book.valid(row("unstated"))).toBe(true);
    expect(book.valid(row("bad-intent"))).toBe(true);
    expect(book.valid(row("unknown-product"))).toBe(false);
    expect(book.invalidKind.get(row("unknown-product"))).toBe("unknown-product");
    expect(book.valid(row("no-sent-at"))).toBe(false);
    expect(book.valid(row("garbled"))).toBe(false);
    // Latency from the stated intended time (and the send delay beside it), else the record timestamp.
    const s = row("stated");
    expect(book.intended[s]).toBe(1_000_000);
    expect(book.sentAt[s]).toBe(1_000_500);
    const u = row("unstated");
    expect(book.intended[u]).toBe(book.ackAt[u]);
    expect(book.intended[u]).toBeGreaterThan(1_700_000_000_000);
    expect(Number.isNaN(book.sentAt[u]!)).toBe(true);
    // The repeated orderId is one order sent twice (a retry), its first send the reference.
    expect(book.entries(s)).toBe(2);
    expect(book.summary(s).intended).toBe(1_000_000);
    expect(latencyFrom).toEqual({ intended: 2, recordTimestamp: 5 });
  });
});
