// The kafka driver's producers: N worker threads, each with its own idempotent kafkajs producer, each owning
// the partitions p with p % N == k (so a key's records keep their order). The main thread encodes records into
// per-worker chunks and transfers them; outcomes come back as typed arrays (see producer-protocol.ts).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { Chunk, FromWorker, ToWorker, WorkerInit } from "./producer-protocol.ts";

const WORKER_URL = new URL("./producer-worker.ts", import.meta.url).href;
// tsx's ESM API (its "import" build: the require build resolves its loader wrongly from an eval worker).
const TSX_API = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve("tsx/esm/api")), "index.mjs")).href;
/** The worker loads TypeScript through tsx itself: under vitest or plain node the thread inherits no loader. */
const BOOT =
  `import(${JSON.stringify(TSX_API)}).then((t) => { ` +
  `t.register(); return import(${JSON.stringify(WORKER_URL)}); });`;

/** A chunk is handed over once it holds this much (the worker coalesces chunks into larger sends). */
const FLUSH_BYTES = 128 * 1024;

class ChunkBuilder {
  private n = 0;
  private used = 0;
  private idx = new Uint32Array(1024);
  private part = new Int32Array(1024);
  private ends = new Uint32Array(2048);
  private bytes = new Uint8Array(FLUSH_BYTES * 2);

  get size(): number {
    return this.n;
  }

  get byteLength(): number {
    return this.used;
  }

  add(index: number, partition: number, key: string, value: Uint8Array): void {
    if (this.n === this.idx.length) this.growRecords();
    const need = this.used + key.length * 3 + value.length;
    if (need > this.bytes.length) this.growBytes(need);
    this.used += Buffer.from(this.bytes.buffer).write(key, this.used, "utf8");
    this.ends[2 * this.n] = this.used;
    this.bytes.set(value, this.used);
    this.used += value.length;
    this.ends[2 * this.n + 1] = this.used;
    this.idx[this.n] = index;
    this.part[this.n] = partition;
    this.n++;
  }

  /** The chunk so far (its buffers move to the worker); the builder starts afresh. */
  take(postedAtMs: number, alone = false): Chunk {
    const c: Chunk = {
      postedAtMs,
      alone,
      idx: this.idx.slice(0, this.n),
      part: this.part.slice(0, this.n),
      ends: this.ends.slice(0, 2 * this.n),
      bytes: this.bytes.slice(0, this.used),
    };
    this.n = 0;
    this.used = 0;
    return c;
  }

  private growRecords(): void {
    const cap = this.idx.length * 2;
    const idx = new Uint32Array(cap),
      part = new Int32Array(cap),
      ends = new Uint32Array(2 * cap);
    idx.set(this.idx);
    part.set(this.part);
    ends.set(this.ends);
    [this.idx, this.part, this.ends] = [idx, part, ends];
  }

  private growBytes(need: number): void {
    const bytes = new Uint8Array(Math.max(need, this.bytes.length * 2));
    bytes.set(this.bytes.subarray(0, this.used));
    this.bytes = bytes;
  }
}

export interface PoolOptions extends Omit<WorkerInit, "clientId"> {
  workers: number;
  clientId: string;
  onMessage: (m: FromWorker) => void;
}

export class ProducerPool {
  private readonly builders: ChunkBuilder[];
  private readonly done: boolean[];
  private whenClosed?: () => void;

  private constructor(
    private readonly workers: Worker[],
    onMessage: (m: FromWorker) => void,
  ) {
    this.builders = workers.map(() => new ChunkBuilder());
    this.done = workers.map(() => false);
    workers.forEach((w, k) => {
      w.on("message", (m: FromWorker) => {
        onMessage(m);
        if (m.type === "closed") this.workerDone(k);
      });
      // A worker that dies reports it once; close() then counts its outstanding sends as unknown.
      w.on("error", (e) => onMessage({ type: "fatal", error: `producer worker ${k}: ${e.message}` }));
      w.on("exit", () => this.workerDone(k));
    });
  }

  /** Starts the workers; resolves once every producer is connected (rejects with the first connect error). */
  static async start(o: PoolOptions): Promise<ProducerPool> {
    const workers = Array.from(
      { length: o.workers },
      (_, k) =>
        new Worker(BOOT, {
          eval: true,
          workerData: {
            connection: o.connection,
            clientId: `${o.clientId}-${k}`,
            topic: o.topic,
            ackTimeoutMs: o.ackTimeoutMs,
          } satisfies WorkerInit,
        }),
    );
    try {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve, reject) => {
              w.on("error", reject);
              w.once("message", (m: FromWorker) =>
                m.type === "ready"
                  ? resolve()
                  : reject(new Error(m.type === "fatal" ? m.error : `unexpected ${m.type}`)),
              );
            }),
        ),
      );
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new ProducerPool(workers, o.onMessage);
  }

  get size(): number {
    return this.workers.length;
  }

  add(index: number, partition: number, key: string, value: Uint8Array): void {
    const k = partition % this.workers.length;
    const b = this.builders[k]!;
    b.add(index, partition, key, value);
    if (b.byteLength >= FLUSH_BYTES) this.post(k, b.take(Date.now()));
  }

  /** A record too large to share a send: flushes what is pending for its worker, then sends it alone. */
  addAlone(index: number, partition: number, key: string, value: Uint8Array): void {
    const k = partition % this.workers.length;
    this.flushOne(k);
    this.builders[k]!.add(index, partition, key, value);
    this.post(k, this.builders[k]!.take(Date.now(), true));
  }

  flush(): void {
    for (let k = 0; k < this.workers.length; k++) this.flushOne(k);
  }

  /** Sends what is pending, waits for every outstanding send's outcome, stops the workers. */
  async close(): Promise<void> {
    this.flush();
    const closed = new Promise<void>((resolve) => (this.whenClosed = resolve));
    if (this.done.every(Boolean)) this.whenClosed!();
    for (const w of this.workers) w.postMessage({ type: "close" } satisfies ToWorker);
    await closed;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private flushOne(k: number): void {
    if (this.builders[k]!.size > 0) this.post(k, this.builders[k]!.take(Date.now()));
  }

  private post(k: number, c: Chunk): void {
    const transfer = [c.idx.buffer, c.part.buffer, c.ends.buffer, c.bytes.buffer] as ArrayBuffer[];
    this.workers[k]!.postMessage({ type: "chunk", chunk: c } satisfies ToWorker, transfer);
  }

  private workerDone(k: number): void {
    this.done[k] = true;
    if (this.done.every(Boolean)) this.whenClosed?.();
  }
}
