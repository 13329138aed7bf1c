// A consume-transform-produce stage with exactly-once output, the EOS v1 way (kafkajs has no
// KIP-447): one transactional producer per input partition, transactionalId = group+topic+partition.
// A new owner's InitProducerId fences the old owner (zombie) and aborts its open transaction.
//
// Per input partition, on the first batch after every group join:
//   new producer -> fence (InitProducerId) -> processor.open() (e.g. restore state) ->
//   read the committed offset again (a transaction of the old owner may have committed after our
//   consumer fetched its position: records below it are already done and are skipped).
// Per chunk of <= batchSize records: begin; send outputs; sendOffsets(last+1); commit; resolveOffset.
// On any failure: drop the partition context (producer and state), seek back to the committed
// offset, and start over on the next batch.
// With transactions off: plain producer, outputs sent, then offsets committed (at-least-once).
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Message, Producer } from "kafkajs";
import {
  PartitionCounts,
  sendPerPartition,
  TRANSACTIONAL_RETRY,
  watchForStalls,
  type StallWatch,
} from "../contract/index.ts";
import type { Settings } from "./settings.ts";

export interface OutRecord {
  topic: string;
  key: string;
  value: Buffer;
  partition?: number;
}

export interface PartitionProcessor {
  /** Transforms records (in order) into outputs; may mutate its own state. */
  process(messages: KafkaMessage[]): OutRecord[];
}

export interface StageSpec {
  name: string;
  groupId: string;
  topics: string[];
  /** Called once per partition ownership, after fencing; `write` commits records on its own. */
  open(topic: string, partition: number, write: (records: OutRecord[]) => Promise<void>): Promise<PartitionProcessor>;
  /** Input topics written in transactions (they end with a commit marker; see contract/stall-watchdog.ts). */
  transactionalInputs: string[];
  /** A consumer crashed; `restart` false: kafkajs gave up on it. */
  crashed(e: { error: Error; restart: boolean }): void;
}

interface PartitionContext {
  producer: Producer;
  processor: PartitionProcessor;
  minOffset: bigint;
}

export class Stage {
  consumer: Consumer;
  private readonly watch: StallWatch;
  private contexts = new Map<string, PartitionContext>();
  private opening = new Map<string, Promise<PartitionContext>>();
  private plainProducer?: Producer;
  private readonly partitionCounts: PartitionCounts;
  joined: Promise<void>;
  private onJoined!: () => void;
  generation = 0;

  constructor(
    private kafka: Kafka,
    private admin: Admin,
    private spec: StageSpec,
    private settings: Settings,
    private log: (msg: string) => void,
  ) {
    this.joined = new Promise((r) => (this.onJoined = r));
    this.partitionCounts = new PartitionCounts(admin);
    this.watch = watchForStalls({
      admin,
      groupId: spec.groupId,
      log,
      stallMs: settings.stallMs,
      transactionalInputs: new Set(spec.transactionalInputs),
      replace: () => this.replaceConsumer(),
    });
    this.consumer = this.newConsumer();
  }

