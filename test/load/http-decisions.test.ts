// The http load path against the real test broker: the gateway's long poll (answer, pending timeout,
// confirm step), the http driver's client-side decision polls, a tiny bench run through the gateway with
// keyed-transactional, and the closed-loop (autocannon) mode on loopback.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { request } from "undici";
import type { Consumer } from "kafkajs";
import { encode, type Decision } from "../../systems-under-test/contract/events.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { runClosedLoop } from "../../harness/load/closed-loop.ts";
import { OrderGateway } from "../../harness/load/gateway.ts";
import { startHttpLoad } from "../../harness/load/http-driver.ts";
import { resultSchema } from "../../harness/report/result-schema.ts";
import { runBench } from "../../harness/run/bench.ts";
import { Progress } from "../../harness/run/progress.ts";
import { BUILTIN_SCENARIOS, generateStream, validateScenario } from "../../harness/scenario/index.ts";
import { createTopics, testConnection, testKafka, uniqueNs, until } from "../support/kafka.ts";

const gateways: OrderGateway[] = [];
const clients: { disconnect(): Promise<void> }[] = [];
afterAll(async () => {
  for (const g of gateways) await g.close().catch(() => {});
  for (const c of clients) await c.disconnect().catch(() => {});
});

async function setup(label: string, confirms: boolean, partitions = 2) {
  const conn = testConnection();
  const ns = uniqueNs(label);
  const t = topicsFor(ns);
  await createTopics(conn, [t.stock, t.orders, t.decisions], partitions);
  const gw = await OrderGateway.start({ connection: conn, ns, confirms });
  gateways.push(gw);
  const producer = testKafka(`${label}-sut`).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  clients.push(producer);
  const decide = (d: Decision) =>
    producer.send({ topic: t.decisions, acks: -1, messages: [{ key: d.orderId, value: encode(d) }] });
  return { conn, ns, t, gw, producer, decide };
}

const reserved = (orderId: string): Decision => ({
  type: "OrderReserved",
  orderId,
  productId: "p1",
  quantity: 1,
  instance: "t",
});

describe("gateway long poll (GET /orders/:id)", () => {
  it(
    "200 with a decision already written; 202 {status: pending} when " +
      "none arrives in time; a confirming SUT's reserve is not an answer",
    async () => {
      const { gw, decide } = await setup("poll", true);
      // Written before anyone asks: the poll answers from what the gateway has read.
      await decide({ type: "OrderConfirmed", orderId: "d-1", productId: "p1", quantity: 1, instance: "t" });
      const early = await until("the decision of d-1", async () => {
        const r = await request(`${gw.url}/orders/d-1?timeoutMs=1000`);
        const body = (await r.body.json()) as { status: string };
        return r.statusCode === 200 ? body : undefined;
      });
      expect(early.status).toBe("OrderConfirmed");

      // Nothing for this order: the long poll ends with 202 pending (no error, the connection stays usable).
      const pending = await request(`${gw.url}/orders/never?timeoutMs=300`);
      expect(pending.statusCode).toBe(202);
      expect(await pending.body.json()).toEqual({ orderId: "never", status: "pending", decisions: [] });

      // Confirming SUT: OrderReserved is a step — still pending, with the step listed; the confirm answers.
      await decide(reserved("d-2"));
      const step = await until("the reserve of d-2 seen as a step", async () => {
        const r = await request(`${gw.url}/orders/d-2?timeoutMs=300`);
        const body = (await r.body.json()) as { status: string; decisions: Decision[] };
        return r.statusCode === 202 && body.decisions.length === 1 ? body : undefined;
      });
      expect(step.status).toBe("pending");
      const poll = request(`${gw.url}/orders/d-2?timeoutMs=30000`);
      await decide({ type: "OrderConfirmed", orderId: "d-2", productId: "p1", quantity: 1, instance: "t" });
      const answer = await poll;
      expect(answer.statusCode).toBe(200);
      const body = (await answer.body.json()) as { status: string; decisions: Decision[] };
      expect(body.status).toBe("OrderConfirmed");
      expect(body.decisions.map((d) => d.type)).toEqual(["OrderReserved", "OrderConfirmed"]);
    },
  );
});

