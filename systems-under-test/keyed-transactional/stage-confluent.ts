// The same consume-transform-produce stage as stage.ts on @confluentinc/kafka-javascript (librdkafka), the
// EOS v2 way (KIP-447): ONE transactional producer per instance and stage, not one per input partition.
// A zombie is fenced by the consumer group, not by a transactional id: sendOffsets hands the consumer's group
// metadata (generation, member) to the transaction, so an instance that lost its partitions in a rebalance
// cannot commit offsets (its transaction aborts), and a new owner's committed-offset fetch waits for pending
// transactional offsets (require_stable) before it reads. The transactional id (group + instance) only fences
// the same instance's previous life after a crash and restart.
//
// Per batch of a partition: lock the producer; begin; send the outputs; sendOffsets(last + 1, consumer);
// commit; resolve the offsets. Transactions are serialized (one producer), partitions are processed
// concurrently up to the lock. On a failure the partition's context (state) is dropped and the batch is
// thrown back: the client seeks to the first unresolved (= committed) offset and the next batch reopens.
// The business logic (StageSpec.open / PartitionProcessor) is the one stage.ts runs.
import { createRequire } from "node:module";
import type { KafkaMessage } from "kafkajs";
import type { Connection } from "../contract/index.ts";
import type { Settings } from "./settings.ts";
import type { OutRecord, PartitionProcessor, StageSpec } from "./stage.ts";

