// A read_committed copy of the whole changelog, kept by every instance in a consumer group of its
// own (kafkajs cannot assign partitions by hand). A new owner of partition p writes a sync token to
// changelog p and waits for the mirror to reach it: the state at that point is everything
// committed before it, including the last transaction of the previous owner.
import type { Consumer, Kafka } from "kafkajs";
import { PartitionState } from "./records.ts";
import type { Settings } from "./settings.ts";

export class ChangelogMirror {
  private states = new Map<number, PartitionState>();
  private waiters = new Map<string, (s: PartitionState) => void>();
  readonly last = new Map<number, string>();
  readonly consumer: Consumer;
  joined: Promise<void>;

  constructor(
    kafka: Kafka,
    groupId: string,
    private topic: string,
    settings: Settings,
  ) {
    this.consumer = kafka.consumer({
      groupId,
      readUncommitted: false,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: settings.heartbeatMs,
      maxWaitTimeInMs: 50,
      maxBytesPerPartition: 4 * 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    this.joined = new Promise((r) => this.consumer.on(this.consumer.events.GROUP_JOIN, () => r()));
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        let st = this.states.get(batch.partition);
        if (!st) this.states.set(batch.partition, (st = new PartitionState()));
        if (batch.messages.length) this.last.set(batch.partition, batch.lastOffset());
        for (const m of batch.messages) {
          const token = st.applyChangelog(m.key?.toString() ?? "", m.value);
          const w = token ? this.waiters.get(token) : undefined;
          if (w) {
            this.waiters.delete(token!);
            w(st.clone());
          }
        }
      },
    });
  }

  /** Resolves with a copy of partition p's state as of the record carrying `token`. */
  waitFor(token: string, timeoutMs: number): Promise<PartitionState> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(token);
        reject(new Error(`changelog mirror did not see sync token ${token} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(token, (s) => {
        clearTimeout(t);
        resolve(s);
      });
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect().catch(() => {});
  }
}
