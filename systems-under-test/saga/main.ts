// One saga instance: an order-side task group and a product-side task group in one process.
// Start N of these (the harness does, from sut.json); partitions are spread among them.
// The sides run on the chosen client (setting `client`): kafkajs (EOS v1, runtime.ts) or
// @confluentinc/kafka-javascript (EOS v2, runtime-confluent.ts); the admin client and the
// changelog replica are kafkajs on both.
// First, before kafkajs loads: its read_committed filter lets records of aborted transactions
// through when several producers write one partition (reserve-commands, replies).
import { readCommittedFixStats } from "../contract/kafkajs-read-committed.ts";
import { randomBytes } from "node:crypto";
import kafkajs from "kafkajs";
import {
  announceReady,
  createTopicsServed,
  describeConnection,
  instanceContext,
  kafkaJsConfig,
  loadConfluent,
  settingsOrExit,
} from "../contract/index.ts";
import { orderLogic } from "./order-side.ts";
import { productLogic } from "./product-side.ts";
import { ConfluentSide } from "./runtime-confluent.ts";
import { Replica, Side, type RunnerOptions } from "./runtime.ts";

const { Kafka, logLevel } = kafkajs;

const ctx = instanceContext();
const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} saga[${ctx.instance}] ${msg}\n`);

const declared = settingsOrExit(new URL("./sut.json", import.meta.url));
const settings = {
  paymentFailureRate: declared.number("payment_failure_rate"),
  reservationTtlMs: declared.number("reservation_ttl_ms"),
  paymentDelayMs: declared.number("payment_delay_ms"),
  sessionTimeoutMs: declared.number("session_timeout_ms"),
  stallMs: declared.number("stall_ms"),
  client: declared.choice("client"),
};
const confluent = settings.client === "confluent" ? loadConfluent() : undefined;

const kafka = new Kafka(
  kafkaJsConfig(ctx.connection, `saga-${ctx.instance}`, {
    logLevel: logLevel.ERROR,
    logCreator: () => (entry) => {
      // Rebalances are routine here; keep real errors only.
      const m = entry.log.message;
      const all = `${m} ${entry.log.error ?? ""}`;
      if (
        /rebalanc|not the correct coordinator|coordinator is loading|concurrent operation|Topic creation errors/i.test(
          all,
        )
      )
        return;
      log(`kafkajs ${entry.namespace}: ${m}${entry.log.error ? ` (${entry.log.error})` : ""}`);
    },
  }),
);
const t = {
  stock: ctx.topics.stock,
  orders: ctx.topics.orders,
  decisions: ctx.topics.decisions,
  commands: ctx.topics.internal("saga", "reserve-commands"),
  replies: ctx.topics.internal("saga", "replies"),
  orderChangelog: ctx.topics.internal("saga", "order-changelog"),
  productChangelog: ctx.topics.internal("saga", "product-changelog"),
};

const admin = kafka.admin();

/** Internal topics mirror the partition count of the input they are co-partitioned with. */
async function createTopics(): Promise<void> {
  const meta = await admin.fetchTopicMetadata({ topics: [t.stock, t.orders, t.decisions] });
  const count = (topic: string) => {
    const m = meta.topics.find((x) => x.name === topic);
    if (!m || m.partitions.length === 0) throw new Error(`topic ${topic} does not exist (the harness creates it)`);
    return m.partitions.length;
  };
  const productParts = count(t.stock);
  const orderParts = count(t.orders);
  const brokers = (await admin.describeCluster()).brokers.length;
  const replicationFactor = brokers >= 3 ? 3 : 1;
  const compact = [{ name: "cleanup.policy", value: "compact" }];
  const want = [
    { topic: t.commands, numPartitions: productParts, replicationFactor },
    { topic: t.productChangelog, numPartitions: productParts, replicationFactor, configEntries: compact },
    { topic: t.replies, numPartitions: orderParts, replicationFactor },
    { topic: t.orderChangelog, numPartitions: orderParts, replicationFactor, configEntries: compact },
  ];
  // Another instance may be creating the same topics at the same moment: that is fine.
  await createTopicsServed(admin, want);
}

async function main(): Promise<void> {
  log(`starting: ns=${ctx.ns} kafka=${describeConnection(ctx.connection)} settings=${JSON.stringify(settings)}`);
  if (confluent) log(`client: confluent (librdkafka ${confluent.librdkafkaVersion}, EOS v2)`);
  await admin.connect();
  await createTopics();

  const replica = new Replica(kafka, `${ctx.ns}.saga.replica.${ctx.instance}.${randomBytes(4).toString("hex")}`, [
    t.orderChangelog,
    t.productChangelog,
  ]);
  await replica.start();

  const timeouts = { sessionTimeoutMs: settings.sessionTimeoutMs, stallMs: settings.stallMs };
  /** A side on the chosen client (the stall watchdog is kafkajs's: stallMs is not used on confluent). */
  const side = (o: RunnerOptions & { transactionalInputs: string[] }) =>
    confluent
      ? new ConfluentSide({ ...o, mod: confluent, connection: ctx.connection, instance: ctx.instance, ...timeouts })
      : new Side({ ...o, kafka, admin, ...timeouts });
  const product = side({
    name: "product",
    groupId: `${ctx.ns}.saga.product`,
    inputs: [t.commands, t.stock],
    changelog: t.productChangelog,
    replica,
    transactionalInputs: [t.commands],
    log,
    logic: productLogic({
      stockTopic: t.stock,
      commandsTopic: t.commands,
      repliesTopic: t.replies,
      ttlMs: settings.reservationTtlMs,
      admin,
      log,
    }),
  });
  const order = side({
    name: "order",
    groupId: `${ctx.ns}.saga.order`,
    inputs: [t.orders, t.replies],
    changelog: t.orderChangelog,
    replica,
    transactionalInputs: [t.replies],
    log,
    logic: orderLogic({
      ordersTopic: t.orders,
      repliesTopic: t.replies,
      commandsTopic: t.commands,
      decisionsTopic: t.decisions,
      instance: ctx.instance,
      paymentFailureRate: settings.paymentFailureRate,
      paymentDelayMs: settings.paymentDelayMs,
      log,
    }),
  });

  let stopping = false;
  const shutdown = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping (read_committed fix: ${JSON.stringify(readCommittedFixStats())})`);
    await Promise.all([order.stop(), product.stop()]);
    await replica.stop();
    await admin.disconnect().catch(() => {});
    log("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  await Promise.all([product.start(), order.start()]);
  // Ready = both groups joined and their assigned tasks restored (bounded: a later
  // rebalance from the next instance's join may move tasks again).
  const deadline = Date.now() + 45_000;
  while (!(product.joined && order.joined && (await product.tasksReady()) && (await order.tasksReady()))) {
    if (Date.now() > deadline) {
      if (product.joined && order.joined) break;
      throw new Error("consumer groups not joined within 45 s");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  log("ready");
  announceReady();
  let reported = "";
  setInterval(() => {
    const st = JSON.stringify(readCommittedFixStats());
    if (st !== reported) log(`read_committed fix: ${(reported = st)}`);
  }, 5_000).unref();
}

process.on("unhandledRejection", (e) => log(`unhandled rejection: ${(e as Error)?.stack ?? e}`));
main().catch((e) => {
  log(`fatal: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
