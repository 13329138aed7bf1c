// The streaming judge: each committed decision updates its order's fate in typed columns (counts per
// type, first terminal, first reservation, what was accepted) and the running units per product.
// No decision object is kept; evidence for the few reported examples is read again at the end.
// Decisions of one partition must arrive in offset order (a read_committed reader delivers them so).
import type { Decision } from "../../systems-under-test/contract/events.ts";
import type { OrderBook } from "./book.ts";
import { CANCELLED, CONFIRMED, EXPIRED, REJECTED, RESERVED, terminalMask, TYPE_INDEX } from "./rules.ts";
import type { ProductStock, RestockSend } from "./types.ts";

const TYPES = 5;
const COUNT_MAX = 65_535;
/** Fate flags. */
export const ANY = 1,
  MISMATCH = 2,
  OUT_OF_STOCK = 4,
  OWED = 8;

/** One order's fate columns, growable (orderIds the harness never sent get slots past the book). */
class Fates {
  cap: number;
  counts: Uint16Array;
  term: Float64Array;
  termPart: Int32Array;
  res: Float64Array;
  resTs: Float64Array;
  resPart: Int32Array;
  conf: Float64Array;
  confPart: Int32Array;
  accProduct: Int32Array;
  accQty: Float64Array;
  flags: Uint8Array;

  constructor(cap: number) {
    this.cap = cap;
    this.counts = new Uint16Array(cap * TYPES);
    this.term = new Float64Array(cap).fill(NaN);
    this.termPart = new Int32Array(cap);
    this.res = new Float64Array(cap).fill(NaN);
    this.resTs = new Float64Array(cap);
    this.resPart = new Int32Array(cap);
    this.conf = new Float64Array(cap).fill(NaN);
    this.confPart = new Int32Array(cap);
    this.accProduct = new Int32Array(cap).fill(-1);
    this.accQty = new Float64Array(cap);
    this.flags = new Uint8Array(cap);
  }

  grow(): void {
    const next = new Fates(Math.max(16, this.cap * 2));
    next.counts.set(this.counts);
    for (const k of [
      "term",
      "termPart",
      "res",
      "resTs",
      "resPart",
      "conf",
      "confPart",
      "accProduct",
      "accQty",
      "flags",
    ] as const) {
      (next[k] as Float64Array).set(this[k]);
    }
    Object.assign(this, next);
  }
}

/** Earlier in observation order: same partition → the one that arrived first; else by time, then partition. */
function earlier(seen: number, part: number, curSeen: number, curPart: number): boolean {
  if (Number.isNaN(curSeen)) return true;
  if (part === curPart) return false;
  return seen < curSeen || (seen === curSeen && part < curPart);
}

export interface JudgeOptions {
  confirms: boolean;
  /** Stock per product (StockSet + StockAdded that were acknowledged): units count only for these. */
  products: ProductStock[];
  /**
   * false when seenAtMs is not when the decision was seen (a re-read long after the run passes the record's
   * CreateTime): oversell-in-time then has no sound evidence and is not judged.
   */
  seenIsLive?: boolean;
}

export class Judge {
  readonly confirms: boolean;
  readonly fates: Fates;
  /** Slot → orderId for orderIds the harness never sent (phantoms), slots from book.size. */
  readonly foreign = new Map<string, number>();
  readonly foreignIds: string[] = [];
  /** Stock, units sold and held, and contributing orders, by interned product (undefined: not stocked). */
  readonly stock: (number | undefined)[] = [];
  readonly soldUnits: number[] = [];
  readonly heldUnits: number[] = [];
  readonly holders: number[] = [];
  /** oversell-in-time: initial stock and restock sends by product (undefined: send times unknown). */
  readonly initialStock: number[] = [];
  readonly restockSends: (RestockSend[] | undefined)[] = [];
  readonly seenIsLive: boolean;
  /** Decisions judged. */
  decisions = 0;
  /** Owed orders still without a terminal decision; counted from owe() on. */
  pending = 0;
  private owing = false;
  private readonly terminal: number;

  constructor(
    readonly book: OrderBook,
    opts: JudgeOptions,
  ) {
    this.confirms = opts.confirms;
    this.terminal = terminalMask(opts.confirms);
    this.fates = new Fates(book.size);
    this.seenIsLive = opts.seenIsLive ?? true;
    this.setStock(opts.products);
  }

  /** Stock is known once the history is read (bench: before the load; check: from the history). */
  setStock(products: ProductStock[]): void {
    const changed: number[] = [];
    for (const p of products) {
      const i = this.book.products.intern(p.productId);
      this.stock[i] = (this.stock[i] ?? 0) + p.initial + p.restocked;
      this.initialStock[i] = (this.initialStock[i] ?? 0) + p.initial;
      // Send times unknown for any part of a product's restocks: its restocks are unknown.
      const known = i in this.restockSends ? this.restockSends[i] : [];
      this.restockSends[i] = known && p.restocks ? [...known, ...p.restocks] : undefined;
      changed.push(i);
    }
    if (changed.length > 0 && this.decisions > 0) this.recountUnits();
  }

  /** Slots of every orderId seen: book views, then foreign ones. */
  get slots(): number {
    return this.book.size + this.foreignIds.length;
  }

  slotOf(orderId: string): number {
    const v = this.book.find(orderId);
    if (v >= 0) return v;
    let s = this.foreign.get(orderId);
    if (s === undefined) {
      s = this.book.size + this.foreignIds.length;
      if (s >= this.fates.cap) this.fates.grow();
      this.foreign.set(orderId, s);
      this.foreignIds.push(orderId);
    }
    return s;
  }

