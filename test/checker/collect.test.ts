// collectDecisions / startDecisionWatch / findOrdersInTopic against the real broker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Producer } from "kafkajs";
import { encode, type Decision } from "../../systems-under-test/contract/events.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import {
  collectDecisions,
  findOrdersInTopic,
  startDecisionWatch,
  type SentOrder,
} from "../../harness/checker/index.ts";
import { EmbeddedCluster } from "../../harness/cluster/embedded.ts";
import { createTopics, testConnection, testKafka, uniqueNs } from "../support/kafka.ts";

const kafka = testKafka("checker-collect");
const open: { disconnect(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(open.map((c) => c.disconnect().catch(() => {})));
});

const T0 = Date.now();
const sent = (orderId: string, status: SentOrder["status"] = "acked"): SentOrder => ({
  orderId,
  productId: "p",
  quantity: 1,
  valid: true,
  intendedAtMs: T0,
  sentAtMs: T0,
  ackAtMs: T0 + 1,
  status,
});
const decision = (type: Decision["type"], orderId: string, extra: object = {}) => ({
  key: orderId,
  value: encode({
    type,
    orderId,
    productId: "p",
    quantity: 1,
    instance: "t",
    ...(type === "OrderRejected" ? { reason: "OUT_OF_STOCK" } : {}),
    ...extra,
  }),
});

async function txProducer(id: string): Promise<Producer> {
  const p = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
  open.push(p);
  await p.connect();
  return p;
}

async function newNamespace(label: string): Promise<string> {
  const ns = uniqueNs(label);
  const t = topicsFor(ns);
  await createTopics(testConnection(), [t.decisions, t.orders], 2);
  return ns;
}

