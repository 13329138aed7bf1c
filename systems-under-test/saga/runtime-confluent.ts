// The saga's task runtime on @confluentinc/kafka-javascript (librdkafka), the EOS v2 way (KIP-447): ONE
// transactional producer per side and instance (transactionalId = group + instance), not one per task. A
// zombie is fenced by the consumer group: every transaction hands the consumer's group metadata (generation,
// member) to TxnOffsetCommit through sendOffsets, so a member that lost its tasks in a rebalance cannot
// commit. Timer transactions consume no input, so they re-commit the task's current positions for the same
// reason. Tasks, restore, batches and timers are runtime.ts's TaskRunner, as on kafkajs.
import {
  CK_ASSIGN_PARTITIONS,
  CkTransactions,
  confluentConfig,
  type CkBatchPayload,
  type CkConsumer,
  type CkKafka,
  type CkModule,
  type Connection,
} from "../contract/index.ts";
import { sleep, Task, TaskRunner, type Emit, type RunnerOptions } from "./runtime.ts";

export interface ConfluentSideOptions extends RunnerOptions {
  mod: CkModule;
  connection: Connection;
  instance: string;
  sessionTimeoutMs: number;
}

interface CkPartition {
  topic: string;
  partition: number;
}

/** One side of the saga on librdkafka: a consumer group whose partitions are tasks, one producer for all. */
export class ConfluentSide extends TaskRunner<Task> {
  private readonly kafka: CkKafka;
  private consumer?: CkConsumer;
  private readonly txs: CkTransactions;
  /** Bumped by every rebalance: a batch fetched before one is fetched again, not processed. */
  private generation = 0;

  constructor(private readonly c: ConfluentSideOptions) {
    super(c);
    this.kafka = new c.mod.KafkaJS.Kafka(confluentConfig(c.mod, c.connection, `${c.groupId}.${c.instance}`));
    const producer = () =>
      this.kafka.producer({
        kafkaJS: {
          transactionalId: `${c.groupId}.${c.instance}`,
          idempotent: true,
          transactionTimeout: 30_000,
          allowAutoTopicCreation: false,
        },
      });
    this.txs = new CkTransactions(producer, (m) => c.log(`${c.name}: ${m}`));
  }

  async start(): Promise<void> {
    await this.txs.start();
    const consumer = this.kafka.consumer({
      kafkaJS: {
        groupId: this.c.groupId,
        fromBeginning: true,
        autoCommit: false,
        readUncommitted: false,
        sessionTimeout: this.c.sessionTimeoutMs,
        rebalanceTimeout: 30_000,
        heartbeatInterval: 1_000,
        maxWaitTimeInMs: 100,
        // Range gives each member the same partition numbers of every topic with the same partition count (and
        // subscription): partition p of both inputs, a whole task, on one member. The compat default is
        // round-robin, which spreads the partitions of all topics together and would split tasks.
        partitionAssigners: ["range"],
      },
      rebalance_cb: (err: { code: number }, assignment: CkPartition[]) => this.rebalanced(err, assignment),
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: this.c.inputs });
    await consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (b) => this.onBatch(b),
    });
    this.startTimers();
  }

  async stop(): Promise<void> {
    this.stopTimers();
    await this.consumer?.disconnect().catch(() => {});
    await this.dropAll("shutdown");
    await this.txs.stop();
  }

  /**
   * Assigned: the whole tasks (partition p of every input) are this member's; anything else is a split task
   * and is left alone (logged: with range and equal partition counts it does not happen). Revoked (eager
   * protocol: everything): no task. Returning the assignment makes the client start every partition at its
   * committed offset, not at a seek stored while it was not assigned (a batch thrown back after a revoke).
   */
  private rebalanced(err: { code: number }, assignment: CkPartition[]): CkPartition[] | undefined {
    this.generation++;
    if (err.code !== CK_ASSIGN_PARTITIONS) {
      this.reassigned([]);
      return undefined;
    }
    const [first, ...rest] = this.c.inputs.map(
      (topic) => new Set(assignment.filter((a) => a.topic === topic).map((a) => a.partition)),
    );
    const whole = [...first!].filter((p) => rest.every((s) => s.has(p)));
    if (whole.length * this.c.inputs.length !== assignment.length)
      this.c.log(`${this.c.name}: not co-partitioned: ${JSON.stringify(assignment)}; tasks [${whole.join(",")}] only`);
    this.reassigned(whole);
    return [...assignment];
  }

  protected async initTask(p: number): Promise<Task> {
    const started = Date.now();
    // The barrier fences nothing here (the group does); it only marks where the replica has all of p.
    const kv = await this.restore(p, (record) =>
      this.txs.run(async (tx) => {
        await tx.send({ topic: this.c.changelog, messages: [{ partition: p, ...record }] });
      }),
    );
    return this.restored(new Task(p, kv, this.c.inputs), started);
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isStale }: CkBatchPayload): Promise<void> {
    const gen = this.generation;
    if (!this.assigned.has(batch.partition)) {
      await sleep(100);
      return; // part of a split task: not resolved, fetched again
    }
    await this.batch(batch.partition, batch.topic, batch.messages, {
      lastOffset: batch.messages[batch.messages.length - 1]!.offset,
      resolve: resolveOffset,
      heartbeat,
      isStale: () => isStale() || gen !== this.generation,
    });
  }

  /**
   * Outputs + changed state + offsets through the consumer, in one transaction on the side's producer. A
   * timer's transaction consumes nothing, so it commits the task's positions as they are: without offsets
   * nothing would stop a paused member that lost the task from expiring a hold its successor already decided.
   * A task has timers only after it committed input, so it has a position.
   */
  protected async commit(task: Task, out: Emit[], consumed?: { topic: string; offset: string }): Promise<boolean> {
    const p = task.partition;
    const byTopic = task.records(out, this.c.changelog);
    const offsets = consumed ? [consumed] : [...task.committed].map(([topic, offset]) => ({ topic, offset }));
    try {
      if (offsets.length === 0) throw new Error("no committed position to fence the transaction with");
      const consumer = this.consumer!;
      await this.txs.run(async (tx) => {
        for (const [topic, messages] of byTopic) await tx.send({ topic, messages });
        await tx.sendOffsets({
          consumer,
          topics: offsets.map((o) => ({ topic: o.topic, partitions: [{ partition: p, offset: o.offset }] })),
        });
      });
      task.committedTo(consumed);
      return true;
    } catch (e) {
      // In-memory state already holds the aborted changes: rebuilt from the changelog on the next batch or
      // tick. The batch is not resolved, so the client fetches it again from the committed offset.
      const what = consumed ? "" : " (timers)";
      this.c.log(`${this.c.name}: task ${p} transaction${what} failed: ${(e as Error).message}`);
      task.dead = true;
      void this.forgetDead(task);
      return false;
    }
  }
}