  orderIdOf(slot: number): string {
    return slot < this.book.size ? this.book.orderId(slot) : this.foreignIds[slot - this.book.size]!;
  }

  count(slot: number, type: number): number {
    return this.fates.counts[slot * TYPES + type]!;
  }

  /** One committed decision. */
  decide(d: Decision, partition: number, seenAtMs: number, recordTimestampMs: number): void {
    this.decisions++;
    const s = this.slotOf(d.orderId);
    const f = this.fates;
    const t = TYPE_INDEX[d.type];
    this.unitsOf(s, -1);
    const c = s * TYPES + t;
    if (f.counts[c]! < COUNT_MAX) f.counts[c]!++;
    f.flags[s]! |= ANY;
    if (this.terminal & (1 << t)) this.terminalSeen(s, partition, seenAtMs);
    if (t === RESERVED && earlier(seenAtMs, partition, f.res[s]!, f.resPart[s]!)) {
      f.res[s] = seenAtMs;
      f.resTs[s] = recordTimestampMs;
      f.resPart[s] = partition;
      this.accept(s, d);
    } else if (t === CONFIRMED && earlier(seenAtMs, partition, f.conf[s]!, f.confPart[s]!)) {
      f.conf[s] = seenAtMs;
      f.confPart[s] = partition;
      if (Number.isNaN(f.res[s]!)) this.accept(s, d);
    } else if (t === REJECTED && d.type === "OrderRejected" && d.reason === "OUT_OF_STOCK") f.flags[s]! |= OUT_OF_STOCK;
    if (s < this.book.size && this.mismatch(s, d)) f.flags[s]! |= MISMATCH;
    this.unitsOf(s, 1);
  }

  private terminalSeen(s: number, partition: number, seenAtMs: number): void {
    const f = this.fates;
    const cur = f.term[s]!;
    if (
      Number.isNaN(cur) ||
      seenAtMs < cur ||
      (seenAtMs === cur && earlier(seenAtMs, partition, cur, f.termPart[s]!))
    ) {
      f.term[s] = seenAtMs;
      f.termPart[s] = partition;
    }
    if (Number.isNaN(cur) && this.owing && f.flags[s]! & OWED) this.pending--;
  }

  private accept(s: number, d: Decision): void {
    this.fates.accProduct[s] = this.book.products.intern(d.productId);
    this.fates.accQty[s] = d.quantity;
  }

  /** Not the order that was sent: another product or quantity (an invalid order: only what the SUT could read). */
  private mismatch(v: number, d: Decision): boolean {
    const ref = this.book.ref(v);
    const p = this.book.products.find(d.productId);
    const sameProduct = p === this.book.product[ref],
      sameQty = d.quantity === this.book.quantity[ref];
    if (this.book.valid(ref)) return !sameProduct || !sameQty;
    return (d.productId !== "" && !sameProduct) || (d.quantity !== 0 && !sameQty);
  }

  // ---- fate, read from the counts

  sold(s: number): boolean {
    return this.confirms ? this.count(s, CONFIRMED) > 0 : this.count(s, RESERVED) > 0 || this.count(s, CONFIRMED) > 0;
  }

  released(s: number): boolean {
    return this.count(s, CANCELLED) > 0 || this.count(s, EXPIRED) > 0;
  }

  heldOpen(s: number): boolean {
    return this.confirms && this.count(s, RESERVED) > 0 && !this.sold(s) && !this.released(s);
  }

  hasTerminal(s: number): boolean {
    return !Number.isNaN(this.fates.term[s]!);
  }

  hasReserved(s: number): boolean {
    return !Number.isNaN(this.fates.res[s]!);
  }

  /** The rule of `lost`: a terminal decision, or (confirming SUTs) at least a reservation, which `stuck` judges. */
  decidedEnough(s: number): boolean {
    return this.hasTerminal(s) || (this.confirms && this.hasReserved(s));
  }

  /** Adds (sign 1) or removes (-1) the units an order takes from its product's running sums. */
  private unitsOf(s: number, sign: 1 | -1): void {
    const f = this.fates;
    const p = f.accProduct[s]!,
      q = f.accQty[s]!;
    if (p < 0 || this.stock[p] === undefined || !(q > 0)) return;
    const sold = this.sold(s);
    if (!sold && !this.heldOpen(s)) return;
    if (sold) this.soldUnits[p] = (this.soldUnits[p] ?? 0) + sign * q;
    else this.heldUnits[p] = (this.heldUnits[p] ?? 0) + sign * q;
    this.holders[p] = (this.holders[p] ?? 0) + sign;
  }

  /**
   * Sums again from the fates: the running sums drift when an order moves from held to sold with a quantity too
   * large for exact float arithmetic (2^64 from an invalid order), so the report always uses a recount.
   */
  recountUnits(): void {
    this.soldUnits.length = this.heldUnits.length = this.holders.length = 0;
    for (let s = 0; s < this.slots; s++) if (this.fates.flags[s]! & ANY) this.unitsOf(s, 1);
  }

  /** Marks the owed orders (from the statuses in the book) and counts those without a terminal decision. */
  owe(): number {
    this.pending = 0;
    const f = this.fates;
    for (let v = 0; v < this.book.size; v++) {
      f.flags[v]! &= ~OWED;
      if (this.book.view[v] !== v || !this.book.summary(v).owed) continue;
      f.flags[v]! |= OWED;
      if (!this.hasTerminal(v)) this.pending++;
    }
    this.owing = true;
    return this.pending;
  }
}
