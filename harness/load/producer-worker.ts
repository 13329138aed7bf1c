// One producer of the kafka driver's pool, in a worker thread. The main thread hands it encoded records in
// chunks (transferred, not copied); per partition it coalesces whatever is queued into one send() (many records
// per produce request is what makes kafkajs fast), and answers with typed arrays: which records were
// acknowledged at which partition/offset, which failed, which timed out.
//
// At most one send per partition is open on a producer, and after a send fails or times out the producer is
// replaced. Several producers (lanes) keep a partition's sends overlapping, as kafkajs's five in flight did; a
// partition's records may then land out of send order, which no check relies on (every order has its own key).
// kafkajs 2.2.4 hands a failed produce request's sequence numbers back (eosManager.updateSequence(-n)) and
// gives them to the next batch of the partition. If the failed request was in fact written (the leader died
// after appending it), the broker takes that next batch for a duplicate and acknowledges it with the earlier
// batch's offsets without writing it: an acknowledged order that is not in the topic. Seen on 3 brokers with a
// leader killed: orders acked at offsets that held other orders, then reported lost (docs/FAILOVER.md, cause 6).
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import type { Producer } from "kafkajs";
import { kafkaClient } from "../kafka/client.ts";
import { classifySendError, idempotentProducer } from "./produce.ts";
import type { Chunk, FromWorker, ToWorker, WorkerInit } from "./producer-protocol.ts";
import { MAX_SEND_BYTES } from "./producer-protocol.ts";

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

/** One producer (one producer id) and the partitions it has a send open on. */
interface Lane {
  producer: Producer;
  connected: Promise<void>;
  busy: Set<number>;
  open: number;
  retired: boolean;
}

/** A chunk's records of one partition, waiting to be sent. */
interface Segment {
  chunk: Chunk;
  rows: number[];
  bytes: number;
}

/** Producers per worker: a partition has up to this many sends open (one per producer). */
const LANES = 4;

const waiting = new Map<number, Segment[]>();
let queuedRecords = 0;
const lanes: Lane[] = Array.from({ length: LANES }, newLane);
let inflight = 0;
let closing = false;

function newLane(): Lane {
  const producer = idempotentProducer(kafkaClient(init.connection, init.clientId));
  return { producer, connected: producer.connect(), busy: new Set(), open: 0, retired: false };
}

/** A send failed or timed out: its sequence numbers may be reused by kafkajs, so no more sends on this producer. */
function retire(g: Lane): void {
  if (g.retired) return;
  g.retired = true;
  const i = lanes.indexOf(g);
  if (i >= 0) {
    const next = newLane();
    next.connected.catch((e: unknown) => post({ type: "fatal", error: (e as Error).message ?? String(e) }));
    lanes[i] = next;
  }
  if (g.open === 0) void g.producer.disconnect().catch(() => {});
}

function enqueue(c: Chunk): void {
  const byPart = new Map<number, number[]>();
  for (let j = 0; j < c.idx.length; j++) {
    const p = c.part[j]!;
    let rows = byPart.get(p);
    if (!rows) byPart.set(p, (rows = []));
    rows.push(j);
  }
  for (const [p, rows] of byPart) {
    let bytes = 0;
    for (const j of rows) bytes += c.ends[2 * j + 1]! - recordStart(c, j);
    let list = waiting.get(p);
    if (!list) waiting.set(p, (list = []));
    list.push({ chunk: c, rows, bytes });
  }
  queuedRecords += c.idx.length;
}

/** Where record j's key begins in its chunk's bytes. */
function recordStart(c: Chunk, j: number): number {
  return j === 0 ? 0 : c.ends[2 * j - 1]!;
}

/** The partition's next send: queued segments up to MAX_SEND_BYTES (a lone record's chunk goes by itself). */
function take(list: Segment[]): Segment[] {
  const out: Segment[] = [list.shift()!];
  if (out[0]!.chunk.alone) return out;
  let bytes = out[0]!.bytes;
  while (list.length > 0 && !list[0]!.chunk.alone && bytes + list[0]!.bytes <= MAX_SEND_BYTES) {
    bytes += list[0]!.bytes;
    out.push(list.shift()!);
  }
  return out;
}

function pump(): void {
  for (const [p, list] of waiting) {
    for (const g of lanes) {
      if (list.length === 0) break;
      if (!g.busy.has(p)) void sendPartition(g, p, take(list));
    }
  }
  if (closing && inflight === 0 && queuedRecords === 0) void finish();
}

