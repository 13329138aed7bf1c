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
import {
  CK_ASSIGN_PARTITIONS,
  CkTransactions,
  confluentConfig,
  type CkBatchPayload,
  type CkConsumer,
  type CkKafka,
  type CkModule,
  type CkProducer,
  type Connection,
} from "../contract/index.ts";
import type { Settings } from "./settings.ts";
import type { OutRecord, PartitionProcessor, StageSpec } from "./stage.ts";

interface Context {
  processor: PartitionProcessor;
}

export class ConfluentStage {
  private readonly kafka: CkKafka;
  private consumer!: CkConsumer;
  /** The one producer; one transaction at a time. */
  private readonly txs: CkTransactions;
  private contexts = new Map<string, Context>();
  private opening = new Map<string, Promise<Context>>();
  private generation = 0;
  /**
   * Committed transactions, their records and time, logged at stop: what a transaction costs here. The time runs
   * from the call to the commit, so it includes the wait for the stage's one transactional producer.
   */
  private readonly committed = { transactions: 0, records: 0, ms: 0 };
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
    this.kafka = new mod.KafkaJS.Kafka(confluentConfig(mod, connection, `${spec.groupId}.${instance}`));
    this.joined = new Promise((r) => (this.onJoined = r));
    this.txs = new CkTransactions(
      () => this.newProducer(),
      (m) => log(`${spec.name}: ${m}`),
    );
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
    await this.txs.start();
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
      // The KafkaJS layer hands eachBatch at most 32 records by default, so one transaction per 32 records
      // whatever the backlog; batch_size lets a backlog go out in fewer, larger transactions (capacity: 380/s
      // at 32, 9,000/s at 2,000 with linger_ms 100 and min_bytes 65536).
      "js.consumer.max.batch.size": this.settings.batchSize,
      // Every assignment change: a partition's state may have moved on under another owner.
      rebalance_cb: (err: { code: number; message: string }, assignment: { topic: string; partition: number }[]) => {
        this.generation++;
        this.contexts.clear();
        this.opening.clear();
        this.log(`${this.spec.name} rebalance ${this.generation}: ${err.message} ${JSON.stringify(assignment)}`);
        if (err.code === CK_ASSIGN_PARTITIONS) this.onJoined();
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
    const { transactions: n, records, ms } = this.committed;
    if (n > 0)
      this.log(
        `${this.spec.name}: ${n} transactions, ${(records / n).toFixed(1)} records and ${(ms / n).toFixed(1)} ms each`,
      );
    await this.consumer?.disconnect().catch(() => {});
    await this.txs.stop();
  }

  /** One transaction: the outputs, and the input offset through the consumer (KIP-447), then commit. */
  private async transact(
    records: OutRecord[],
    offsets?: { topic: string; partition: number; offset: string },
  ): Promise<void> {
    const byTopic = new Map<string, { key: string; value: Buffer; partition?: number }[]>();
    for (const r of records) {
      const list = byTopic.get(r.topic) ?? [];
      list.push({ key: r.key, value: r.value, partition: r.partition });
      byTopic.set(r.topic, list);
    }
    const t0 = performance.now();
    await this.txs.run(async (tx) => {
      for (const [topic, messages] of byTopic) await tx.send({ topic, messages });
      if (offsets)
        await tx.sendOffsets({
          consumer: this.consumer,
          topics: [{ topic: offsets.topic, partitions: [{ partition: offsets.partition, offset: offsets.offset }] }],
        });
    });
    this.committed.transactions++;
    this.committed.records += records.length;
    this.committed.ms += performance.now() - t0;
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
