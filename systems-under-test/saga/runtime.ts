// A small exactly-once stream-task runtime on kafkajs (EOS v1 pattern, see KAFKA.md):
// co-partitioned input topics form one task per partition number; each task has its own
// transactional producer (transactionalId = group + task), a key-value state restored
// from a compacted changelog partition, and commits state changes, outputs and consumed
// offsets in one transaction. Any failure drops the task; it is rebuilt from the changelog.
import { randomBytes } from "node:crypto";
import kafkajs from "kafkajs";
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, PartitionAssigner, Producer } from "kafkajs";
import { PartitionCounts, sendPerPartition, watchForStalls, type StallWatch } from "../contract/index.ts";

const { AssignerProtocol } = kafkajs;

export type Log = (msg: string) => void;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

class Mutex {
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
    readonly producer: Producer,
    readonly kv: Kv,
  ) {}

  position(topic: string): string | undefined {
    return this.kv.get<{ offset: string }>(`pos:${topic}`)?.offset;
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

export interface SideOptions {
  name: string;
  kafka: Kafka;
  admin: Admin;
  groupId: string;
  /** Co-partitioned input topics (same partition count). */
  inputs: string[];
  changelog: string;
  replica: Replica;
  logic: TaskLogic;
  sessionTimeoutMs: number;
  /** An assigned partition with input waiting and no batch for this long: the consumer is replaced. */
  stallMs: number;
  /** Inputs written in transactions (they end with a commit marker). */
  transactionalInputs: string[];
  log: Log;
}

/** One side of the saga: a consumer group whose partitions are tasks. */
export class Side {
  private consumer?: Consumer;
  private readonly tasks = new Map<number, Promise<Task>>();
  private assigned = new Set<number>();
  private joinedOnce = false;
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private stopping = false;
  private readonly partitionCounts: PartitionCounts;
  private readonly watch: StallWatch;

  constructor(private readonly o: SideOptions) {
    this.partitionCounts = new PartitionCounts(o.admin);
    this.watch = watchForStalls({
      admin: o.admin,
      groupId: o.groupId,
      log: o.log,
      stallMs: o.stallMs,
      transactionalInputs: new Set(o.transactionalInputs),
      replace: () => this.replaceConsumer(),
    });
  }

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

  async start(): Promise<void> {
    await this.run(this.newConsumer());
    this.timer = setInterval(() => void this.tick(), 100);
  }

  /** The stall watchdog's remedy: a new member; the old one leaves (or is expelled) in the background. */
  private async replaceConsumer(): Promise<void> {
    const old = this.consumer;
    void old?.disconnect().catch(() => {});
    await this.run(this.newConsumer());
  }

  private newConsumer(): Consumer {
    const c = this.o.kafka.consumer({
      groupId: this.o.groupId,
      partitionAssigners: [coPartitionedAssigner],
      readUncommitted: false,
      sessionTimeout: this.o.sessionTimeoutMs,
      rebalanceTimeout: 30_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
      retry: { retries: 10 },
    });
    c.on(c.events.GROUP_JOIN, (e) => {
      const a = e.payload.memberAssignment as Record<string, number[]>;
      this.assigned = new Set(a[this.o.inputs[0]!] ?? []);
      this.joinedOnce = true;
      this.o.log(`${this.o.name}: assigned partitions [${[...this.assigned].sort().join(",")}]`);
      // Every task is rebuilt, kept partitions too: a member expelled during a network fault (or one
      // that missed a generation) gets a partition back whose interim owner moved its state on, and a
      // kept task would not know the holds and timers that owner committed. Its producer is fenced, so
      // it could never commit them away, but their timers would never fire (stuck reservations).
      for (const p of [...this.tasks.keys()]) void this.drop(p, this.assigned.has(p) ? "rebalanced" : "revoked", false);
    });
    c.on(c.events.CRASH, (e) => {
      this.o.log(`${this.o.name}: consumer crashed (${e.payload.error?.message}); restart=${e.payload.restart}`);
      if (!e.payload.restart && !this.stopping) process.exit(1);
    });
    this.watch.attach(c);
    return c;
  }

  private async run(c: Consumer): Promise<void> {
    this.consumer = c;
    await c.connect();
    await c.subscribe({ topics: this.o.inputs, fromBeginning: true });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (p) => this.onBatch(p),
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.watch.stop();
    // Committed/end offset of each partition this member owns: a lost order can be traced to a side.
    this.o.log(`${this.o.name} at shutdown: ${await this.watch.describe().catch((e: Error) => e.message)}`);
    await this.consumer?.disconnect().catch(() => {});
    await Promise.all([...this.tasks.keys()].map((p) => this.drop(p, "shutdown", false)));
  }

  private task(p: number): Promise<Task> {
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

  private async initTask(p: number): Promise<Task> {
    const started = Date.now();
    const producer = this.o.kafka.producer({
      transactionalId: `${this.o.groupId}.task-${p}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 30_000,
      allowAutoTopicCreation: false,
      // The broker answers CONCURRENT_TRANSACTIONS until the previous commit's markers are
      // written; kafkajs' default 300 ms first retry would add that to every hop.
      retry: { initialRetryTime: 20, maxRetryTime: 1000, retries: 12 },
    });
    await producer.connect();
    const token = randomBytes(8).toString("hex");
    try {
      // The first transaction() runs InitProducerId: the previous owner is fenced, its open transaction aborted.
      const tx = await producer.transaction();
      try {
        await tx.send({
          topic: this.o.changelog,
          acks: -1,
          messages: [{ partition: p, key: "barrier", value: JSON.stringify({ token }) }],
        });
        await tx.commit();
      } catch (e) {
        await tx.abort().catch(() => {});
        throw e;
      }
      await this.o.replica.waitForToken(token, 60_000);
    } catch (e) {
      await producer.disconnect().catch(() => {});
      throw e;
    }
    const task = new Task(p, producer, new Kv(this.o.replica.snapshot(this.o.changelog, p)));
    for (const topic of this.o.inputs) {
      const pos = task.position(topic);
      if (pos !== undefined) task.committed.set(topic, pos);
    }
    this.o.log(`${this.o.name}: task ${p} restored in ${Date.now() - started} ms (timers ${task.kv.due.size})`);
    return task;
  }

  /** Forget a task. After a failure while still assigned, rewind the inputs to what was committed. */
  private async drop(p: number, why: string, rewind: boolean): Promise<void> {
    const tp = this.tasks.get(p);
    if (!tp) return;
    this.tasks.delete(p);
    let task: Task;
    try {
      task = await tp;
    } catch {
      return;
    }
    await task.lock.run(async () => {
      if (task.dead) return;
      task.dead = true;
      this.o.log(`${this.o.name}: task ${p} dropped (${why})`);
      if (rewind && this.consumer) {
        for (const topic of this.o.inputs) {
          try {
            this.consumer.seek({ topic, partition: p, offset: task.committed.get(topic) ?? "-2" });
          } catch (e) {
            this.o.log(`${this.o.name}: seek ${topic}/${p} failed: ${(e as Error).message}`);
          }
        }
      }
      await task.producer.disconnect().catch(() => {});
    });
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isStale }: EachBatchPayload): Promise<void> {
    const p = batch.partition;
    const topic = batch.topic;
    let task: Task;
    try {
      task = await this.task(p);
    } catch {
      await sleep(500);
      return; // not resolved: fetched again
    }
    await task.lock.run(async () => {
      if (task.dead || isStale()) return;
      const from = BigInt(task.position(topic) ?? "0");
      // A zombie may have committed past the group offset this consumer started from.
      const todo = batch.messages.filter((m) => BigInt(m.offset) >= from);
      if (todo.length === 0) {
        resolveOffset(batch.lastOffset());
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
        resolveOffset(last);
        await heartbeat().catch(() => {});
      }
    });
  }

  /** Outputs + changed state (+ consumed offset) in one transaction. On failure the task is rebuilt. */
  private async commit(task: Task, out: Emit[], consumed?: { topic: string; offset: string }): Promise<boolean> {
    const p = task.partition;
    const byTopic = new Map<string, { key: string; value: string | null; partition?: number }[]>();
    const add = (topic: string, m: { key: string; value: string | null; partition?: number }) => {
      const list = byTopic.get(topic);
      if (list) list.push(m);
      else byTopic.set(topic, [m]);
    };
    for (const e of out) add(e.topic, { key: e.key, value: JSON.stringify(e.value), partition: e.partition });
    for (const k of task.kv.dirty) {
      const v = task.kv.get(k);
      add(this.o.changelog, { key: k, value: v === undefined ? null : JSON.stringify(v), partition: p });
    }
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
          consumerGroupId: this.o.groupId,
          topics: [{ topic: consumed.topic, partitions: [{ partition: p, offset: consumed.offset }] }],
        });
      }
      await tx.commit();
      task.kv.dirty.clear();
      if (consumed) task.committed.set(consumed.topic, consumed.offset);
      return true;
    } catch (e) {
      this.o.log(`${this.o.name}: task ${p} transaction failed: ${(e as Error).message}`);
      await tx?.abort().catch(() => {});
      // In-memory state already holds the aborted changes: rebuild from the changelog.
      task.dead = true;
      void this.dropDead(task);
      return false;
    }
  }

  /** Called under the task's lock: rewind and close without re-taking it. */
  private async dropDead(task: Task): Promise<void> {
    const p = task.partition;
    const cur = this.tasks.get(p);
    if (cur && (await cur.catch(() => undefined)) === task) this.tasks.delete(p);
    if (this.consumer && this.assigned.has(p)) {
      for (const topic of this.o.inputs) {
        try {
          this.consumer.seek({ topic, partition: p, offset: task.committed.get(topic) ?? "-2" });
        } catch (e) {
          this.o.log(`${this.o.name}: seek ${topic}/${p} failed: ${(e as Error).message}`);
        }
      }
    }
    await task.producer.disconnect().catch(() => {});
  }

  /** Timers, and (re)creating tasks for assigned partitions that have none (after a failure). */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopping) return;
    this.ticking = true;
    try {
      await Promise.all(
        [...this.assigned].map(async (p) => {
          let task: Task;
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