describe("collectDecisions", () => {
  let ns: string;
  let tx: Producer;

  beforeAll(async () => {
    ns = await newNamespace("collect");
    const topic = topicsFor(ns).decisions;
    tx = await txProducer(`${ns}.tx`);
    const committed = await tx.transaction();
    await committed.send({ topic, messages: [decision("OrderReserved", "a"), decision("OrderRejected", "b")] });
    await committed.commit();
    const aborted = await tx.transaction();
    await aborted.send({ topic, messages: [decision("OrderReserved", "b"), decision("OrderReserved", "c")] });
    await aborted.abort();
    const plain = kafka.producer({ idempotent: true });
    open.push(plain);
    await plain.connect();
    await plain.send({ topic, acks: -1, messages: [{ key: "a", value: "{not json" }] });
    const later = await tx.transaction();
    await later.send({ topic, messages: [decision("OrderRejected", "c")] });
    await later.commit();
  });

  it(
    "returns committed decisions, reports aborted and " + "malformed ones, and completes when all are decided",
    async () => {
      const orders = [sent("a"), sent("b"), sent("c"), sent("x", "failed")];
      const progress: [number, number][] = [];
      const before = Date.now();
      const r = await collectDecisions({
        connection: testConnection(),
        ns,
        orders,
        confirms: false,
        deadlineMs: Date.now() + 60_000,
        quietMs: 500,
        onProgress: (d, e) => progress.push([d, e]),
      });
      expect(r.drainComplete).toBe(true);
      expect(r.undecided).toEqual([]);
      expect(r.decisions.map((d) => `${d.event.type}:${d.event.orderId}`).sort()).toEqual([
        "OrderRejected:b",
        "OrderRejected:c",
        "OrderReserved:a",
      ]);
      for (const d of r.decisions) {
        expect(d.seenAtMs).toBeGreaterThanOrEqual(before);
        expect(d.recordTimestampMs).toBeGreaterThan(0);
      }
      expect(r.abortedDecisions.map((d) => `${d.type}:${d.orderId}`).sort()).toEqual([
        "OrderReserved:b",
        "OrderReserved:c",
      ]);
      expect(r.malformedDecisions).toHaveLength(1);
      expect(r.malformedDecisions[0]!.reason).toMatch(/not JSON/);
      expect(r.drainEndedAtMs).toBeGreaterThanOrEqual(before);
      expect(progress.at(-1)).toEqual([3, 3]);
    },
  );

  it(
    "stops at the deadline with drainComplete false when an " +
      "order is never decided, ignoring a still-open transaction",
    async () => {
      const topic = topicsFor(ns).decisions;
      const pendingTx = await txProducer(`${ns}.pending`);
      const inFlight = await pendingTx.transaction();
      await inFlight.send({ topic, messages: [decision("OrderReserved", "e")] });
      try {
        const r = await collectDecisions({
          connection: testConnection(),
          ns,
          orders: [sent("a"), sent("b"), sent("c"), sent("e")],
          confirms: false,
          deadlineMs: Date.now() + 8_000,
          quietMs: 300,
        });
        expect(r.drainComplete).toBe(false);
        expect(r.undecided).toEqual(["e"]);
        expect(r.decisions.some((d) => d.event.orderId === "e")).toBe(false);
        // open, not aborted: the committed reader never got past it
        expect(r.abortedDecisions.some((d) => d.orderId === "e")).toBe(false);
      } finally {
        await inFlight.abort();
      }
    },
  );

  it(
    "never reports records of interleaved aborted transactions " + "(several producers, one partition) as committed",
    async () => {
      const ns3 = await newNamespace("interleaved");
      const topic = topicsFor(ns3).decisions;
      const [pa, pb, pc] = await Promise.all(["a", "b", "c"].map((x) => txProducer(`${ns3}.tx-${x}`)));
      // One key, so one partition: A starts first, B second, B aborts first (the broker lists B before A).
      const ta = await pa!.transaction(),
        tb = await pb!.transaction();
      await ta.send({ topic, messages: [decision("OrderReserved", "k", { instance: "A1" })] });
      await tb.send({ topic, messages: [decision("OrderReserved", "k", { instance: "B1" })] });
      await ta.send({ topic, messages: [decision("OrderReserved", "k", { instance: "A2" })] });
      await tb.abort();
      await ta.abort();
      const tc = await pc!.transaction();
      await tc.send({ topic, messages: [decision("OrderRejected", "k", { instance: "C" })] });
      await tc.commit();
      const r = await collectDecisions({
        connection: testConnection(),
        ns: ns3,
        orders: [sent("k")],
        confirms: false,
        deadlineMs: Date.now() + 60_000,
        quietMs: 500,
      });
      expect(r.decisions.map((d) => d.event.instance)).toEqual(["C"]);
      expect(r.abortedDecisions.map((d) => d.instance).sort()).toEqual(["A1", "A2", "B1"]);
    },
  );

  it("waits for terminal decisions of a confirming SUT (Reserved alone is not enough)", async () => {
    const ns2 = await newNamespace("collect-confirm");
    const topic = topicsFor(ns2).decisions;
    const p = await txProducer(`${ns2}.tx`);
    const t1 = await p.transaction();
    await t1.send({
      topic,
      messages: [decision("OrderReserved", "a"), decision("OrderReserved", "b"), decision("OrderConfirmed", "b")],
    });
    await t1.commit();
    const short = await collectDecisions({
      connection: testConnection(),
      ns: ns2,
      orders: [sent("a"), sent("b")],
      confirms: true,
      deadlineMs: Date.now() + 6_000,
      quietMs: 300,
    });
    expect(short.drainComplete).toBe(false);
    expect(short.undecided).toEqual(["a"]);
    expect(short.decisions).toHaveLength(3);

    const t2 = await p.transaction();
    await t2.send({ topic, messages: [decision("ReservationExpired", "a")] });
    await t2.commit();
    const full = await collectDecisions({
      connection: testConnection(),
      ns: ns2,
      orders: [sent("a"), sent("b")],
      confirms: true,
      deadlineMs: Date.now() + 60_000,
      quietMs: 300,
    });
    expect(full.drainComplete).toBe(true);
    expect(full.decisions).toHaveLength(4);
    expect(full.abortedDecisions).toEqual([]);
  });

  it(
    "finds aborted decisions when every transaction on the topic aborted " +
      "(the committed reader sees no transactional record, only what it skips)",
    async () => {
      const ns4 = await newNamespace("only-aborted");
      const topic = topicsFor(ns4).decisions;
      const plain = kafka.producer({ idempotent: true });
      open.push(plain);
      await plain.connect();
      await plain.send({ topic, acks: -1, messages: [decision("OrderReserved", "a")] });
      const p = await txProducer(`${ns4}.tx`);
      const t = await p.transaction();
      await t.send({ topic, messages: [decision("OrderReserved", "b")] });
      await t.abort();
      await plain.send({ topic, acks: -1, messages: [decision("OrderRejected", "b")] });
      const r = await collectDecisions({
        connection: testConnection(),
        ns: ns4,
        orders: [sent("a"), sent("b")],
        confirms: false,
        deadlineMs: Date.now() + 60_000,
        quietMs: 300,
      });
      expect(r.decisions.map((d) => `${d.event.type}:${d.event.orderId}`).sort()).toEqual([
        "OrderRejected:b",
        "OrderReserved:a",
      ]);
      expect(r.abortedDecisions.map((d) => `${d.type}:${d.orderId}`)).toEqual(["OrderReserved:b"]);
    },
  );
});