describe("http driver decision polls", () => {
  it(
    "long-polls every accepted order with bounded concurrency, " + "records each decision, times out the undecided",
    async () => {
      const { conn, ns, t, gw, decide } = await setup("polls", false, 4);
      const stream = generateStream(
        validateScenario({
          ...BUILTIN_SCENARIOS["last-unit"],
          products: { count: 4, initialStock: 1 },
          demand: { ordersPerProduct: 5 },
          timing: { kind: "burst", windowMs: 200 },
        }),
        3,
      );
      const ids = stream.orders.map((o) => o.orderId);
      // Every order but the last two is decided by a stand-in SUT that reads the orders topic.
      const undecided = new Set(ids.slice(-2));
      const reader: Consumer = testKafka("polls-reader", conn).consumer({
        groupId: `${ns}.reader`,
        maxWaitTimeInMs: 100,
      });
      clients.push(reader);
      await reader.connect();
      await reader.subscribe({ topic: t.orders, fromBeginning: true });
      const joined = new Promise<void>((r) => reader.on(reader.events.GROUP_JOIN, () => r()));
      await reader.run({
        eachMessage: async ({ message }) => {
          const id = message.key!.toString();
          if (!undecided.has(id)) await decide(reserved(id));
        },
      });
      await joined;

      const seen = new Map<string, { status: string; latency: number }>();
      const load = await startHttpLoad({
        url: gw.url,
        orders: stream.orders,
        t0: Date.now() + 100,
        decisions: {
          concurrency: 3,
          pollMs: 500,
          timeoutMs: 10_000,
          onDecision: (o, d) => seen.set(o.orderId, { status: d.status, latency: d.seenAtMs - d.intendedAtMs }),
        },
      });
      const stats = await load.done;
      expect(stats.acked).toBe(ids.length);
      const summary = await load.clientDecisions!.settle(Date.now() + 60_000);
      expect(summary.polls).toMatchObject({
        polled: ids.length,
        decided: ids.length - 2,
        timedOut: 2,
        skipped: 0,
        open: 0,
      });
      expect(summary.latencyUs.count).toBe(ids.length - 2);
      expect([...seen.keys()].sort()).toEqual(ids.filter((id) => !undecided.has(id)).sort());
      for (const v of seen.values()) {
        expect(v.status).toBe("OrderReserved");
        expect(v.latency).toBeGreaterThanOrEqual(0);
      }
      expect(summary.latencyUs.max).toBeGreaterThan(0);
      load.abort(); // idempotent after settle
    },
  );

  it(
    "a bench run through the gateway with keyed-transactional " +
      "records the client's decision latency in result.json",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "oversell-http-bench-"));
      const scenario = validateScenario({
        name: "steady-tiny",
        products: { count: 10, initialStock: 100 },
        demand: { quantity: 1 },
        timing: { kind: "rate", ratePerSec: 20, durationMs: 2000 },
        drainTimeoutMs: 40_000,
      });
      const out = await runBench({
        suts: ["keyed-transactional"],
        scenario,
        seed: 5,
        connection: testConnection(),
        instances: 1,
        driver: "http",
        outDir: dir,
        progress: new Progress(process.stderr, true),
      });
      const result = resultSchema.parse(JSON.parse(readFileSync(join(dir, "result.json"), "utf8")));
      expect(result.driver).toBe("http");
      const s = result.suts[0]!;
      expect(s.verdict).toBe("pass");
      expect(s.orders.acked).toBe(40);
      expect(s.httpPolls).toEqual({ polled: 40, decided: 40, timedOut: 0, skipped: 0, errors: 0 });
      expect(s.latencyUs.httpDecision?.count).toBe(40);
      // The client hears of a decision after it is committed (the checker's view), never before.
      expect(s.latencyUs.httpDecision!.max).toBeGreaterThan(0);
      expect(out.summary).toContain("http client decision latency");
    },
  );
});

describe("closed-loop mode (autocannon)", () => {
  it(
    "runs a bounded burst against the gateway and reports " + "requests/s; every accepted order is on the orders topic",
    async () => {
      const { conn, t, gw } = await setup("closed", false, 2);
      const accepted = new Set<string>();
      const r = await runClosedLoop({
        url: gw.url,
        connections: 4,
        durationSec: 2,
        products: ["p1", "p2", "p3"],
        onAccepted: (id) => accepted.add(id),
      });
      expect(r.requests).toBeGreaterThan(0);
      expect(r.requestsPerSec).toBeGreaterThan(0);
      expect(r.non2xx).toBe(0);
      expect(r.errors).toBe(0);
      expect(r.accepted).toBe(r.requests);
      expect(accepted.size).toBe(r.accepted);
      // Every 202 is a record on <ns>.orders: the high watermarks add up to at least the accepted count.
      const admin = testKafka("closed-admin", conn).admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(t.orders);
        const total = offsets.reduce((n, p) => n + Number(p.high), 0);
        expect(total).toBeGreaterThanOrEqual(accepted.size);
      } finally {
        await admin.disconnect();
      }
    },
  );
});