async function sendPartition(g: Lane, partition: number, segments: Segment[]): Promise<void> {
  inflight++;
  g.open++;
  g.busy.add(partition);
  const now = Date.now();
  post({
    type: "queued",
    delayMs: Float64Array.from(segments, (s) => now - s.chunk.postedAtMs),
    count: Uint32Array.from(segments, (s) => s.rows.length),
  });
  const { idx, messages } = recordsOf(segments, partition);
  queuedRecords -= idx.length;
  let settled = false;
  const timeout = ackTimeout(
    idx,
    () => settled,
    () => retire(g),
  );
  const send = g.connected
    .then(() => g.producer.send({ topic: init.topic, acks: -1, timeout: init.ackTimeoutMs, messages }))
    .then(
      (meta) => {
        settled = true;
        postAcks(idx, partition, meta);
      },
      (e: unknown) => {
        settled = true;
        retire(g);
        const { status, error } = classifySendError(e);
        post({ type: "error", idx, status, error, atMs: Date.now() }, [idx.buffer]);
      },
    );
  // The slot is free at the first of ack, error or timeout (a later ack is still reported); after a timeout
  // the partition's next send goes to a new producer.
  await Promise.race([send, timeout.reached]);
  timeout.cancel();
  inflight--;
  g.busy.delete(partition);
  void send.finally(() => {
    if (--g.open === 0 && g.retired) void g.producer.disconnect().catch(() => {});
  });
  pump();
}

/** The segments' records as kafkajs messages (views on the transferred bytes, not copies), in order. */
function recordsOf(
  segments: Segment[],
  partition: number,
): { idx: Uint32Array<ArrayBuffer>; messages: { key: Buffer; value: Buffer; partition: number }[] } {
  const n = segments.reduce((a, s) => a + s.rows.length, 0);
  const idx = new Uint32Array(n);
  const messages: { key: Buffer; value: Buffer; partition: number }[] = new Array(n);
  let k = 0;
  for (const { chunk: c, rows } of segments) {
    const base = c.bytes.byteOffset;
    for (const j of rows) {
      const at = recordStart(c, j);
      const keyEnd = c.ends[2 * j]!;
      const valueEnd = c.ends[2 * j + 1]!;
      idx[k] = c.idx[j]!;
      messages[k++] = {
        key: Buffer.from(c.bytes.buffer, base + at, keyEnd - at),
        value: Buffer.from(c.bytes.buffer, base + keyEnd, valueEnd - keyEnd),
        partition,
      };
    }
  }
  return { idx, messages };
}

/** After the ack timeout, the send's records are reported as timed out (unless it settled first). */
function ackTimeout(
  idx: Uint32Array,
  settled: () => boolean,
  onTimeout: () => void,
): { reached: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const reached = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      if (!settled()) {
        onTimeout();
        post({
          type: "timeout",
          idx: idx.slice(),
          atMs: Date.now(),
          error: `no acknowledgement within ${init.ackTimeoutMs} ms`,
        });
      }
      resolve();
    }, init.ackTimeoutMs);
  });
  return { reached, cancel: () => clearTimeout(timer) };
}

/** Each record's offset: the send's base offset plus its rank in the send. */
function postAcks(
  idx: Uint32Array<ArrayBuffer>,
  partition: number,
  meta: { partition: number; baseOffset?: string }[],
): void {
  const ackAtMs = Date.now();
  const b = Number(meta.find((m) => m.partition === partition)?.baseOffset ?? "-1");
  const offset = new Float64Array(idx.length);
  for (let j = 0; j < idx.length; j++) offset[j] = b < 0 ? -1 : b + j;
  const part = new Int32Array(idx.length).fill(partition);
  post({ type: "ack", idx, part, offset, ackAtMs }, [idx.buffer, part.buffer, offset.buffer]);
}

let finished = false;
/** The event loop's use at ready: what it did while connecting is not the load. */
let readyElu: ReturnType<typeof performance.eventLoopUtilization> | undefined;
async function finish(): Promise<void> {
  if (finished) return;
  finished = true;
  const busy = performance.eventLoopUtilization(readyElu).utilization;
  await Promise.all(lanes.map((g) => g.producer.disconnect().catch(() => {})));
  post({ type: "closed", busy: Number.isFinite(busy) ? busy : 0 });
}

port.on("message", (m: ToWorker) => {
  if (m.type === "chunk") enqueue(m.chunk);
  else closing = true;
  pump();
});

try {
  await Promise.all(lanes.map((g) => g.connected));
  readyElu = performance.eventLoopUtilization();
  post({ type: "ready" });
} catch (e) {
  post({ type: "fatal", error: (e as Error).message ?? String(e) });
}
