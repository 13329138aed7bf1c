// A small exactly-once stream-task runtime: co-partitioned input topics form one task per partition
// number; a task has a key-value state restored from a compacted changelog partition, and commits
// state changes, outputs and consumed offsets in one transaction. Any failure drops the task; it is
// rebuilt from the changelog. TaskRunner is what every client shares (restore, batches, timers);
// Side runs it on kafkajs (EOS v1 pattern, see KAFKA.md: a transactional producer per task,
// transactionalId = group + task), runtime-confluent.ts on librdkafka (EOS v2).
import { randomBytes } from "node:crypto";
import kafkajs from "kafkajs";
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, PartitionAssigner, Producer } from "kafkajs";
import {
  PartitionCounts,
  sendPerPartition,
  TRANSACTIONAL_RETRY,
  watchForStalls,
  type StallWatch,
} from "../contract/index.ts";

const { AssignerProtocol } = kafkajs;

export type Log = (msg: string) => void;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Task state: JSON values by key. A value with a numeric `dueAt` is a timer. */
export class Kv {
  private readonly map = new Map<string, unknown>();
  readonly dirty = new Set<string>();
  readonly due = new Map<string, number>();

  constructor(entries: Iterable<[string, unknown]> = []) {
    for (const [k, v] of entries) this.set(k, v);
  }

  get<T>(key: string): T | undefined {
    return this.map.get(key) as T | undefined;
  }

  put(key: string, value: unknown): void {
    this.set(key, value);
    this.dirty.add(key);
  }

  private set(key: string, value: unknown): void {
    if (value === null || value === undefined) this.map.delete(key);
    else this.map.set(key, value);
    const d = (value as { dueAt?: unknown } | null | undefined)?.dueAt;
    if (typeof d === "number") this.due.set(key, d);
    else this.due.delete(key);
  }
}

export interface Emit {
  topic: string;
  key: string;
  value: object;
  /** Explicit partition (otherwise the key decides, murmur2 like every Kafka client). */
  partition?: number;
}

export interface TaskContext {
  partition: number;
  kv: Kv;
  now: number;
  emit(e: Emit): void;
}

export interface TaskLogic {
  /** One input record. Return false to stop here: this record and the rest wait for a later fetch. */
  handle(ctx: TaskContext, topic: string, message: KafkaMessage): boolean | void;
  /** A timer (a value with `dueAt` <= now) fired. */
  due(ctx: TaskContext, key: string, value: unknown): void;
  /** Before a batch: false defers the whole batch (e.g. wait for another input to catch up). */
  ready?(task: Task, topic: string, messages: KafkaMessage[]): Promise<boolean>;
}

export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.tail.then(fn);
    this.tail = r.catch(() => undefined);
    return r;
  }
}

export class Task {
  readonly lock = new Mutex();
  dead = false;
  /** Next offset to read per input topic, as last committed. */
  readonly committed = new Map<string, string>();
  constructor(
    readonly partition: number,
    readonly kv: Kv,
    inputs: string[],
  ) {
    for (const topic of inputs) {
      const pos = this.position(topic);
      if (pos !== undefined) this.committed.set(topic, pos);
    }
  }

  position(topic: string): string | undefined {
    return this.kv.get<{ offset: string }>(`pos:${topic}`)?.offset;
  }

  /** After a commit: the changed state and the consumed position are now Kafka's. */
  committedTo(consumed?: { topic: string; offset: string }): void {
    this.kv.dirty.clear();
    if (consumed) this.committed.set(consumed.topic, consumed.offset);
  }

  /** The records of a transaction by topic: the outputs, then the changed state to changelog partition p. */
  records(out: Emit[], changelog: string): Map<string, { key: string; value: string | null; partition?: number }[]> {
    const byTopic = new Map<string, { key: string; value: string | null; partition?: number }[]>();
    const add = (topic: string, m: { key: string; value: string | null; partition?: number }) => {
      const list = byTopic.get(topic);
      if (list) list.push(m);
      else byTopic.set(topic, [m]);
    };
    for (const e of out) add(e.topic, { key: e.key, value: JSON.stringify(e.value), partition: e.partition });
    for (const k of this.kv.dirty) {
      const v = this.kv.get(k);
      add(changelog, { key: k, value: v === undefined ? null : JSON.stringify(v), partition: this.partition });
    }
    return byTopic;
  }
}

