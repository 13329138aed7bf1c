// What the harness did with each order, in typed columns indexed by the order's row (its stream seq).
// A retry of an orderId is its own row; the orderId's "view" is the row it was first listed as, and the
// judge keeps each orderId's fate at that index. No object per order: this is what lets a run of
// millions of orders be judged in a few hundred MB.
import type { GeneratedStream } from "../scenario/generate.ts";
import { orderIdFor } from "../scenario/generate.ts";
import { isOwed, STATUS_CODE, STATUS_NAMES } from "./rules.ts";
import type { SentOrder } from "./types.ts";

const VALID = 1,
  DUPLICATE_SEND = 2,
  IN_TOPIC = 4;

/** Product ids as small integers (a product id string is stored once). */
export class Interner {
  private readonly index = new Map<string, number>();
  readonly names: string[] = [];

  intern(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.index.set(name, i);
      this.names.push(name);
    }
    return i;
  }

  find(name: string): number {
    return this.index.get(name) ?? -1;
  }
}

/** orderId ↔ view row. */
interface OrderIds {
  idOf(view: number): string;
  /** The view row of an orderId the harness sent (or planned), else -1. */
  find(orderId: string): number;
}

/** Generated orderIds: `o` + the seq zero-padded (generate.ts); parsed, no map. */
class SeqIds implements OrderIds {
  constructor(
    private readonly book: OrderBook,
    private readonly width: number,
  ) {}

  idOf(view: number): string {
    return orderIdFor(view, this.width);
  }

  find(id: string): number {
    if (id.length < 2 || id.charCodeAt(0) !== 111 /* o */) return -1;
    let k = 0;
    for (let i = 1; i < id.length; i++) {
      const c = id.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return -1;
      k = k * 10 + c;
    }
    const digits = k === 0 ? 1 : Math.floor(Math.log10(k)) + 1;
    if (id.length !== 1 + Math.max(this.width, digits) || k >= this.book.size) return -1;
    return this.book.view[k] === k ? k : -1;
  }
}

class MapIds implements OrderIds {
  readonly rows = new Map<string, number>();
  readonly ids = new Map<number, string>();

  idOf(view: number): string {
    return this.ids.get(view) ?? "";
  }

  find(id: string): number {
    return this.rows.get(id) ?? -1;
  }
}

export class OrderBook {
  /** Intended send time, epoch ms (relative to the load start until rebased). */
  readonly intended: Float64Array;
  /** NaN until sent / acknowledged. */
  readonly sentAt: Float64Array;
  readonly ackAt: Float64Array;
  readonly status: Uint8Array;
  readonly flags: Uint8Array;
  readonly product: Int32Array;
  readonly quantity: Float64Array;
  /** Row of the first send of this row's orderId. */
  readonly view: Int32Array;
  /** View row → the other rows with its orderId (retries: rare). */
  readonly extras = new Map<number, number[]>();
  readonly invalidKind = new Map<number, string>();
  /** Where an acked row was stored in <ns>.orders; only kept when the stream has invalid orders (poison). */
  ackPartition?: Int32Array;
  ackOffset?: Float64Array;
  readonly products = new Interner();
  private ids: OrderIds;

  constructor(
    readonly size: number,
    idWidth?: number,
  ) {
    this.intended = new Float64Array(size);
    this.sentAt = new Float64Array(size).fill(NaN);
    this.ackAt = new Float64Array(size).fill(NaN);
    this.status = new Uint8Array(size);
    this.flags = new Uint8Array(size);
    this.product = new Int32Array(size);
    this.quantity = new Float64Array(size);
    this.view = new Int32Array(size);
    for (let i = 0; i < size; i++) this.view[i] = i;
    this.ids = idWidth === undefined ? new MapIds() : new SeqIds(this, idWidth);
  }

  /** The book of a generated stream: every row planned ("unsent"), intended relative to the load start. */
  static fromStream(stream: GeneratedStream): OrderBook {
    const t = stream.table;
    const book = new OrderBook(t.length, t.idWidth);
    const pIndex = t.productIds.map((p) => book.products.intern(p));
    if ([...t.special.values()].some((g) => !g.valid)) book.trackStorage();
    for (let i = 0; i < t.length; i++) {
      book.intended[i] = t.offsetMs[i]!;
      book.product[i] = pIndex[t.product[i]!]!;
      book.quantity[i] = t.quantity[i]!;
      book.flags[i] = VALID;
    }
    for (const [i, g] of t.special) {
      book.describe(i, g.productId, g.quantity, g.valid, g.invalidKind, g.duplicateSend === true);
      if (g.orderId !== t.orderId(i)) book.join(i, Number(g.orderId.slice(1)));
    }
    return book;
  }

  /** The book of a list of sends (pure evaluate(), synthetic tests): orderIds looked up in a map. */
  static fromSentOrders(orders: readonly SentOrder[]): OrderBook {
    return OrderBook.fromRows(orders.length, (i) => orders[i]!, { storage: orders.some((o) => !o.valid) });
  }

