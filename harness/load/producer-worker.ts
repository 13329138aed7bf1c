// One producer of the kafka driver's pool, in a worker thread. The main thread hands it encoded records in
// chunks (transferred, not copied); it coalesces whatever is queued into one send() (many records per produce
// request is what makes kafkajs fast), keeps at most MAX_INFLIGHT sends open, and answers with typed arrays:
// which records were acknowledged at which partition/offset, which failed, which timed out.
import { parentPort, workerData } from "node:worker_threads";
import type { Producer } from "kafkajs";
import { kafkaClient } from "../kafka/client.ts";
import { classifySendError, idempotentProducer } from "./produce.ts";
import type { Chunk, FromWorker, ToWorker, WorkerInit } from "./producer-protocol.ts";
import { MAX_SEND_BYTES } from "./producer-protocol.ts";

/** Kafka's idempotent producer keeps at most 5 requests open per partition; more sends would only queue. */
const MAX_INFLIGHT = 5;

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

const producer: Producer = idempotentProducer(kafkaClient(init.connection, init.clientId));
const queue: Chunk[] = [];
let inflight = 0;
let closing = false;

function take(): Chunk[] {
  const out: Chunk[] = [queue.shift()!];
  if (out[0]!.alone) return out;
  let bytes = out[0]!.bytes.byteLength;
  while (queue.length > 0 && !queue[0]!.alone && bytes + queue[0]!.bytes.byteLength <= MAX_SEND_BYTES) {
    bytes += queue[0]!.bytes.byteLength;
    out.push(queue.shift()!);
  }
  return out;
}

function pump(): void {
  while (inflight < MAX_INFLIGHT && queue.length > 0) void sendChunks(take());
  if (closing && inflight === 0 && queue.length === 0) void finish();
}

async function sendChunks(chunks: Chunk[]): Promise<void> {
  inflight++;
  const now = Date.now();
  post({
    type: "queued",
    delayMs: Float64Array.from(chunks, (c) => now - c.postedAtMs),
    count: Uint32Array.from(chunks, (c) => c.idx.length),
  });
  const { idx, part, messages } = decodeChunks(chunks);
  const groups = partitionGroups(part);
  const settled = new Uint8Array(groups.length);
  const timeout = ackTimeout(idx, groups, settled);
  // One send per partition: kafkajs 2.2.4 can lose or duplicate records when a send spanning several
  // brokers is retried after a leader move (see systems-under-test/contract/one-partition-sends.ts).
  const send = Promise.all(
    groups.map((rows, g) =>
      producer
        .send({ topic: init.topic, acks: -1, timeout: init.ackTimeoutMs, messages: rows.map((j) => messages[j]!) })
        .then(
          (meta) => {
            settled[g] = 1;
            postAcks(gather(idx, [rows]), gather(part, [rows]), meta);
          },
          (e: unknown) => {
            settled[g] = 1;
            const { status, error } = classifySendError(e);
            const failed = gather(idx, [rows]);
            post({ type: "error", idx: failed, status, error, atMs: Date.now() }, [failed.buffer]);
          },
        ),
    ),
  );
  // The slot is free at the first of ack, error or timeout (a later ack is still reported).
  await Promise.race([send, timeout.reached]);
  timeout.cancel();
  inflight--;
  pump();
}

/** The records of the chunks as kafkajs messages (views on the transferred bytes, not copies), in order. */
function decodeChunks(chunks: Chunk[]): {
  idx: Uint32Array<ArrayBuffer>;
  part: Int32Array<ArrayBuffer>;
  messages: { key: Buffer; value: Buffer; partition: number }[];
} {
  const n = chunks.reduce((a, c) => a + c.idx.length, 0);
  const idx = new Uint32Array(n);
  const part = new Int32Array(n);
  const messages: { key: Buffer; value: Buffer; partition: number }[] = new Array(n);
  let k = 0;
  for (const c of chunks) {
    let at = 0;
    for (let j = 0; j < c.idx.length; j++, k++) {
      const keyEnd = c.ends[2 * j]!;
      const valueEnd = c.ends[2 * j + 1]!;
      idx[k] = c.idx[j]!;
      part[k] = c.part[j]!;
      messages[k] = {
        key: Buffer.from(c.bytes.buffer, c.bytes.byteOffset + at, keyEnd - at),
        value: Buffer.from(c.bytes.buffer, c.bytes.byteOffset + keyEnd, valueEnd - keyEnd),
        partition: c.part[j]!,
      };
      at = valueEnd;
    }
  }
  return { idx, part, messages };
}

/** After the ack timeout, the records of every partition group not yet settled are reported as timed out. */
function ackTimeout(
  idx: Uint32Array<ArrayBuffer>,
  groups: number[][],
  settled: Uint8Array,
): { reached: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const reached = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      const open = groups.filter((_, g) => !settled[g]);
      if (open.length)
        post({
          type: "timeout",
          idx: gather(idx, open),
          atMs: Date.now(),
          error: `no acknowledgement within ${init.ackTimeoutMs} ms`,
        });
      resolve();
    }, init.ackTimeoutMs);
  });
  return { reached, cancel: () => clearTimeout(timer) };
}

/** Row numbers of this send's records, one list per partition, in send order. */
function partitionGroups(part: Int32Array): number[][] {
  const byPartition = new Map<number, number[]>();
  for (let j = 0; j < part.length; j++) {
    const p = part[j]!;
    let rows = byPartition.get(p);
    if (!rows) byPartition.set(p, (rows = []));
    rows.push(j);
  }
  return [...byPartition.values()];
}

function gather<T extends Uint32Array | Int32Array>(from: T, groups: number[][]): T {
  const out = new (from.constructor as new (n: number) => T)(groups.reduce((a, g) => a + g.length, 0));
  let k = 0;
  for (const rows of groups) for (const j of rows) out[k++] = from[j]!;
  return out;
}

/** Each record's offset: its partition's base offset plus its rank among this send's records for that partition. */
function postAcks(idx: Uint32Array, part: Int32Array, meta: { partition: number; baseOffset?: string }[]): void {
  const ackAtMs = Date.now();
  const base = new Map<number, number>(meta.map((m) => [m.partition, Number(m.baseOffset ?? "-1")]));
  const next = new Map<number, number>();
  const offset = new Float64Array(idx.length);
  for (let j = 0; j < idx.length; j++) {
    const p = part[j]!;
    const b = base.get(p);
    if (b === undefined || b < 0) offset[j] = -1;
    else {
      const r = next.get(p) ?? 0;
      next.set(p, r + 1);
      offset[j] = b + r;
    }
  }
  post({ type: "ack", idx, part, offset, ackAtMs }, [
    idx.buffer as ArrayBuffer,
    part.buffer as ArrayBuffer,
    offset.buffer,
  ]);
}

let finished = false;
async function finish(): Promise<void> {
  if (finished) return;
  finished = true;
  await producer.disconnect().catch(() => {});
  post({ type: "closed" });
}

port.on("message", (m: ToWorker) => {
  if (m.type === "chunk") queue.push(m.chunk);
  else closing = true;
  pump();
});

try {
  await producer.connect();
  post({ type: "ready" });
} catch (e) {
  post({ type: "fatal", error: (e as Error).message ?? String(e) });
}
