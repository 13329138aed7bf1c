// The order stream a scenario and a seed produce: the same seed gives the same stream, byte for byte
// (except sentAtMs, which is stamped at the actual send). Every SUT of a run gets this stream.
import { parseOrderRecord } from "../../systems-under-test/contract/events.ts";
import { Rng, ZipfSampler } from "./rng.ts";
import type { Distribution, MixKind, Scenario } from "./schema.ts";

export interface GeneratedOrder {
  seq: number;
  orderId: string;
  /** Record key (the orderId, also for unreadable values). */
  key: string;
  /** What a contract-following SUT reads back from the value (salvaged for malformed ones). */
  productId: string;
  quantity: number;
  customerId: string;
  /** Intended send time, ms after the load starts (open loop). */
  offsetMs: number;
  /** "normal" or the mixed-in kind. */
  kind: "normal" | MixKind;
  /** Valid under the contract and for a product that exists. */
  valid: boolean;
  invalidKind?: MixKind;
  /** The same orderId sent again on purpose (an honest retry). */
  duplicateSend?: boolean;
  /** The JSON value (sentAtMs is added at send time), or raw text for unreadable values. */
  body?: Record<string, unknown>;
  raw?: string;
}

export interface StockPlanEntry {
  productId: string;
  quantity: number;
}

export interface RestockEntry extends StockPlanEntry {
  offsetMs: number;
}

/** What a load driver reads of the stream: a length and one transient order at a time. */
export interface OrderList {
  readonly length: number;
  at(i: number): GeneratedOrder;
}

export interface GeneratedStream {
  scenario: Scenario;
  seed: number;
  productIds: string[];
  initialStock: StockPlanEntry[];
  restocks: RestockEntry[];
  /** Sorted by offsetMs; compact (a few bytes an order). The harness reads orders through this. */
  table: OrderTable;
  /** The same orders as objects, built on first use: for tests and small streams, never for a run. */
  readonly orders: GeneratedOrder[];
  /** Offset of the last scheduled event (order or restock). */
  durationMs: number;
}

/** The orderId (and record key) of stream index seq: `o` and seq zero-padded to `width` digits. */
export function orderIdFor(seq: number, width: number): string {
  return `o${pad(seq, width)}`;
}

/**
 * The generated orders in typed columns (product index, quantity, intended offset, customer), with the rare
 * mixed-in orders (invalid kinds, retries) kept whole in a sparse map. at(i) builds a fresh order.
 */
export class OrderTable implements OrderList {
  readonly length: number;
  readonly offsetMs: Float64Array;
  readonly product: Uint32Array;
  readonly quantity: Float64Array;
  readonly customer: Uint32Array;
  /** Mixed-in orders by index (kind is not "normal"). */
  readonly special = new Map<number, GeneratedOrder>();

  constructor(
    readonly productIds: readonly string[],
    readonly idWidth: number,
    offsets: ArrayLike<number>,
  ) {
    this.length = offsets.length;
    this.offsetMs = Float64Array.from(offsets);
    this.product = new Uint32Array(this.length);
    this.quantity = new Float64Array(this.length);
    this.customer = new Uint32Array(this.length);
  }

  orderId(i: number): string {
    return orderIdFor(i, this.idWidth);
  }

  at(i: number): GeneratedOrder {
    const s = this.special.get(i);
    if (s) return { ...s, ...(s.body ? { body: { ...s.body } } : {}) };
    const orderId = this.orderId(i);
    const productId = this.productIds[this.product[i]!]!;
    const quantity = this.quantity[i]!;
    const customerId = `c${this.customer[i]!}`;
    return {
      seq: i,
      orderId,
      key: orderId,
      productId,
      quantity,
      customerId,
      offsetMs: this.offsetMs[i]!,
      kind: "normal",
      valid: true,
      body: { type: "OrderPlaced", orderId, productId, quantity, customerId },
    };
  }

  *[Symbol.iterator](): IterableIterator<GeneratedOrder> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  /**
   * The table read like an array (orders[i], a fresh order per read), for a driver that indexes; a driver
   * that reads through length and at(i) takes the table itself.
   */
  asIndexed(): readonly GeneratedOrder[] {
    return new Proxy(this, {
      get: (t, key, recv) =>
        typeof key === "string" && key.length > 0 && key.charCodeAt(0) <= 57 && /^\d+$/.test(key)
          ? Number(key) < t.length
            ? t.at(Number(key))
            : undefined
          : Reflect.get(t, key, recv),
    }) as unknown as readonly GeneratedOrder[];
  }

