// keyed-transactional: one instance of the accepted answer.
//   router   (group <ns>.keyed-transactional.router):   orders + stock ──► by-product (key productId)
//                                                        invalid orders ──► decisions (INVALID)
//   reserver (group <ns>.keyed-transactional.reserver): by-product ──► decisions + changelog
//   mirror   (group per process):                       changelog ──► restore copies
// Both stages are exactly-once consume-transform-produce (stage.ts).
// First, before kafkajs loads: its read_committed filter lets aborted records through.
import { readCommittedFixStats } from "../contract/kafkajs-read-committed.ts";
import { randomBytes } from "node:crypto";
import kafkajs from "kafkajs";
import type { Admin } from "kafkajs";
import {
  announceReady,
  createTopicsServed,
  encode,
  instanceContext,
  kafkaJsConfig,
  loadConfluent,
  parseJson,
  parseOrderRecord,
  runInstance,
  stockEventSchema,
} from "../contract/index.ts";
import { ChangelogMirror } from "./mirror.ts";
import { parseByProduct, type PartitionState } from "./records.ts";
import { step } from "./reserve.ts";
import { readSettings } from "./settings.ts";
import { Stage, type OutRecord, type PartitionProcessor, type StageSpec } from "./stage.ts";
import { ConfluentStage } from "./stage-confluent.ts";

const { Kafka, logLevel } = kafkajs;
const SUT = "keyed-transactional";

const ctx = instanceContext();
const settings = readSettings(ctx);
const log = (msg: string) => console.log(`${new Date().toISOString()} ${SUT}[${ctx.instance}] ${msg}`);
const kafka = new Kafka(kafkaJsConfig(ctx.connection, `${SUT}-${ctx.instance}`, { logLevel: logLevel.WARN }));
const byProduct = ctx.topics.internal(SUT, "by-product");
const changelog = ctx.topics.internal(SUT, "changelog");
const routerGroup = `${ctx.ns}.${SUT}.router`;
const reserverGroup = `${ctx.ns}.${SUT}.reserver`;

let admin: Admin | undefined;
/** A stage on the chosen client (settings.client): kafkajs (EOS v1) or confluent (EOS v2). */
type AnyStage = Pick<Stage, "start" | "stop" | "joined">;
let router: AnyStage | undefined;
let reserver: AnyStage | undefined;
const confluent = settings.client === "confluent" ? loadConfluent() : undefined;

function newStage(spec: StageSpec): AnyStage {
  if (confluent) return new ConfluentStage(confluent, ctx.connection, ctx.instance, spec, settings, log);
  return new Stage(kafka, admin!, spec, settings, log);
}
let mirror: ChangelogMirror | undefined;

async function ensureTopics(a: Admin): Promise<void> {
  const [meta] = (await a.fetchTopicMetadata({ topics: [ctx.topics.orders] })).topics;
  const partitions = settings.partitions ?? meta!.partitions.length;
  const replicationFactor = Math.min(3, (await a.describeCluster()).brokers.length);
  // Another instance may create them at the same moment: that is fine.
  await createTopicsServed(a, [
    { topic: byProduct, numPartitions: partitions, replicationFactor },
    {
      topic: changelog,
      numPartitions: partitions,
      replicationFactor,
      configEntries: [{ name: "cleanup.policy", value: "compact" }],
    },
  ]);
  // Both instances must agree on the partition count (same partitioner, changelog p = by-product p).
  const md = await a.fetchTopicMetadata({ topics: [byProduct, changelog] });
  const counts = md.topics.map((t) => t.partitions.length);
  if (counts[0] !== counts[1])
    throw new Error(`${byProduct} and ${changelog} have different partition counts: ${counts.join(" vs ")}`);
}

/** Router: stateless; re-keys by productId so one owner sees every event of a product, in order. */
function routerProcessor(topic: string, partition: number): PartitionProcessor {
  return {
    process(messages) {
      const out: OutRecord[] = [];
      for (const m of messages) {
        if (topic === ctx.topics.stock) {
          const r = parseJson(stockEventSchema, m.value);
          if (!r.ok) {
            log(`ignoring bad stock record ${partition}/${m.offset}: ${r.reason}`);
            continue;
          }
          out.push({
            topic: byProduct,
            key: r.value.productId,
            value: encode({ kind: "stock", event: r.value, src: partition, offset: Number(m.offset) }),
          });
          continue;
        }
        const input = parseOrderRecord(m.key, m.value);
        if (input.ok) {
          out.push({
            topic: byProduct,
            key: input.order.productId,
            value: encode({ kind: "order", order: input.order }),
          });
        } else {
          const { orderId, productId, quantity } = input;
          out.push({
            topic: ctx.topics.decisions,
            key: orderId,
            value: encode({
              type: "OrderRejected",
              orderId,
              productId,
              quantity,
              instance: ctx.instance,
              reason: "INVALID",
            }),
          });
        }
      }
      return out;
    },
  };
}

