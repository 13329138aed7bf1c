// One consumer on one topic that keeps itself alive until stopped, tuned to read fast: whole batches of
// up to tens of MB, partitions in parallel, records handed over batch by batch (no per-record await).
// Throwaway groups that never commit: every (re)start reads from the beginning; the caller drops what it
// has already seen by partition offset.
import { randomBytes } from "node:crypto";
import type { Admin, Batch, Consumer } from "kafkajs";
import type { Connection } from "../../systems-under-test/contract/connection.ts";
import { kafkaClient, TIMEOUTS } from "../kafka/client.ts";

/** How long stopping a consumer may take before it is abandoned (a dead broker must not hang the run). */
export const STOP_TIMEOUT_MS = 3_000;
/** Fetch sizes: large, so one fetch carries thousands of records per partition. */
const MAX_BYTES = 64 * 1024 * 1024;
const MAX_BYTES_PER_PARTITION = 16 * 1024 * 1024;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      () => {
        clearTimeout(t);
        resolve(undefined);
      },
    );
  });
}

export function kafkaFor(connection: Connection, clientId: string) {
  return kafkaClient(connection, clientId, TIMEOUTS.reader);
}

export type BatchHandler = (batch: Batch, receivedAtMs: number) => void;

export class TopicReader {
  readonly ready: Promise<void>;
  joined = false;
  /** Highest offset (records, aborted records and markers alike) each partition's fetches have passed. */
  readonly position = new Map<number, bigint>();
  private markReady!: () => void;
  private stopped = false;
  private markStopped!: () => void;
  private readonly stoppedSignal = new Promise<void>((r) => (this.markStopped = r));
  private consumer?: Consumer;
  private loopDone?: Promise<void>;

  constructor(
    private readonly connection: Connection,
    private readonly topic: string,
    private readonly readUncommitted: boolean,
    private readonly label: string,
    private readonly onBatch: BatchHandler,
    private readonly onError: (message: string) => void,
    /** Called when a fetch has passed lastOffset on a partition (after its records were handed over). */
    private readonly onPassed?: (partition: number, lastOffset: bigint) => void,
    /**
     * Called when a fetch passed offsets it did not hand over: control records (transaction markers), records
     * of aborted transactions, or gaps. A topic no transactional producer wrote to never has any.
     */
    private readonly onSkipped?: (partition: number) => void,
  ) {
    this.ready = new Promise((r) => (this.markReady = r));
  }

  start(): void {
    this.loopDone = this.loop();
  }

  private newConsumer(): Consumer {
    const groupId = `oversell-checker.${this.label}.${randomBytes(6).toString("hex")}`;
    return kafkaFor(this.connection, groupId).consumer({
      groupId,
      readUncommitted: this.readUncommitted,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
      maxBytes: MAX_BYTES,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
      sessionTimeout: 15_000,
      heartbeatInterval: 1_000,
      retry: { initialRetryTime: 200, maxRetryTime: 2_000, retries: 8, restartOnFailure: async () => true },
    });
  }

  private watchEvents(consumer: Consumer, gaveUp: () => void): void {
    consumer.on(consumer.events.CRASH, (e) => {
      this.onError(`${this.label}: ${e.payload.error.message}`);
      if (!e.payload.restart) gaveUp();
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.joined = true;
      this.markReady();
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      const p = e.payload.partition,
        last = BigInt(e.payload.lastOffset);
      const first = e.payload.firstOffset;
      if (this.onSkipped && first !== null && last - BigInt(first) + 1n > BigInt(e.payload.batchSize))
        this.onSkipped(p);
      if ((this.position.get(p) ?? -1n) < last) {
        this.position.set(p, last);
        this.onPassed?.(p, last);
      }
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const consumer = this.newConsumer();
      this.consumer = consumer;
      let gaveUp!: () => void;
      const crashed = new Promise<void>((r) => (gaveUp = r));
      this.watchEvents(consumer, gaveUp);
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: this.topic, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          partitionsConsumedConcurrently: 8,
          eachBatch: async ({ batch }) => this.onBatch(batch, Date.now()),
        });
        await Promise.race([crashed, this.stoppedSignal]);
      } catch (e) {
        this.onError(`${this.label}: ${(e as Error).message}`);
      }
      await withTimeout(consumer.disconnect(), STOP_TIMEOUT_MS);
      if (!this.stopped) await Promise.race([sleep(1_000), this.stoppedSignal]);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.markStopped();
    // One bound for both: a consumer still retrying its connect may not answer disconnect() promptly.
    await withTimeout(Promise.all([this.consumer?.disconnect(), this.loopDone]), STOP_TIMEOUT_MS);
  }
}

/** Offsets a read_committed reader must pass to have seen everything committed now (last stable offset − 1). */
export async function committedEnds(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.offset) - 1n]));
}

export function caughtUp(position: Map<number, bigint>, ends: Map<number, bigint>): boolean {
  for (const [p, last] of ends) if (last >= 0n && (position.get(p) ?? -1n) < last) return false;
  return true;
}