  toArray(): GeneratedOrder[] {
    return Array.from({ length: this.length }, (_, i) => this.at(i));
  }
}

/**
 * Value size of a near-size-limit order: under the broker's default max.message.bytes (1048588) with room for batch
 * overhead.
 */
export const NEAR_LIMIT_BYTES = 950_000;
/** Not a safe integer: the contract rejects it. */
export const HUGE_QUANTITY = 2 ** 53;
/**
 * Huge quantities, each an integer in JSON that is not a safe integer (a Java long may still hold
 * some of them exactly: 2^53+1 must be refused there too). Numbers go in the body; the last two are
 * literals JavaScript cannot write (2^53+1, and 1e400 which is Infinity once parsed).
 */
export const HUGE_QUANTITY_VARIANTS: readonly (number | string)[] = [
  HUGE_QUANTITY,
  2 ** 64,
  1e300,
  "9007199254740993",
  "1e400",
];

export function sample(d: Distribution, rng: Rng): number {
  if (typeof d === "number") return d;
  switch (d.dist) {
    case "fixed":
      return d.value;
    case "uniform":
      return rng.int(d.min, d.max);
    case "choice": {
      if (!d.weights) return rng.pick(d.values);
      const total = d.weights.reduce((a, b) => a + b, 0);
      let u = rng.next() * total;
      for (let i = 0; i < d.values.length; i++) {
        u -= d.weights[i]!;
        if (u < 0) return d.values[i]!;
      }
      return d.values[d.values.length - 1]!;
    }
  }
}

export function mean(d: Distribution): number {
  if (typeof d === "number") return d;
  switch (d.dist) {
    case "fixed":
      return d.value;
    case "uniform":
      return (d.min + d.max) / 2;
    case "choice": {
      const w = d.weights ?? d.values.map(() => 1);
      const total = w.reduce((a, b) => a + b, 0);
      return d.values.reduce((acc, v, i) => acc + (v * w[i]!) / total, 0);
    }
  }
}