/** Reserver: owns the state of its by-product partitions; restored through the mirror on assignment. */
async function reserverProcessor(
  partition: number,
  write: (r: OutRecord[]) => Promise<void>,
): Promise<PartitionProcessor> {
  const token = `${ctx.instance}-${process.pid}-${randomBytes(6).toString("hex")}`;
  const restored = mirror!.waitFor(token, 60_000);
  restored.catch(() => {});
  await write([{ topic: changelog, key: "sync", value: encode({ token }), partition }]);
  log(`reserver partition ${partition}: sync token ${token} committed, waiting for the mirror`);
  const state: PartitionState = await restored;
  log(`reserver restored partition ${partition}: ${state.left.size} products, ${state.decided.size} decided orders`);
  return {
    process(messages) {
      const out: OutRecord[] = [];
      const changes = new Map<string, object>();
      for (const m of messages) {
        const r = parseByProduct(m.value);
        if (!r.ok) {
          log(`ignoring bad by-product record ${partition}/${m.offset}: ${r.reason}`);
          continue;
        }
        const s = step(state, r.value, ctx.instance, settings.backorder);
        if (s.decision) out.push({ topic: ctx.topics.decisions, key: s.decision.orderId, value: encode(s.decision) });
        for (const [k, v] of s.changelog) changes.set(k, v);
      }
      for (const [key, v] of changes) out.push({ topic: changelog, key, value: encode(v), partition });
      return out;
    },
  };
}

/** Stock written before start-up is routed before we say ready, so early orders find their product. */
async function waitForStockRouted(a: Admin, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let ends: Awaited<ReturnType<Admin["fetchTopicOffsets"]>> | undefined;
  for (;;) {
    try {
      // kafkajs throws a TypeError (not retried) when a ListOffsets answer is empty, as right after
      // a leader moved on three brokers: a passing answer, not a reason to end the instance.
      ends ??= await a.fetchTopicOffsets(ctx.topics.stock);
      const [t] = await a.fetchOffsets({ groupId: routerGroup, topics: [ctx.topics.stock] });
      const done = ends.every((e) => {
        const c = t?.partitions.find((p) => p.partition === e.partition)?.offset ?? "-1";
        return BigInt(e.high) === BigInt(e.low) || (c !== "-1" && BigInt(c) >= BigInt(e.high));
      });
      if (done) return;
    } catch (e) {
      log(`waiting for stock to be routed: ${(e as Error).message}; trying again`);
    }
    if (Date.now() > deadline) {
      log(`stock written before start-up is not all routed after ${timeoutMs} ms; going on`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function crashed(e: { error: Error; restart: boolean }): void {
  log(`consumer crashed: ${e.error.name}: ${e.error.message} (restart: ${e.restart})`);
  if (!e.restart) void shutdown(1);
}

async function main(): Promise<void> {
  log(
    `starting: transactions ${settings.transactions ? "on" : "OFF (at-least-once, unsafe)"}, ` +
      `batch ${settings.batchSize}, linger ${settings.lingerMs} ms, client ` +
      (confluent ? `confluent (librdkafka ${confluent.librdkafkaVersion}, EOS v2)` : "kafkajs (EOS v1)") +
      (settings.backorder > 0 ? `, BACKORDER ${settings.backorder} units (sells ahead of stock, unsafe)` : ""),
  );
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin);
  mirror = new ChangelogMirror(
    kafka,
    `${ctx.ns}.${SUT}.mirror.${ctx.instance}.${process.pid}.${randomBytes(3).toString("hex")}`,
    changelog,
    settings,
  );
  await mirror.start();
  await mirror.joined;
  router = newStage({
    name: "router",
    groupId: routerGroup,
    topics: [ctx.topics.stock, ctx.topics.orders],
    open: async (topic, partition) => routerProcessor(topic, partition),
    transactionalInputs: [],
    crashed,
  });
  reserver = newStage({
    name: "reserver",
    groupId: reserverGroup,
    topics: [byProduct],
    open: (_topic, partition, write) => reserverProcessor(partition, write),
    transactionalInputs: settings.transactions ? [byProduct] : [],
    crashed,
  });
  mirror.consumer.on(mirror.consumer.events.CRASH, (e) => crashed(e.payload));
  await Promise.all([router.start(), reserver.start()]);
  await Promise.all([router.joined, reserver.joined]);
  await waitForStockRouted(admin, 30_000);
  announceReady();
  let reported = "";
  let mirrorAt = "";
  setInterval(() => {
    const st = JSON.stringify(readCommittedFixStats());
    if (st !== reported) log(`read_committed fix: ${(reported = st)}`);
    const at = JSON.stringify([...mirror!.last]);
    if (at !== mirrorAt) log(`changelog mirror at ${(mirrorAt = at)}`);
  }, 5_000).unref();
}

const shutdown = runInstance({
  main,
  log,
  stop: async () => {
    log(`shutting down (read_committed fix: ${JSON.stringify(readCommittedFixStats())})`);
    await Promise.allSettled([router?.stop(), reserver?.stop(), mirror?.stop()]);
    await admin?.disconnect().catch(() => {});
  },
});