  /**
   * The book of n sends read one at a time (the orders topic: each row object is dropped once copied into the
   * columns). `storage`: keep where acked rows were stored (only needed when some order is invalid).
   */
  static fromRows(n: number, row: (i: number) => SentOrder, opts: { storage?: boolean } = {}): OrderBook {
    const book = new OrderBook(n);
    const ids = book.ids as MapIds;
    if (opts.storage) book.trackStorage();
    for (let i = 0; i < n; i++) {
      const o = row(i);
      book.describe(i, o.productId, o.quantity, o.valid, o.invalidKind, o.duplicateSend === true);
      book.intended[i] = o.intendedAtMs;
      if (o.sentAtMs !== undefined) book.sentAt[i] = o.sentAtMs;
      if (o.ackAtMs !== undefined) book.ackAt[i] = o.ackAtMs;
      book.status[i] = STATUS_CODE[o.status];
      if (o.inTopic) book.flags[i]! |= IN_TOPIC;
      if (o.partition !== undefined && o.offset !== undefined) book.setStoredAt(i, o.partition, o.offset);
      const first = ids.rows.get(o.orderId);
      if (first === undefined) {
        ids.rows.set(o.orderId, i);
        ids.ids.set(i, o.orderId);
      } else book.join(i, first);
    }
    return book;
  }

  private describe(
    i: number,
    productId: string,
    quantity: number,
    valid: boolean,
    kind: string | undefined,
    dup: boolean,
  ): void {
    this.product[i] = this.products.intern(productId);
    this.quantity[i] = quantity;
    this.flags[i] = (valid ? VALID : 0) | (dup ? DUPLICATE_SEND : 0);
    if (!valid && kind !== undefined) this.invalidKind.set(i, kind);
  }

  /** Keep where acked rows were stored: only needed to find orders behind an invalid one (poison). */
  private trackStorage(): void {
    this.ackPartition ??= new Int32Array(this.size).fill(-1);
    this.ackOffset ??= new Float64Array(this.size).fill(NaN);
  }

  /** Row i sends the orderId first sent as row `first`. */
  private join(i: number, first: number): void {
    this.view[i] = first;
    const xs = this.extras.get(first);
    if (xs) xs.push(i);
    else this.extras.set(first, [i]);
  }

  // ---- what happened (history lines)

  /** Adds base to every intended time (relative offsets → epoch ms). */
  rebase(baseMs: number): void {
    for (let i = 0; i < this.size; i++) this.intended[i]! += baseMs;
  }

  sent(i: number, intendedAtMs: number, sentAtMs: number): void {
    this.intended[i] = intendedAtMs;
    this.sentAt[i] = sentAtMs;
    this.status[i] = STATUS_CODE.unknown;
  }

  acked(i: number, ackAtMs: number, partition?: number, offset?: string): void {
    this.status[i] = STATUS_CODE.acked;
    this.ackAt[i] = ackAtMs;
    if (partition !== undefined && offset !== undefined && offset !== "-1") this.setStoredAt(i, partition, offset);
  }

  /** A send error; an ack that came first wins. */
  failed(i: number, status: "failed" | "unknown"): void {
    if (this.status[i] !== STATUS_CODE.acked) this.status[i] = STATUS_CODE[status];
  }

  setInTopic(i: number, found: boolean): void {
    this.flags[i] = found ? this.flags[i]! | IN_TOPIC : this.flags[i]! & ~IN_TOPIC;
  }

  private setStoredAt(i: number, partition: number, offset: string): void {
    if (!this.ackPartition || !this.ackOffset) return;
    this.ackPartition[i] = partition;
    this.ackOffset[i] = Number(offset);
  }

  // ---- reading rows

  statusOf(i: number): SentOrder["status"] {
    return STATUS_NAMES[this.status[i]!]!;
  }

  valid(i: number): boolean {
    return (this.flags[i]! & VALID) !== 0;
  }

  duplicateSend(i: number): boolean {
    return (this.flags[i]! & DUPLICATE_SEND) !== 0;
  }

  owed(i: number): boolean {
    return isOwed(this.statusOf(i), (this.flags[i]! & IN_TOPIC) !== 0);
  }

  orderId(i: number): string {
    return this.ids.idOf(this.view[i]!);
  }

  /** The view row of an orderId, or -1 if the harness never planned it. */
  find(orderId: string): number {
    return this.ids.find(orderId);
  }

  // ---- one orderId (a view row and its retries)

  /** The send an orderId is compared with: the first one that is not a retry (else the first). */
  ref(v: number): number {
    const xs = this.extras.get(v);
    if (!xs || !this.duplicateSend(v)) return v;
    return xs.find((r) => !this.duplicateSend(r)) ?? v;
  }

  entries(v: number): number {
    return 1 + (this.extras.get(v)?.length ?? 0);
  }

  /** Highest status over the orderId's sends, and whether any send left / is owed; min intended; first ack. */
  summary(v: number): { status: number; sent: boolean; owed: boolean; intended: number; firstAck: number } {
    let status = this.status[v]!,
      owed = this.owed(v),
      intended = this.intended[v]!,
      firstAck = this.ackAt[v]!;
    const xs = this.extras.get(v);
    if (xs) {
      for (const r of xs) {
        status = Math.max(status, this.status[r]!);
        owed ||= this.owed(r);
        intended = Math.min(intended, this.intended[r]!);
        if (!Number.isNaN(this.ackAt[r]!) && !(firstAck <= this.ackAt[r]!)) firstAck = this.ackAt[r]!;
      }
    }
    return { status, sent: status !== STATUS_CODE.unsent, owed, intended, firstAck };
  }
}