// The subset of the client's KafkaJS-compatible API used here (its types ship with the package, which is
// installed outside node_modules on machines that build it: see harness/clients/confluent.ts).
interface CkBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}
interface CkBatchPayload {
  batch: CkBatch;
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}
interface CkConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(s: { topics: string[] }): Promise<void>;
  run(r: {
    eachBatch(p: CkBatchPayload): Promise<void>;
    eachBatchAutoResolve: boolean;
    partitionsConsumedConcurrently: number;
  }): Promise<void>;
}
interface CkProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  transaction(): Promise<CkProducer>;
  send(r: { topic: string; messages: { key: string; value: Buffer; partition?: number }[] }): Promise<unknown>;
  sendOffsets(o: {
    consumer: CkConsumer;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}
interface CkKafka {
  consumer(c: object): CkConsumer;
  producer(c: object): CkProducer;
}
interface CkModule {
  librdkafkaVersion: string;
  KafkaJS: { Kafka: new (c: object) => CkKafka; logLevel: Record<string, number> };
}

/** The client: from OVERSELL_CONFLUENT_MODULE (the harness's cached install), else node_modules. */
export function loadConfluent(): CkModule {
  const where = process.env.OVERSELL_CONFLUENT_MODULE || "@confluentinc/kafka-javascript";
  return createRequire(import.meta.url)(where) as CkModule;
}

/** The connection as the client's config: brokers, TLS and SASL (librdkafka reads PEM files itself). */
function clientConfig(mod: CkModule, c: Connection, clientId: string): object {
  const ssl = c.ssl?.enabled === true;
  return {
    kafkaJS: {
      clientId,
      brokers: c.brokers,
      ssl,
      ...(c.sasl ? { sasl: { ...c.sasl } } : {}),
      logLevel: mod.KafkaJS.logLevel.WARN,
    },
    ...(ssl && c.ssl?.caFile ? { "ssl.ca.location": c.ssl.caFile } : {}),
    ...(ssl && c.ssl?.certFile ? { "ssl.certificate.location": c.ssl.certFile } : {}),
    ...(ssl && c.ssl?.keyFile ? { "ssl.key.location": c.ssl.keyFile } : {}),
    ...(ssl && c.ssl?.rejectUnauthorized === false ? { "enable.ssl.certificate.verification": false } : {}),
  };
}

/** librdkafka's RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS: the rebalance callback's "you now own these". */
const ASSIGN_PARTITIONS = -175;

interface Context {
  processor: PartitionProcessor;
}

export class ConfluentStage {
  private readonly kafka: CkKafka;
  private consumer!: CkConsumer;
  private producer!: CkProducer;
  private contexts = new Map<string, Context>();
  private opening = new Map<string, Promise<Context>>();
  /** One transaction at a time on the one producer. */
  private lock: Promise<unknown> = Promise.resolve();
  private generation = 0;
  joined: Promise<void>;
  private onJoined!: () => void;

  constructor(
    private readonly mod: CkModule,
    private readonly connection: Connection,
    private readonly instance: string,
    private readonly spec: StageSpec,
    private readonly settings: Settings,
    private readonly log: (msg: string) => void,
  ) {
    this.kafka = new mod.KafkaJS.Kafka(clientConfig(mod, connection, `${spec.groupId}.${instance}`));
    this.joined = new Promise((r) => (this.onJoined = r));
  }

  private newProducer(): CkProducer {
    return this.kafka.producer({
      kafkaJS: {
        transactionalId: `${this.spec.groupId}.${this.instance}`,
        idempotent: true,
        transactionTimeout: this.settings.transactionTimeoutMs,
        allowAutoTopicCreation: false,
      },
    });
  }

  async start(): Promise<void> {
    if (!this.settings.transactions) throw new Error("client=confluent runs with transactions=on only");
    this.producer = await this.connectedProducer();
    this.consumer = this.kafka.consumer({
      kafkaJS: {
        groupId: this.spec.groupId,
        fromBeginning: true,
        autoCommit: false,
        readUncommitted: false,
        sessionTimeout: this.settings.sessionTimeoutMs,
        heartbeatInterval: this.settings.heartbeatMs,
        rebalanceTimeout: Math.max(15_000, this.settings.sessionTimeoutMs * 2),
        maxWaitTimeInMs: this.settings.lingerMs,
        minBytes: this.settings.minBytes,
      },
      // Every assignment change: a partition's state may have moved on under another owner.
      rebalance_cb: (err: { code: number; message: string }, assignment: { topic: string; partition: number }[]) => {
        this.generation++;
        this.contexts.clear();
        this.opening.clear();
        this.log(`${this.spec.name} rebalance ${this.generation}: ${err.message} ${JSON.stringify(assignment)}`);
        if (err.code === ASSIGN_PARTITIONS) this.onJoined();
      },
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.spec.topics });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.settings.concurrency,
      eachBatch: (p) => this.eachBatch(p),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => {});
    await this.producer?.disconnect().catch(() => {});
  }

  /** One transaction: the outputs, and the input offset through the consumer (KIP-447), then commit. */
  private transact(records: OutRecord[], offsets?: { topic: string; partition: number; offset: string }) {
    const run = async () => {
      const byTopic = new Map<string, { key: string; value: Buffer; partition?: number }[]>();
      for (const r of records) {
        const list = byTopic.get(r.topic) ?? [];
        list.push({ key: r.key, value: r.value, partition: r.partition });
        byTopic.set(r.topic, list);
      }
      const tx = await this.producer.transaction();
      try {
        for (const [topic, messages] of byTopic) await tx.send({ topic, messages });
        if (offsets)
          await tx.sendOffsets({
            consumer: this.consumer,
            topics: [{ topic: offsets.topic, partitions: [{ partition: offsets.partition, offset: offsets.offset }] }],
          });
        await tx.commit();
      } catch (e) {
        await this.recover(tx);
        throw e;
      }
    };
    const p = this.lock.then(run, run);
    this.lock = p.catch(() => {});
    return p;
  }

  /** After a failed transaction: abort it; a producer that cannot abort (fenced, fatal) is replaced. */
  private async recover(tx: CkProducer): Promise<void> {
    try {
      await tx.abort();
    } catch (e) {
      this.log(`${this.spec.name}: abort failed (${(e as Error).message}); new producer`);
      await this.producer.disconnect().catch(() => {});
      this.producer = await this.connectedProducer();
    }
  }

  /**
   * A new producer, initialised (InitProducerId: fences this instance's previous life). librdkafka gives up
   * on a transaction coordinator that is still loading (a fresh or restarted broker): retried for a minute.
   */
  private async connectedProducer(): Promise<CkProducer> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const p = this.newProducer();
      try {
        await p.connect();
        return p;
      } catch (e) {
        await p.disconnect().catch(() => {});
        if (Date.now() > deadline) throw e;
        this.log(`${this.spec.name}: producer init failed (${(e as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  private async open(topic: string, partition: number): Promise<Context> {
    const processor = await this.spec.open(topic, partition, (records) => this.transact(records));
    this.log(`${this.spec.name} ${topic}/${partition}: opened`);
    return { processor };
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: CkBatchPayload): Promise<void> {
    const key = `${batch.topic}/${batch.partition}`;
    const gen = this.generation;
    try {
      let ctx = this.contexts.get(key);
      if (!ctx) {
        let p = this.opening.get(key);
        if (!p) this.opening.set(key, (p = this.open(batch.topic, batch.partition)));
        ctx = await p;
        this.opening.delete(key);
        if (gen !== this.generation) throw new Error("rebalanced while opening");
        this.contexts.set(key, ctx);
      }
      for (let i = 0; i < batch.messages.length; i += this.settings.batchSize) {
        if (!isRunning() || isStale() || gen !== this.generation) throw new Error("stale batch");
        const chunk = batch.messages.slice(i, i + this.settings.batchSize);
        const out = ctx.processor.process(chunk);
        const last = chunk[chunk.length - 1]!.offset;
        await this.transact(out, {
          topic: batch.topic,
          partition: batch.partition,
          offset: (BigInt(last) + 1n).toString(),
        });
        resolveOffset(last);
        await heartbeat();
      }
    } catch (e) {
      // The processor's state may hold uncommitted changes: drop it; the client seeks back to the first
      // unresolved offset (the committed one) and the next batch reopens the partition.
      if (this.contexts.get(key)) this.contexts.delete(key);
      this.opening.delete(key);
      this.log(`${this.spec.name} ${key}: ${(e as Error).message}; back to the committed offset`);
      throw e;
    }
  }
}