/** A task that owns its transactional producer (kafkajs, EOS v1). */
class ProducerTask extends Task {
  constructor(
    partition: number,
    kv: Kv,
    inputs: string[],
    readonly producer: Producer,
  ) {
    super(partition, kv, inputs);
  }
}

/** Same partition number of every subscribed topic to the same member: a task stays whole. */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: "SagaCoPartitioned",
  version: 0,
  async assign({ members, topics }) {
    const ids = members.map((m) => m.memberId).sort();
    const plan = new Map<string, Record<string, number[]>>(ids.map((id) => [id, {}]));
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const a = plan.get(ids[partitionId % ids.length]!)!;
        (a[topic] ??= []).push(partitionId);
      }
    }
    return ids.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: plan.get(memberId)!,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: "SagaCoPartitioned",
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});

/**
 * Every instance tails every changelog partition (read_committed) into memory. A new task
 * owner fences the old one (initTransactions), commits a barrier record with a fresh token
 * and waits to see it here: everything committed before it is then in the replica.
 */
export class Replica {
  private readonly parts = new Map<string, Map<string, unknown>>();
  private readonly tokens = new Set<string>();
  private readonly waiters = new Map<string, () => void>();
  private consumer?: Consumer;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly topics: string[],
  ) {}

  async start(): Promise<void> {
    const c = this.kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
    });
    this.consumer = c;
    await c.connect();
    await c.subscribe({ topics: this.topics, fromBeginning: true });
    await c.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const tp = `${batch.topic}/${batch.partition}`;
        let m = this.parts.get(tp);
        if (!m) this.parts.set(tp, (m = new Map()));
        for (const msg of batch.messages) {
          const key = msg.key?.toString() ?? "";
          if (key === "barrier") {
            const token = msg.value ? (JSON.parse(msg.value.toString()) as { token: string }).token : "";
            this.tokens.add(token);
            this.waiters.get(token)?.();
            continue;
          }
          if (msg.value === null) m.delete(key);
          else m.set(key, JSON.parse(msg.value.toString()));
        }
      },
    });
  }

  async waitForToken(token: string, timeoutMs: number): Promise<void> {
    if (this.tokens.has(token)) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(token);
        reject(new Error(`changelog barrier not seen within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(token, () => {
        clearTimeout(t);
        this.waiters.delete(token);
        resolve();
      });
    });
  }

  /** A copy, so the owner's live state never aliases the replica. */
  snapshot(topic: string, partition: number): [string, unknown][] {
    return [...(this.parts.get(`${topic}/${partition}`) ?? new Map()).entries()].map(([k, v]) => [
      k,
      structuredClone(v),
    ]);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => {});
  }
}

/** What a side is, whatever its client. */
export interface RunnerOptions {
  name: string;
  groupId: string;
  /** Co-partitioned input topics (same partition count). */
  inputs: string[];
  changelog: string;
  replica: Replica;
  logic: TaskLogic;
  log: Log;
}

/**
 * The tasks of one side, on any client: their restore from the changelog, a batch of input through the logic
 * and the timers. A client supplies the consumer, the producer(s) and so the transaction (`commit`).
 */
export abstract class TaskRunner<T extends Task> {
  protected readonly tasks = new Map<number, Promise<T>>();
  protected assigned = new Set<number>();
  protected stopping = false;
  private joinedOnce = false;
  private timer?: NodeJS.Timeout;
  private ticking = false;

  constructor(protected readonly o: RunnerOptions) {}

  /** A new task for partition p, restored (`restore`). */
  protected abstract initTask(p: number): Promise<T>;
  /** Outputs + changed state (+ consumed offset) in one transaction; false: failed, the task is dropped. */
  protected abstract commit(task: T, out: Emit[], consumed?: { topic: string; offset: string }): Promise<boolean>;
  /** A dropped task's resources (its producer, if it has one). */
  protected async release(_task: T): Promise<void> {}

  get joined(): boolean {
    return this.joinedOnce;
  }

  /** True when every assigned task is initialised (restored). */
  async tasksReady(): Promise<boolean> {
    for (const p of this.assigned) {
      const t = this.tasks.get(p);
      if (!t) return false;
      try {
        if ((await t).dead) return false;
      } catch {
        return false;
      }
    }
    return this.joinedOnce;
  }

  protected startTimers(): void {
    this.timer = setInterval(() => void this.tick(), 100);
  }

  protected stopTimers(): void {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * A new assignment. Every task is rebuilt, kept partitions too: a member expelled during a network fault (or
   * one that missed a generation) gets a partition back whose interim owner moved its state on, and a kept
   * task would not know the holds and timers that owner committed. It could never commit them away (it is
   * fenced), but their timers would never fire (stuck reservations).
   */
  protected reassigned(partitions: number[]): void {
    this.assigned = new Set(partitions);
    this.joinedOnce = true;
    this.o.log(`${this.o.name}: assigned partitions [${[...this.assigned].sort().join(",")}]`);
    for (const p of [...this.tasks.keys()]) void this.drop(p, this.assigned.has(p) ? "rebalanced" : "revoked");
  }

  protected dropAll(why: string): Promise<unknown> {
    return Promise.all([...this.tasks.keys()].map((p) => this.drop(p, why)));
  }

  protected task(p: number): Promise<T> {
    let t = this.tasks.get(p);
    if (!t) {
      t = this.initTask(p);
      this.tasks.set(p, t);
      t.catch((e) => {
        this.o.log(`${this.o.name}: task ${p} init failed: ${(e as Error).message}`);
        if (this.tasks.get(p) === t) this.tasks.delete(p);
      });
    }
    return t;
  }

  /**
   * The state of partition p as Kafka has it: `barrier` commits a record with a fresh token to changelog p;
   * once the replica (read_committed) has read it, it holds everything committed to p before, including a
   * previous owner's last transaction.
   */
  protected async restore(p: number, barrier: (record: { key: string; value: string }) => Promise<void>): Promise<Kv> {
    const token = randomBytes(8).toString("hex");
    await barrier({ key: "barrier", value: JSON.stringify({ token }) });
    await this.o.replica.waitForToken(token, 60_000);
    return new Kv(this.o.replica.snapshot(this.o.changelog, p));
  }

  protected restored(task: T, started: number): T {
    const ms = Date.now() - started;
    this.o.log(`${this.o.name}: task ${task.partition} restored in ${ms} ms (timers ${task.kv.due.size})`);
    return task;
  }

  /** Forget a task (it is rebuilt on its next batch or tick if the partition is still assigned). */
  private async drop(p: number, why: string): Promise<void> {
    const tp = this.tasks.get(p);
    if (!tp) return;
    this.tasks.delete(p);
    let task: T;
    try {
      task = await tp;
    } catch {
      return;
    }
    await task.lock.run(async () => {
      if (task.dead) return;
      task.dead = true;
      this.o.log(`${this.o.name}: task ${p} dropped (${why})`);
      await this.release(task);
    });
  }

  /** Called under the task's lock after a failed commit: forget it without re-taking the lock. */
  protected async forgetDead(task: T): Promise<void> {
    const cur = this.tasks.get(task.partition);
    if (cur && (await cur.catch(() => undefined)) === task) this.tasks.delete(task.partition);
  }

  /**
   * A batch of one input partition. `resolve` marks input done (it is not fetched again); what is not resolved
   * is fetched again (deferred, or its transaction failed).
   */
  protected async batch(
    p: number,
    topic: string,
    messages: KafkaMessage[],
    b: { lastOffset: string; resolve(offset: string): void; heartbeat(): Promise<void>; isStale(): boolean },
  ): Promise<void> {
    let task: T;
    try {
      task = await this.task(p);
    } catch {
      await sleep(500);
      return; // not resolved: fetched again
    }
    await task.lock.run(async () => {
      if (task.dead || b.isStale()) return;
      const from = BigInt(task.position(topic) ?? "0");
      // A zombie may have committed past the group offset this consumer started from.
      const todo = messages.filter((m) => BigInt(m.offset) >= from);
      if (todo.length === 0) {
        b.resolve(b.lastOffset);
        return;
      }
      if (this.o.logic.ready && !(await this.o.logic.ready(task, topic, todo))) {
        await sleep(30);
        return;
      }
      const out: Emit[] = [];
      const ctx: TaskContext = { partition: p, kv: task.kv, now: Date.now(), emit: (e) => out.push(e) };
      let last: string | undefined;
      for (const m of todo) {
        if (this.o.logic.handle(ctx, topic, m) === false) break;
        last = m.offset;
      }
      if (last === undefined) {
        await sleep(30);
        return;
      }
      const next = (BigInt(last) + 1n).toString();
      task.kv.put(`pos:${topic}`, { offset: next });
      if (await this.commit(task, out, { topic, offset: next })) {
        b.resolve(last);
        await b.heartbeat().catch(() => {});
      }
    });
  }

  /** Timers, and (re)creating tasks for assigned partitions that have none (after a failure). */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopping) return;
    this.ticking = true;
    try {
      await Promise.all(
        [...this.assigned].map(async (p) => {
          let task: T;
          try {
            task = await this.task(p);
          } catch {
            return;
          }
          await task.lock.run(async () => {
            if (task.dead) return;
            const now = Date.now();
            const due = [...task.kv.due].filter(([, at]) => at <= now).map(([k]) => k);
            if (due.length === 0) return;
            const out: Emit[] = [];
            const ctx: TaskContext = { partition: p, kv: task.kv, now, emit: (e) => out.push(e) };
            for (const k of due) this.o.logic.due(ctx, k, task.kv.get(k));
            await this.commit(task, out);
          });
        }),
      );
    } finally {
      this.ticking = false;
    }
  }
}

export interface SideOptions extends RunnerOptions {
  kafka: Kafka;
  admin: Admin;
  sessionTimeoutMs: number;
  /** An assigned partition with input waiting and no batch for this long: the consumer is replaced. */
  stallMs: number;
  /** Inputs written in transactions (they end with a commit marker). */
  transactionalInputs: string[];
}

/** One side of the saga on kafkajs: a consumer group whose partitions are tasks, a producer per task. */
export class Side extends TaskRunner<ProducerTask> {
  private consumer?: Consumer;
  private readonly partitionCounts: PartitionCounts;
  private readonly watch: StallWatch;

  constructor(private readonly k: SideOptions) {
    super(k);
    this.partitionCounts = new PartitionCounts(k.admin);
    this.watch = watchForStalls({
      admin: k.admin,
      groupId: k.groupId,
      log: k.log,
      stallMs: k.stallMs,
      transactionalInputs: new Set(k.transactionalInputs),
      replace: () => this.replaceConsumer(),
    });
  }

  async start(): Promise<void> {
    await this.run(this.newConsumer());
    this.startTimers();
  }

  /** The stall watchdog's remedy: a new member; the old one leaves (or is expelled) in the background. */
  private async replaceConsumer(): Promise<void> {
    const old = this.consumer;
    void old?.disconnect().catch(() => {});
    await this.run(this.newConsumer());
  }

  private newConsumer(): Consumer {
    const c = this.k.kafka.consumer({
      groupId: this.k.groupId,
      partitionAssigners: [coPartitionedAssigner],
      readUncommitted: false,
      sessionTimeout: this.k.sessionTimeoutMs,
      rebalanceTimeout: 30_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
      retry: { retries: 10 },
    });
    c.on(c.events.GROUP_JOIN, (e) => {
      const a = e.payload.memberAssignment as Record<string, number[]>;
      this.reassigned(a[this.k.inputs[0]!] ?? []);
    });
    c.on(c.events.CRASH, (e) => {
      this.k.log(`${this.k.name}: consumer crashed (${e.payload.error?.message}); restart=${e.payload.restart}`);
      if (!e.payload.restart && !this.stopping) process.exit(1);
    });
    this.watch.attach(c);
    return c;
  }

  private async run(c: Consumer): Promise<void> {
    this.consumer = c;
    await c.connect();
    await c.subscribe({ topics: this.k.inputs, fromBeginning: true });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (p) => this.onBatch(p),
    });
  }

  async stop(): Promise<void> {
    this.stopTimers();
    this.watch.stop();
    // Committed/end offset of each partition this member owns: a lost order can be traced to a side.
    this.k.log(`${this.k.name} at shutdown: ${await this.watch.describe().catch((e: Error) => e.message)}`);
    await this.consumer?.disconnect().catch(() => {});
    await this.dropAll("shutdown");
  }

  protected async initTask(p: number): Promise<ProducerTask> {
    const started = Date.now();
    const producer = this.k.kafka.producer({
      transactionalId: `${this.k.groupId}.task-${p}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 30_000,
      allowAutoTopicCreation: false,
      retry: TRANSACTIONAL_RETRY,
    });
    await producer.connect();
    let kv: Kv;
    try {
      // The first transaction() runs InitProducerId: the previous owner is fenced, its open transaction aborted.
      kv = await this.restore(p, async (record) => {
        const tx = await producer.transaction();
        try {
          await tx.send({ topic: this.k.changelog, acks: -1, messages: [{ partition: p, ...record }] });
          await tx.commit();
        } catch (e) {
          await tx.abort().catch(() => {});
          throw e;
        }
      });
    } catch (e) {
      await producer.disconnect().catch(() => {});
      throw e;
    }
    return this.restored(new ProducerTask(p, kv, this.k.inputs, producer), started);
  }

  protected override async release(task: ProducerTask): Promise<void> {
    await task.producer.disconnect().catch(() => {});
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isStale }: EachBatchPayload): Promise<void> {
    const lastOffset = batch.lastOffset();
    await this.batch(batch.partition, batch.topic, batch.messages, {
      lastOffset,
      resolve: resolveOffset,
      heartbeat,
      isStale,
    });
  }

  protected async commit(
    task: ProducerTask,
    out: Emit[],
    consumed?: { topic: string; offset: string },
  ): Promise<boolean> {
    const p = task.partition;
    const byTopic = task.records(out, this.k.changelog);
    let tx: Awaited<ReturnType<Producer["transaction"]>> | undefined;
    try {
      const partitionsOf = await this.partitionCounts.of([...byTopic.keys()]);
      tx = await task.producer.transaction();
      // One partition per send: kafkajs's retry of a send spanning brokers loses or duplicates records.
      const t = tx;
      await sendPerPartition(
        (r) => t.send(r),
        [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        partitionsOf,
      );
      if (consumed) {
        await tx.sendOffsets({
          consumerGroupId: this.k.groupId,
          topics: [{ topic: consumed.topic, partitions: [{ partition: p, offset: consumed.offset }] }],
        });
      }
      await tx.commit();
      task.committedTo(consumed);
      return true;
    } catch (e) {
      this.k.log(`${this.k.name}: task ${p} transaction failed: ${(e as Error).message}`);
      await tx?.abort().catch(() => {});
      // In-memory state already holds the aborted changes: rebuild from the changelog.
      task.dead = true;
      void this.dropDead(task);
      return false;
    }
  }

  /** Called under the task's lock: rewind and close without re-taking it. */
  private async dropDead(task: ProducerTask): Promise<void> {
    const p = task.partition;
    await this.forgetDead(task);
    if (this.consumer && this.assigned.has(p)) {
      for (const topic of this.k.inputs) {
        try {
          this.consumer.seek({ topic, partition: p, offset: task.committed.get(topic) ?? "-2" });
        } catch (e) {
          this.k.log(`${this.k.name}: seek ${topic}/${p} failed: ${(e as Error).message}`);
        }
      }
    }
    await task.producer.disconnect().catch(() => {});
  }
}