/** Intended send offsets (ms) for the timing section; count is needed for bursts only. */
function schedule(s: Scenario, count: number, rng: Rng): number[] {
  const t = s.timing;
  if (t.kind === "burst") {
    const out = Array.from({ length: count }, () => t.startMs + Math.floor(rng.next() * t.windowMs));
    return out.sort((a, b) => a - b);
  }
  if (t.kind === "rate") {
    const n = Math.floor((t.ratePerSec * t.durationMs) / 1000);
    return Array.from({ length: n }, (_, i) => Math.floor((i * 1000) / t.ratePerSec));
  }
  // Ramp: integrate the piecewise-linear rate in 1 ms steps; an order whenever the integral crosses an integer.
  const out: number[] = [];
  let acc = 0;
  let base = 0;
  for (const st of t.stages) {
    for (let ms = 0; ms < st.durationMs; ms++) {
      const rate = st.fromPerSec + ((st.toPerSec - st.fromPerSec) * ms) / st.durationMs;
      acc += rate / 1000;
      while (acc >= 1) {
        out.push(base + ms);
        acc -= 1;
      }
    }
    base += st.durationMs;
  }
  return out;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

export function generateStream(s: Scenario, seed: number = s.seed ?? 1): GeneratedStream {
  const root = new Rng(seed);
  const rStock = root.fork("stock");
  const rDemand = root.fork("demand");
  const rTime = root.fork("timing");
  const rMix = root.fork("mix");

  const pw = Math.max(3, String(s.products.count - 1).length);
  const productIds = Array.from({ length: s.products.count }, (_, i) => `p${pad(i, pw)}`);
  const initialStock = productIds.map((productId) => ({
    productId,
    quantity: sample(s.products.initialStock, rStock),
  }));
  const restocks: RestockEntry[] = [];
  for (const r of s.products.restocks) {
    let idx: number[];
    if (r.products === "all") idx = productIds.map((_, i) => i);
    else if (typeof r.products === "number")
      idx = rStock
        .shuffle(productIds.map((_, i) => i))
        .slice(0, r.products)
        .sort((a, b) => a - b);
    else idx = [...r.products];
    for (const i of idx)
      restocks.push({ offsetMs: r.atMs, productId: productIds[i]!, quantity: sample(r.quantity, rStock) });
  }
  restocks.sort((a, b) => a.offsetMs - b.offsetMs);

  // How many orders, and when.
  let count = 0;
  const d = s.demand;
  if (s.timing.kind === "burst") {
    if (d.ordersPerProduct !== undefined) count = d.ordersPerProduct * s.products.count;
    else if (d.orders !== undefined) count = d.orders;
    else if (d.oversubscription !== undefined) {
      const stock = initialStock.reduce((a, x) => a + x.quantity, 0) + restocks.reduce((a, x) => a + x.quantity, 0);
      count = Math.max(1, Math.ceil((d.oversubscription * Math.max(stock, 1)) / mean(d.quantity)));
    }
  }
  const offsets = schedule(s, count, rTime);
  const n = offsets.length;

  // Which product each order is for.
  let productOf: number[];
  if (d.ordersPerProduct !== undefined) {
    productOf = rDemand.shuffle(Array.from({ length: n }, (_, i) => i % s.products.count));
  } else if (d.skew.kind === "zipf") {
    const z = new ZipfSampler(s.products.count, d.skew.exponent);
    productOf = Array.from({ length: n }, () => z.sample(rDemand));
  } else {
    productOf = Array.from({ length: n }, () => rDemand.int(0, s.products.count - 1));
  }

  const table = new OrderTable(productIds, Math.max(6, String(n - 1).length), offsets);
  for (let i = 0; i < n; i++) {
    table.product[i] = productOf[i]!;
    table.quantity[i] = sample(d.quantity, rDemand);
    table.customer[i] = rDemand.int(1, d.customers);
  }
  productOf = [];

  if (s.invalid && s.invalid.rate > 0 && n > 0)
    mixIn(table, s.invalid.rate, s.invalid.kinds, new Set(productIds), rMix);

  const last = Math.max(n > 0 ? table.offsetMs[n - 1]! : 0, restocks.at(-1)?.offsetMs ?? 0);
  let orders: GeneratedOrder[] | undefined;
  return {
    scenario: s,
    seed,
    productIds,
    initialStock,
    restocks,
    table,
    get orders() {
      return (orders ??= table.toArray());
    },
    durationMs: last,
  };
}

/** Replaces exactly round(rate * n) orders by mixed-in kinds, cycling through the kinds in a seeded order. */
function mixIn(table: OrderTable, rate: number, kinds: readonly MixKind[], known: Set<string>, rng: Rng): void {
  const m = Math.round(rate * table.length);
  const slots = rng
    .shuffle(Array.from({ length: table.length }, (_, i) => i))
    .slice(0, m)
    .sort((a, b) => a - b);
  const cycle = rng.shuffle([...kinds]);
  const kindAt = (k: number) => table.special.get(k)?.kind ?? "normal";
  slots.forEach((slot, j) => {
    let kind = cycle[j % cycle.length]!;
    // Which occurrence of its kind this is: variants of a kind take turns (j alone would repeat one).
    const nth = Math.floor(j / cycle.length);
    const o = table.at(slot);
    if (kind === "retry") {
      // An earlier order that went out normally, resent unchanged.
      let k = slot - 1;
      while (k >= 0 && kindAt(k) !== "normal") k--;
      if (k >= 0) {
        const orig = table.at(k);
        table.special.set(slot, {
          ...orig,
          seq: o.seq,
          offsetMs: o.offsetMs,
          kind: "retry",
          duplicateSend: true,
          body: { ...orig.body },
        });
        return;
      }
      kind = kinds.find((x) => x !== "retry") ?? "bad-json";
    }
    mutate(o, kind, known, nth);
    table.special.set(slot, o);
  });
}

function mutate(o: GeneratedOrder, kind: MixKind, known: Set<string>, nth: number): void {
  const body = { ...o.body } as Record<string, unknown>;
  o.kind = kind;
  switch (kind) {
    case "bad-json":
      // Variants of unreadable values: truncated, not JSON at all, JSON that is not an object.
      o.raw = [
        `{"type":"OrderPlaced","orderId":"${o.orderId}","productId":"${o.productId}","quantity":`,
        `not json ${o.orderId}`,
        "[1,2,3]",
      ][nth % 3];
      delete o.body;
      break;
    case "wrong-types":
      body.quantity = String(o.quantity);
      body.customerId = 42;
      o.body = body;
      break;
    case "missing-fields":
      delete body.productId;
      delete body.quantity;
      o.body = body;
      break;
    case "zero-quantity":
      body.quantity = 0;
      o.body = body;
      break;
    case "negative-quantity":
      body.quantity = -Math.max(1, o.quantity);
      o.body = body;
      break;
    case "huge-quantity": {
      const q = HUGE_QUANTITY_VARIANTS[nth % HUGE_QUANTITY_VARIANTS.length]!;
      if (typeof q === "number") {
        body.quantity = q;
        o.body = body;
      } else {
        // A literal JSON.stringify cannot produce: the record is written as raw text.
        const { quantity: _q, ...rest } = body;
        o.raw = JSON.stringify({ ...rest, sentAtMs: 0 }).replace(/}$/, `,"quantity":${q}}`);
        delete o.body;
      }
      break;
    }
    case "unknown-product":
      body.productId = `unknown-${o.orderId}`;
      o.body = body;
      break;
    case "near-size-limit": {
      const base = Buffer.byteLength(JSON.stringify({ ...body, sentAtMs: 1_700_000_000_000, padding: "" }));
      body.padding = "x".repeat(NEAR_LIMIT_BYTES - base);
      o.body = body;
      break;
    }
    case "retry":
      break;
  }
  // What the record says, read the way a SUT reads it.
  const value = orderValue(o, 0);
  const parsed = parseOrderRecord(o.key, value);
  if (parsed.ok) {
    o.productId = parsed.order.productId;
    o.quantity = parsed.order.quantity;
  } else {
    o.productId = parsed.productId;
    o.quantity = parsed.quantity;
  }
  o.valid = parsed.ok && known.has(o.productId);
  if (!o.valid) o.invalidKind = kind;
}