  private newConsumer(): Consumer {
    const { spec, settings } = this;
    const consumer = this.kafka.consumer({
      groupId: spec.groupId,
      readUncommitted: false,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: settings.heartbeatMs,
      rebalanceTimeout: Math.max(15_000, settings.sessionTimeoutMs * 2),
      maxWaitTimeInMs: settings.lingerMs,
      minBytes: settings.minBytes,
      allowAutoTopicCreation: false,
    });
    consumer.on(consumer.events.CRASH, (e) => spec.crashed(e.payload));
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      // Every rebalance: whoever owned a partition in between may have moved its state on.
      this.generation++;
      const old = [...this.contexts.values()];
      this.contexts.clear();
      this.opening.clear();
      for (const c of old) if (c.producer !== this.plainProducer) void c.producer.disconnect().catch(() => {});
      this.log(
        `${spec.name} joined generation ${e.payload.groupId}/${this.generation}: ` +
          `${JSON.stringify(e.payload.memberAssignment)}`,
      );
      this.onJoined();
    });
    this.watch.attach(consumer);
    return consumer;
  }

  /** The stall watchdog's remedy: a new member; the old one leaves (or is expelled) in the background. */
  private async replaceConsumer(): Promise<void> {
    const old = this.consumer;
    this.consumer = this.newConsumer();
    void old.disconnect().catch(() => {});
    await this.run();
  }

  async start(): Promise<void> {
    if (!this.settings.transactions) {
      this.plainProducer = this.kafka.producer({ allowAutoTopicCreation: false });
      await this.plainProducer.connect();
    }
    await this.run();
  }

  private async run(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.spec.topics, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.settings.concurrency,
      eachBatch: (p) => this.eachBatch(p),
    });
  }

  async stop(): Promise<void> {
    this.watch.stop();
    // Committed/end offset of each partition this member owns: a lost order can be traced to a stage.
    this.log(`${this.spec.name} at shutdown: ${await this.watch.describe().catch((e: Error) => e.message)}`);
    await this.consumer.disconnect().catch(() => {});
    const producers = new Set([...this.contexts.values()].map((c) => c.producer));
    if (this.plainProducer) producers.add(this.plainProducer);
    await Promise.allSettled([...producers].map((p) => p.disconnect()));
  }

  private transactionalId(topic: string, partition: number): string {
    return `${this.spec.groupId}.${topic}.${partition}`;
  }

  private async committedOffset(topic: string, partition: number): Promise<bigint> {
    const [t] = await this.admin.fetchOffsets({ groupId: this.spec.groupId, topics: [topic] });
    const o = t?.partitions.find((x) => x.partition === partition)?.offset ?? "-1";
    if (o !== "-1") return BigInt(o);
    const low = (await this.admin.fetchTopicOffsets(topic)).find((x) => x.partition === partition)?.low ?? "0";
    return BigInt(low);
  }

  private async write(
    producer: Producer,
    records: OutRecord[],
    offsets?: { topic: string; partition: number; offset: string },
  ): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const r of records) {
      const list = byTopic.get(r.topic) ?? [];
      list.push({ key: r.key, value: r.value, partition: r.partition });
      byTopic.set(r.topic, list);
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    if (!this.settings.transactions) {
      // What an application without transactions does: one write after the other (decisions
      // first, then state), then the offsets. A crash between two steps leaves them disagreeing.
      for (const tm of topicMessages) await producer.send({ acks: -1, ...tm });
      if (offsets) await this.consumer.commitOffsets([offsets]);
      return;
    }
    const partitionsOf = await this.partitionCounts.of(topicMessages.map((t) => t.topic));
    const tx = await producer.transaction();
    try {
      // One partition per send: kafkajs's retry of a send spanning brokers loses or duplicates records.
      await sendPerPartition((r) => tx.send(r), topicMessages, partitionsOf);
      if (offsets) {
        await tx.sendOffsets({
          consumerGroupId: this.spec.groupId,
          topics: [{ topic: offsets.topic, partitions: [{ partition: offsets.partition, offset: offsets.offset }] }],
        });
      }
      await tx.commit();
    } catch (e) {
      await tx.abort().catch(() => {});
      throw e;
    }
  }

  private async open(topic: string, partition: number): Promise<PartitionContext> {
    const t0 = Date.now();
    const step = (what: string) =>
      this.log(`${this.spec.name} ${topic}/${partition}: open ${what} at +${Date.now() - t0} ms`);
    step("start");
    let producer: Producer;
    if (this.settings.transactions) {
      producer = this.kafka.producer({
        transactionalId: this.transactionalId(topic, partition),
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: this.settings.transactionTimeoutMs,
        allowAutoTopicCreation: false,
        retry: TRANSACTIONAL_RETRY,
      });
      await producer.connect();
      step("connected");
      // The fence: InitProducerId bumps the epoch, so the previous owner can no longer commit,
      // and its open transaction is aborted (or completed) before we read anything.
      const tx = await producer.transaction();
      await tx.abort();
      step("fenced");
    } else {
      producer = this.plainProducer!;
    }
    try {
      const processor = await this.spec.open(topic, partition, (records) => this.write(producer, records));
      step("processor ready");
      const minOffset = await this.committedOffset(topic, partition);
      step(`min offset ${minOffset}`);
      return { producer, processor, minOffset };
    } catch (e) {
      if (producer !== this.plainProducer) await producer.disconnect().catch(() => {});
      throw e;
    }
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const key = `${batch.topic}/${batch.partition}`;
    const gen = this.generation;
    let ctx: PartitionContext | undefined;
    try {
      ctx = this.contexts.get(key);
      if (!ctx) {
        let p = this.opening.get(key);
        if (!p) {
          p = this.open(batch.topic, batch.partition);
          this.opening.set(key, p);
        }
        ctx = await p;
        if (gen !== this.generation) {
          if (ctx.producer !== this.plainProducer) await ctx.producer.disconnect().catch(() => {});
          return; // a rebalance happened while opening: start over under the new assignment
        }
        this.opening.delete(key);
        this.contexts.set(key, ctx);
      }
      const todo = batch.messages.filter((m) => BigInt(m.offset) >= ctx!.minOffset);
      if (todo.length === 0 && batch.messages.length) resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
      for (let i = 0; i < todo.length; i += this.settings.batchSize) {
        if (!isRunning() || isStale() || gen !== this.generation) return;
        const chunk = todo.slice(i, i + this.settings.batchSize);
        const out = ctx.processor.process(chunk);
        const last = chunk[chunk.length - 1]!.offset;
        await this.write(ctx.producer, out, {
          topic: batch.topic,
          partition: batch.partition,
          offset: (BigInt(last) + 1n).toString(),
        });
        resolveOffset(last);
        await heartbeat();
      }
    } catch (e) {
      // The processor's state may hold uncommitted changes: throw it away with the producer.
      this.log(
        `${this.spec.name} ${key}: ${(e as Error).name}: ${(e as Error).message}; seeking back to the committed offset`,
      );
      this.opening.delete(key);
      if (ctx && this.contexts.get(key) === ctx) {
        this.contexts.delete(key);
        if (ctx.producer !== this.plainProducer) await ctx.producer.disconnect().catch(() => {});
      }
      if (!isRunning()) return;
      try {
        const offset = await this.committedOffset(batch.topic, batch.partition);
        this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: offset.toString() });
      } catch (e2) {
        this.log(`${this.spec.name} ${key}: seek failed (${(e2 as Error).message}); letting the consumer restart`);
        throw e;
      }
    }
  }
}
