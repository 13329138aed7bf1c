// What was sent, and the stock, read from the topics alone (`check --from-topics --ns`, no run folder): the
// orders topic is the record of what any producer (k6, a replay, kcat) sent, the stock topic gives S(p).
// Every record on <ns>.orders was stored, so it is owed a decision. Latency starts at the order's own
// `intendedAtMs` where the producer stated it, else at the record's timestamp; the counts say which.
import type { Batch } from "kafkajs";
import type { Connection } from "../../systems-under-test/contract/connection.ts";
import { parseOrderRecord, parseJson, stockEventSchema } from "../../systems-under-test/contract/events.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { Interner, OrderBook } from "./book.ts";
import { caughtUp, committedEnds, kafkaFor, sleep, STOP_TIMEOUT_MS, TopicReader, withTimeout } from "./reader.ts";
import type { ProductStock } from "./types.ts";

/** How many orders' latency starts where: the intended time in the event, or the record timestamp. */
export interface LatencyOrigin {
  intended: number;
  recordTimestamp: number;
}

export interface TopicOrders {
  book: OrderBook;
  latencyFrom: LatencyOrigin;
  warnings: string[];
}

/**
 * Reads a topic from the beginning to the end offsets taken when it starts (read_committed), batch by batch.
 * Returns false if the deadline came first.
 */
export async function readTopicToEnd(
  connection: Connection,
  topic: string,
  onBatch: (batch: Batch) => void,
  timeoutMs: number,
): Promise<boolean> {
  const label = `${topic.slice(0, 150)}.dump`;
  const reader = new TopicReader(
    connection,
    topic,
    false,
    label,
    (b) => onBatch(b),
    () => {},
  );
  const admin = kafkaFor(connection, `oversell-checker.${label}-admin`).admin();
  const deadline = Date.now() + timeoutMs;
  reader.start();
  try {
    await admin.connect();
    const ends = await committedEnds(admin, topic);
    while (!caughtUp(reader.position, ends)) {
      if (Date.now() > deadline) return false;
      await sleep(100);
    }
    return true;
  } finally {
    await Promise.all([reader.stop(), withTimeout(admin.disconnect(), STOP_TIMEOUT_MS)]);
  }
}

/** S(p) per product: StockSet as initial, StockAdded as restocked (summed, as the history does). */
export async function stockFromTopic(
  connection: Connection,
  ns: string,
  timeoutMs = 60_000,
): Promise<{ products: ProductStock[]; warnings: string[] }> {
  const initial = new Map<string, number>(),
    restocked = new Map<string, number>();
  let malformed = 0;
  const topic = topicsFor(ns).stock;
  const complete = await readTopicToEnd(
    connection,
    topic,
    (batch) => {
      for (const m of batch.messages) {
        const r = parseJson(stockEventSchema, m.value);
        if (!r.ok) {
          malformed++;
          continue;
        }
        const into = r.value.type === "StockSet" ? initial : restocked;
        into.set(r.value.productId, (into.get(r.value.productId) ?? 0) + r.value.quantity);
      }
    },
    timeoutMs,
  );
  const warnings: string[] = [];
  if (!complete) warnings.push(`${topic}: the deadline came before its end; S(p) may be too low`);
  if (malformed > 0) warnings.push(`${topic}: ${malformed} record(s) that are not StockSet/StockAdded were skipped`);
  const ids = [...new Set([...initial.keys(), ...restocked.keys()])].sort();
  const products = ids.map((productId) => ({
    productId,
    initial: initial.get(productId) ?? 0,
    restocked: restocked.get(productId) ?? 0,
  }));
  return { products, warnings };
}

/** Growable columns of the records read (numbers, plus the orderId strings the book needs anyway). */
class Columns {
  ids: string[] = [];
  product: number[] = [];
  quantity: number[] = [];
  valid: boolean[] = [];
  intended: number[] = [];
  sent: number[] = [];
  stamp: number[] = [];
  partition: number[] = [];
  offset: string[] = [];
  readonly products = new Interner();
}

/**
 * One record of <ns>.orders into the columns, read the way a SUT reads it (parseOrderRecord): an unreadable
 * record is an invalid order named by its key.
 */
function addRecord(c: Columns, key: Buffer | null, value: Buffer | null, stampMs: number): void {
  const r = parseOrderRecord(key, value);
  const intended = r.ok ? r.order.intendedAtMs : undefined;
  const stated = intended !== undefined && Number.isFinite(intended);
  c.ids.push(r.ok ? r.order.orderId : r.orderId);
  c.product.push(c.products.intern(r.ok ? r.order.productId : r.productId));
  c.quantity.push(r.ok ? r.order.quantity : r.quantity);
  c.valid.push(r.ok);
  c.intended.push(stated ? intended : stampMs);
  // The producer's own send time only means something beside its intended time (their gap is its delay).
  c.sent.push(stated && r.ok ? r.order.sentAtMs : NaN);
  c.stamp.push(stampMs);
}

/**
 * The book of every order on <ns>.orders: each one acked (it is stored), owed a decision; valid when it parses
 * as OrderPlaced and its product is in `knownProducts` (the stock topic's). A repeated orderId is a retry.
 */
export async function ordersFromTopic(
  connection: Connection,
  ns: string,
  knownProducts: ReadonlySet<string>,
  timeoutMs = 120_000,
): Promise<TopicOrders> {
  const c = new Columns();
  const topic = topicsFor(ns).orders;
  const complete = await readTopicToEnd(
    connection,
    topic,
    (batch) => {
      for (const m of batch.messages) {
        addRecord(c, m.key, m.value, Number(m.timestamp));
        c.partition.push(batch.partition);
        c.offset.push(m.offset);
      }
    },
    timeoutMs,
  );
  const n = c.ids.length;
  const seen = new Set<string>();
  let stated = 0,
    anyInvalid = false;
  const validAt = (i: number) => c.valid[i]! && knownProducts.has(c.products.names[c.product[i]!]!);
  for (let i = 0; i < n; i++) anyInvalid ||= !validAt(i);
  const book = OrderBook.fromRows(
    n,
    (i) => {
      const id = c.ids[i]!,
        valid = validAt(i),
        sentAtMs = c.sent[i]!;
      const retry = seen.has(id);
      seen.add(id);
      if (!Number.isNaN(sentAtMs)) stated++;
      return {
        orderId: id,
        productId: c.products.names[c.product[i]!]!,
        quantity: c.quantity[i]!,
        valid,
        invalidKind: valid ? undefined : c.valid[i] ? "unknown-product" : "not-an-OrderPlaced",
        intendedAtMs: c.intended[i]!,
        sentAtMs: Number.isNaN(sentAtMs) ? undefined : sentAtMs,
        ackAtMs: c.stamp[i]!,
        status: "acked",
        duplicateSend: retry || undefined,
        partition: c.partition[i]!,
        offset: c.offset[i]!,
      };
    },
    { storage: anyInvalid },
  );
  const warnings: string[] = [];
  if (!complete) warnings.push(`${topic}: the deadline came before its end; later orders are not judged`);
  return { book, latencyFrom: { intended: stated, recordTimestamp: n - stated }, warnings };
}