/** Characters JSON.stringify would escape (surrogates too, to stay on the safe side): then it writes the value. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const plainText = (v: unknown): v is string => typeof v === "string" && !NEEDS_ESCAPE.test(v);
const BODY_KEYS = ["type", "orderId", "productId", "quantity", "customerId"];

/** The usual body (the five fields in generation order, plain values) written out directly: the driver's hot path. */
function plainBody(b: Record<string, unknown>, sentAtMs: number): string | undefined {
  const { type, orderId, productId, quantity, customerId } = b;
  if (!plainText(type) || !plainText(orderId) || !plainText(productId) || !plainText(customerId)) return undefined;
  if (typeof quantity !== "number" || !Number.isFinite(quantity) || !Number.isFinite(sentAtMs)) return undefined;
  let keys = 0;
  for (const k in b) if (k !== BODY_KEYS[keys++]) return undefined;
  if (keys !== 5) return undefined;
  return (
    `{"type":"${type}","orderId":"${orderId}","productId":"${productId}","quantity":${quantity},` +
    `"customerId":"${customerId}","sentAtMs":${sentAtMs}}`
  );
}

/** The record value as sent: the body with sentAtMs stamped (JSON.stringify's bytes), or the raw text. */
export function orderValue(o: GeneratedOrder, sentAtMs: number): Buffer {
  if (o.raw !== undefined || !o.body) return Buffer.from(o.raw ?? "", "utf8");
  return Buffer.from(plainBody(o.body, sentAtMs) ?? JSON.stringify({ ...o.body, sentAtMs }), "utf8");
}

/** Mean size of the record values the driver sends (over the first `sample` orders): a producer benchmark's size. */
export function meanOrderValueBytes(stream: GeneratedStream, sample = 2000): number {
  const n = Math.min(sample, stream.table.length);
  if (n === 0) return 0;
  const now = Date.now();
  let total = 0;
  for (let i = 0; i < n; i++) total += orderValue(stream.table.at(i), now).length;
  return Math.round(total / n);
}
