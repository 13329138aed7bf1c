// naive: one instance of the product service from the event-sourcing question.
//   view processor   (group per instance): stock + decisions  ──► StockView (decrement on OrderReserved)
//   product service  (shared group):       orders ──► check view ──► decisions (OrderReserved / OrderRejected)
// Check and decrement are apart: the view only learns of a reservation when it reads it back.
import kafkajs from "kafkajs";
import type { Consumer, EachBatchPayload, Producer } from "kafkajs";
import {
  announceReady,
  decisionSchema,
  encode,
  instanceContext,
  kafkaJsConfig,
  parseJson,
  runInstance,
  settingsOrExit,
  stockEventSchema,
} from "../contract/index.ts";
import { decide } from "./decide.ts";
import { StockView } from "./view.ts";

const { Kafka, logLevel } = kafkajs;

const ctx = instanceContext();
const settings = settingsOrExit(new URL("./sut.json", import.meta.url));
const BATCH_SIZE = settings.number("batch_size");
const FETCH_WAIT_MS = settings.number("fetch_wait_ms");

const log = (msg: string) => console.log(`${new Date().toISOString()} naive[${ctx.instance}] ${msg}`);
const kafka = new Kafka(kafkaJsConfig(ctx.connection, `naive-${ctx.instance}`, { logLevel: logLevel.WARN }));
const consumerTimeouts = {
  sessionTimeout: 8_000,
  heartbeatInterval: 1_000,
  rebalanceTimeout: 15_000,
  maxWaitTimeInMs: FETCH_WAIT_MS,
};

const view = new StockView();
let producer: Producer | undefined;
let viewConsumer: Consumer | undefined;
let service: Consumer | undefined;

async function startView(): Promise<void> {
  // A group of its own per process (like a GlobalKTable): every instance reads every partition of
  // stock and decisions from the beginning and never commits, so a restart rebuilds the view.
  const admin = kafka.admin();
  await admin.connect();
  const targets = new Map<string, number>(); // "topic/partition" -> end offset at start-up
  for (const topic of [ctx.topics.stock, ctx.topics.decisions]) {
    for (const p of await admin.fetchTopicOffsets(topic)) targets.set(`${topic}/${p.partition}`, Number(p.high));
  }
  await admin.disconnect();
  const next = new Map<string, number>();
  viewConsumer = kafka.consumer({
    groupId: `${ctx.ns}.naive.stock-view.${ctx.instance}.${process.pid}`,
    ...consumerTimeouts,
  });
  await viewConsumer.connect();
  await viewConsumer.subscribe({ topics: [ctx.topics.stock, ctx.topics.decisions], fromBeginning: true });
  await viewConsumer.run({
    autoCommit: false,
    eachMessage: async ({ topic, partition, message }) => {
      if (topic === ctx.topics.stock) {
        const r = parseJson(stockEventSchema, message.value);
        if (r.ok) view.applyStock(r.value);
        else log(`ignoring bad stock record ${partition}/${message.offset}: ${r.reason}`);
      } else {
        const r = parseJson(decisionSchema, message.value);
        if (r.ok) view.applyDecision(r.value);
      }
      next.set(`${topic}/${partition}`, Number(message.offset) + 1);
    },
  });
  // Restore before serving: orders are only checked against a view that has caught up with start-up.
  for (;;) {
    if ([...targets].every(([tp, end]) => (next.get(tp) ?? 0) >= end)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  log(`view restored (${targets.size} partitions)`);
}

async function processBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
  for (let i = 0; i < batch.messages.length; i += BATCH_SIZE) {
    if (!isRunning() || isStale()) return;
    const chunk = batch.messages.slice(i, i + BATCH_SIZE);
    // Every order in the chunk is checked against the same, not yet decremented, view.
    const decisions = chunk.map((m) => decide(view, ctx.instance, m.key, m.value));
    await producer!.send({
      topic: ctx.topics.decisions,
      acks: -1,
      messages: decisions.map((d) => ({ key: d.orderId, value: encode(d) })),
    });
    // At-least-once: commit only after the decisions are acknowledged. A crash in between
    // re-decides the chunk on restart (a duplicate decision, possibly a second sale).
    const last = chunk[chunk.length - 1]!.offset;
    resolveOffset(last);
    await service!.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: String(Number(last) + 1) },
    ]);
    await heartbeat();
  }
}

async function main(): Promise<void> {
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await startView();
  service = kafka.consumer({ groupId: `${ctx.ns}.naive.product-service`, ...consumerTimeouts });
  let joined!: () => void;
  const joinedP = new Promise<void>((r) => (joined = r));
  service.on(service.events.GROUP_JOIN, (e) => {
    log(`product-service joined: ${JSON.stringify(e.payload.memberAssignment)}`);
    joined();
  });
  for (const c of [service, viewConsumer!]) {
    c.on(c.events.CRASH, (e) => {
      log(`consumer crashed: ${e.payload.error.message} (restart: ${e.payload.restart})`);
      if (!e.payload.restart) void shutdown(1);
    });
  }
  await service.connect();
  await service.subscribe({ topic: ctx.topics.orders, fromBeginning: true });
  await service.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: processBatch });
  await joinedP;
  announceReady();
}

const shutdown = runInstance({
  main,
  log,
  stop: async () => {
    log("shutting down");
    await Promise.allSettled([service?.disconnect(), viewConsumer?.disconnect()]);
    await producer?.disconnect().catch(() => {});
  },
});