describe("startDecisionWatch", () => {
  it("sees decisions as they are written, before done() is called", async () => {
    const ns = await newNamespace("watch");
    const watch = startDecisionWatch({ connection: testConnection(), ns, confirms: false });
    try {
      expect(await watch.waitReady(60_000)).toBe(true);
      const p = await txProducer(`${ns}.tx`);
      const writtenAt = Date.now();
      const t = await p.transaction();
      await t.send({
        topic: topicsFor(ns).decisions,
        messages: [decision("OrderReserved", "w1"), decision("OrderRejected", "w2")],
      });
      await t.commit();
      const deadline = Date.now() + 30_000;
      while (watch.seen() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const doneAt = Date.now();
      const r = await watch.done(Date.now() + 30_000, { orders: [sent("w1"), sent("w2")], quietMs: 300 });
      expect(r.drainComplete).toBe(true);
      expect(r.decisions).toHaveLength(2);
      for (const d of r.decisions) {
        expect(d.seenAtMs).toBeGreaterThanOrEqual(writtenAt);
        expect(d.seenAtMs).toBeLessThanOrEqual(doneAt);
      }
    } finally {
      await watch.stop();
    }
  });
});

describe("findOrdersInTopic", () => {
  it("finds orders stored in <ns>.orders by key, even when the value is not JSON", async () => {
    const ns = await newNamespace("find");
    const p = kafka.producer({ idempotent: true });
    open.push(p);
    await p.connect();
    await p.send({
      topic: topicsFor(ns).orders,
      acks: -1,
      messages: [
        {
          key: "o1",
          value: encode({
            type: "OrderPlaced",
            orderId: "o1",
            productId: "p",
            quantity: 1,
            customerId: "c",
            sentAtMs: T0,
          }),
        },
        { key: "o2", value: "{broken" },
        {
          key: "o3",
          value: encode({
            type: "OrderPlaced",
            orderId: "o3",
            productId: "p",
            quantity: 1,
            customerId: "c",
            sentAtMs: T0,
          }),
        },
      ],
    });
    const found = await findOrdersInTopic(testConnection(), ns, ["o1", "o2", "missing"], 60_000);
    expect([...found].sort()).toEqual(["o1", "o2"]);
    expect(await findOrdersInTopic(testConnection(), ns, [], 1_000)).toEqual(new Set());
  });
});

describe("collectDecisions when Kafka is not there (yet)", () => {
  it("keeps retrying until the decisions topic exists", async () => {
    const ns = uniqueNs("late-topic");
    const t = topicsFor(ns);
    const collecting = collectDecisions({
      connection: testConnection(),
      ns,
      orders: [sent("l1")],
      confirms: false,
      deadlineMs: Date.now() + 60_000,
      quietMs: 300,
    });
    await new Promise((r) => setTimeout(r, 2_000)); // let the reader fail on the missing topic at least once
    await createTopics(testConnection(), [t.decisions], 1);
    const p = await txProducer(`${ns}.tx`);
    const tr = await p.transaction();
    await tr.send({ topic: t.decisions, messages: [decision("OrderReserved", "l1")] });
    await tr.commit();
    const r = await collecting;
    expect(r.drainComplete).toBe(true);
    expect(r.decisions.map((d) => d.event.orderId)).toEqual(["l1"]);
  });

  it("returns at the deadline, incomplete, when no broker answers", { timeout: 30_000 }, async () => {
    const r = await collectDecisions({
      connection: { brokers: ["127.0.0.1:1"] },
      ns: uniqueNs("nobroker"),
      orders: [sent("n1")],
      confirms: false,
      deadlineMs: Date.now() + 3_000,
    });
    expect(r.drainComplete).toBe(false);
    expect(r.undecided).toEqual(["n1"]);
    expect(r.decisions).toEqual([]);
    expect(r.warnings.length).toBeGreaterThan(0);
  });
});

describe("startDecisionWatch across a broker restart", () => {
  let cluster: EmbeddedCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it("loses nothing and decides everything after the broker comes back", async () => {
    cluster = await EmbeddedCluster.start({ brokers: 1 });
    const conn = cluster.connection;
    const ns = uniqueNs("restart");
    const topic = topicsFor(ns).decisions;
    await createTopics(conn, [topic], 2);
    const own = testKafka("checker-restart", conn);
    const watch = startDecisionWatch({ connection: conn, ns, confirms: false });
    try {
      expect(await watch.waitReady(60_000)).toBe(true);
      const before = own.producer({ idempotent: true });
      await before.connect();
      await before.send({
        topic,
        acks: -1,
        messages: [decision("OrderReserved", "r1"), decision("OrderRejected", "r2")],
      });
      await before.disconnect();
      await cluster.restartNode(1);
      const after = own.producer({ idempotent: true });
      await after.connect();
      await after.send({ topic, acks: -1, messages: [decision("OrderReserved", "r3")] });
      await after.disconnect();
      const r = await watch.done(Date.now() + 90_000, { orders: [sent("r1"), sent("r2"), sent("r3")], quietMs: 500 });
      expect(r.drainComplete).toBe(true);
      expect(r.decisions.map((d) => d.event.orderId).sort()).toEqual(["r1", "r2", "r3"]);
    } finally {
      await watch.stop();
    }
  });
});
