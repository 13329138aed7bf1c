// The order gateway against the real test broker: POST publishes, GET answers with the decision.
import { afterAll, describe, expect, it } from "vitest";
import { request } from "undici";
import { encode } from "../../systems-under-test/contract/events.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { OrderGateway } from "../../harness/load/gateway.ts";
import { startHttpLoad } from "../../harness/load/http-driver.ts";
import { generateStream, validateScenario, BUILTIN_SCENARIOS } from "../../harness/scenario/index.ts";
import { createTopics, testConnection, testKafka, uniqueNs, until } from "../support/kafka.ts";

describe("http order gateway", () => {
  const gateways: OrderGateway[] = [];
  afterAll(async () => {
    for (const g of gateways) await g.close();
  });

  it("accepts POST /orders (202 with orderId, publishes OrderPlaced) and answers GET with the decision", async () => {
    const conn = testConnection();
    const ns = uniqueNs("gateway");
    const t = topicsFor(ns);
    await createTopics(conn, [t.stock, t.orders, t.decisions], 2);
    const gw = await OrderGateway.start({ connection: conn, ns, confirms: false });
    gateways.push(gw);

    const post = await request(`${gw.url}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ orderId: "g-1", productId: "p1", quantity: 1, customerId: "c1" }),
    });
    expect(post.statusCode).toBe(202);
    const accepted = (await post.body.json()) as { orderId: string; partition: number; offset: string };
    expect(accepted.orderId).toBe("g-1");
    expect(accepted.partition).toBeGreaterThanOrEqual(0);

    // The record is on <ns>.orders, keyed by orderId, as an OrderPlaced.
    const consumer = testKafka("gw-reader").consumer({ groupId: `${ns}.reader` });
    let record: { key: string; value: Record<string, unknown> } | undefined;
    await consumer.connect();
    await consumer.subscribe({ topic: t.orders, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) =>
        void (record = { key: message.key!.toString(), value: JSON.parse(message.value!.toString()) }),
    });
    try {
      await until("the order on the orders topic", () => record, 30_000);
    } finally {
      await consumer.disconnect();
    }
    expect(record!.key).toBe("g-1");
    expect(record!.value).toMatchObject({ type: "OrderPlaced", orderId: "g-1", productId: "p1", quantity: 1 });
    expect(typeof record!.value.sentAtMs).toBe("number");

    // Not decided yet: a short poll answers pending.
    const pending = await request(`${gw.url}/orders/g-1?timeoutMs=200`);
    expect(pending.statusCode).toBe(202);
    expect(((await pending.body.json()) as { status: string }).status).toBe("pending");

    // A long poll that a decision (written as a SUT would, in a transaction) answers.
    const poll = request(`${gw.url}/orders/g-1?timeoutMs=30000`);
    const producer = testKafka("gw-sut").producer({
      transactionalId: `${ns}.tx`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const tx = await producer.transaction();
    await tx.send({
      topic: t.decisions,
      messages: [
        {
          key: "g-1",
          value: encode({ type: "OrderReserved", orderId: "g-1", productId: "p1", quantity: 1, instance: "0" }),
        },
      ],
    });
    await tx.commit();
    await producer.disconnect();
    const answer = await poll;
    expect(answer.statusCode).toBe(200);
    const body = (await answer.body.json()) as { status: string; decision: { orderId: string; productId: string } };
    expect(body.status).toBe("OrderReserved");
    expect(body.decision).toMatchObject({ orderId: "g-1", productId: "p1" });

    // Unreadable bodies pass through verbatim (the SUT must reject them), keyed by x-order-id.
    const bad = await request(`${gw.url}/orders`, {
      method: "POST",
      headers: { "x-order-id": "g-bad" },
      body: "{not json",
    });
    expect(bad.statusCode).toBe(202);
    expect(((await bad.body.json()) as { orderId: string }).orderId).toBe("g-bad");
  });

  it("the http driver delivers a stream through the gateway open-loop with an ack for each", async () => {
    const conn = testConnection();
    const ns = uniqueNs("httpload");
    const t = topicsFor(ns);
    await createTopics(conn, [t.stock, t.orders, t.decisions], 4);
    const gw = await OrderGateway.start({ connection: conn, ns, confirms: false });
    gateways.push(gw);
    const stream = generateStream(
      validateScenario({
        ...BUILTIN_SCENARIOS["last-unit"],
        products: { count: 5, initialStock: 1 },
        demand: { ordersPerProduct: 4 },
        timing: { kind: "burst", windowMs: 200 },
      }),
      2,
    );
    const acked = new Set<string>();
    const errors: string[] = [];
    const load = await startHttpLoad({
      url: gw.url,
      orders: stream.orders,
      t0: Date.now() + 100,
      onAck: (o, a) => {
        expect(a.partition).toBeGreaterThanOrEqual(0);
        acked.add(o.orderId);
      },
      onError: (o, e) => errors.push(`${o.orderId}: ${e.error}`),
    });
    const stats = await load.done;
    expect(errors).toEqual([]);
    expect(stats.acked).toBe(stream.orders.length);
    expect(acked.size).toBe(stream.orders.length);
  });
});
