// Reading history.ndjson back, streamed line by line and checked against its zod schema: what was sent
// to one SUT, what the broker said, the stock and the faults. A torn last line (a crash mid-write) is
// skipped; any other line that does not parse is an error naming the file and line.
import { createReadStream, readFileSync } from "node:fs";
import type { z } from "zod";
import type { OrderBook } from "../checker/book.ts";
import type { FaultWindow, ProductStock, RestockSend, SentOrder } from "../checker/types.ts";
import type { GeneratedStream } from "../scenario/generate.ts";
import { eachLine } from "../shared/lines.ts";
import { InputError } from "../shared/zod-errors.ts";
import * as s from "./events.ts";
import { OrderLines, type OrderLine } from "./order-lines.ts";
import type {
  DrainEndEvent,
  FaultEvent,
  HistoryEvent,
  LoadEndEvent,
  LoadStartEvent,
  RunStartEvent,
  SutEndEvent,
  StockEvent,
  SutStartEvent,
} from "./events.ts";

const SCHEMAS: Record<string, z.ZodType<HistoryEvent>> = {
  "run-start": s.runStartSchema,
  "sut-start": s.sutStartSchema,
  stock: s.stockLineSchema,
  "load-start": s.loadStartSchema,
  sent: s.sentSchema,
  ack: s.ackSchema,
  "send-error": s.sendErrorSchema,
  "load-end": s.loadEndSchema,
  "fault-start": s.faultSchema,
  "fault-end": s.faultSchema,
  "drain-end": s.drainEndSchema,
  "sut-end": s.sutEndSchema,
  "run-end": s.runEndSchema,
  interrupted: s.interruptedSchema,
  error: s.errorSchema,
};

const SENT_KEYS = new Set(Object.keys(s.sentSchema.shape));
const ACK_KEYS = new Set(Object.keys(s.ackSchema.shape));
const finite = (v: unknown) => typeof v === "number" && Number.isFinite(v);
const optional = (v: unknown, type: "string" | "boolean") => v === undefined || typeof v === type;

function onlyKeys(r: Record<string, unknown>, keys: ReadonlySet<string>): boolean {
  for (const k in r) if (!keys.has(k)) return false;
  return true;
}

/**
 * The two lines of nearly every order (sent, ack) checked by hand: a run of a million orders has two million,
 * and the zod check was most of reading them. True only for what sentSchema / ackSchema accept unchanged (no
 * unknown key to strip); anything else goes through the schema, which decides.
 */
function plainOrderLine(r: Record<string, unknown>): boolean {
  if (!finite(r.t) || typeof r.sut !== "string" || typeof r.orderId !== "string") return false;
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 0) return false;
  if (r.type === "sent")
    return (
      typeof r.productId === "string" &&
      finite(r.quantity) &&
      typeof r.valid === "boolean" &&
      typeof r.kind === "string" &&
      finite(r.intendedAtMs) &&
      finite(r.sentAtMs) &&
      optional(r.invalidKind, "string") &&
      optional(r.duplicateSend, "boolean") &&
      onlyKeys(r, SENT_KEYS)
    );
  return (
    r.type === "ack" &&
    finite(r.ackAtMs) &&
    (r.partition === undefined || finite(r.partition)) &&
    optional(r.offset, "string") &&
    onlyKeys(r, ACK_KEYS)
  );
}

/** One line checked: the event, or why not (`torn`: not JSON at all). Exported for tests. */
export function parseLine(
  line: string,
): { ok: true; event: HistoryEvent } | { ok: false; torn: boolean; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    return { ok: false, torn: true, reason: `not JSON (${(e as Error).message})` };
  }
  if (typeof raw === "object" && raw !== null && plainOrderLine(raw as Record<string, unknown>))
    return { ok: true, event: raw as HistoryEvent };
  const type = (raw as { type?: unknown } | null)?.type;
  const schema = typeof type === "string" ? SCHEMAS[type] : undefined;
  if (!schema) return { ok: false, torn: false, reason: `unknown line type ${JSON.stringify(type)}` };
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, event: r.data };
  return {
    ok: false,
    torn: false,
    reason: r.error.issues.map((i) => `${i.path.join(".") || "line"}: ${i.message}`).join("; "),
  };
}

function badLine(file: string, n: number, reason: string): InputError {
  return new InputError(`${file}:${n}: not a history line: ${reason}`);
}

/**
 * Calls onEvent for every line, in file order, without holding the file. Returns how many lines were skipped
 * (0, or 1 for a torn last line).
 */
export async function streamHistory(file: string, onEvent: (e: HistoryEvent, line: number) => void): Promise<number> {
  let torn: { n: number; reason: string } | undefined;
  await eachLine(createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 }), (line, n) => {
    if (!line.trim()) return;
    if (torn) throw badLine(file, torn.n, torn.reason); // a torn line that is not the last one
    const r = parseLine(line);
    if (r.ok) onEvent(r.event, n);
    else if (r.torn) torn = { n, reason: r.reason };
    else throw badLine(file, n, r.reason);
  });
  return torn ? 1 : 0;
}

export interface HistoryFile {
  events: HistoryEvent[];
  /** Lines that did not parse (a torn last line after a crash). */
  skipped: number;
}

/** The whole file in memory, checked the same way: for small histories (tests). Runs use streamHistory. */
export function readHistory(file: string): HistoryFile {
  const events: HistoryEvent[] = [];
  const lines = readFileSync(file, "utf8").split("\n");
  let skipped = 0;
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const r = parseLine(line);
    if (r.ok) events.push(r.event);
    else if (r.torn && lines.slice(i + 1).every((l) => !l.trim())) skipped++;
    else throw badLine(file, i + 1, r.reason);
  });
  return { events, skipped };
}

export function runStart(events: HistoryEvent[]): RunStartEvent | undefined {
  return events.find((e): e is RunStartEvent => e.type === "run-start");
}

/** Everything about one SUT except its order lines. */
export interface SutMeta {
  sut: string;
  start: SutStartEvent;
  loadStart?: LoadStartEvent;
  loadEnd?: LoadEndEvent;
  drainEnd?: DrainEndEvent;
  end?: SutEndEvent;
  products: ProductStock[];
  faults: FaultWindow[];
  /** Last timestamp seen for this SUT. */
  lastMs: number;
  /** Its order lines, when readRunHistory was asked to keep them (then readSutOrders need not read the file). */
  orderLines?: OrderLines;
}

/** Folds the non-order lines of one SUT as they stream by. */
class MetaFold {
  start?: SutStartEvent;
  orderLines?: OrderLines;
  loadStart?: LoadStartEvent;
  loadEnd?: LoadEndEvent;
  drainEnd?: DrainEndEvent;
  end?: SutEndEvent;
  lastMs = 0;
  private readonly initial = new Map<string, number>();
  private readonly restocked = new Map<string, number>();
  /** Restock sends by product (oversell-in-time); a product whose send times are unknown maps to undefined. */
  private readonly restockSends = new Map<string, RestockSend[] | undefined>();
  private readonly faults: FaultWindow[] = [];
  private readonly open: FaultEvent[] = [];

  add(e: HistoryEvent): void {
    this.lastMs = Math.max(this.lastMs, e.t);
    switch (e.type) {
      case "sut-start":
        this.start ??= e;
        break;
      case "load-start":
        this.loadStart ??= e;
        break;
      case "load-end":
        this.loadEnd = e;
        break;
      case "drain-end":
        this.drainEnd = e;
        break;
      case "sut-end":
        this.end = e;
        break;
      case "stock":
        if (e.event === "StockAdded") this.restockSent(e);
        if (e.status !== "acked") break;
        for (const it of e.items) {
          const m = e.event === "StockSet" ? this.initial : this.restocked;
          m.set(it.productId, (m.get(it.productId) ?? 0) + it.quantity);
        }
        break;
      case "fault-start":
        this.open.push(e);
        break;
      case "fault-end": {
        const i = this.open.findIndex((f) => f.kind === e.kind && f.target === e.target);
        const st = i >= 0 ? this.open.splice(i, 1)[0]! : undefined;
        this.faults.push({ kind: e.kind, target: e.target, at: st?.atMs ?? e.atMs, until: e.atMs });
        break;
      }
      default:
        break;
    }
  }

  /** Every restock send, refused ones too (they may have been stored): units that may exist from sentAtMs on. */
  private restockSent(e: StockEvent): void {
    for (const it of e.items) {
      const first = !this.restockSends.has(it.productId),
        sends = this.restockSends.get(it.productId);
      const send = e.sentAtMs === undefined ? undefined : { sentAtMs: e.sentAtMs, quantity: it.quantity };
      if (send && sends) sends.push(send);
      else if (send && first) this.restockSends.set(it.productId, [send]);
      else this.restockSends.set(it.productId, undefined);
    }
  }

  done(): SutMeta | undefined {
    if (!this.start) return undefined;
    // A fault that never healed (crashed run) lasts until the last thing we know.
    const faults = [
      ...this.faults,
      ...this.open.map((f) => ({ kind: f.kind, target: f.target, at: f.atMs, until: this.lastMs })),
    ];
    faults.sort((a, b) => a.at - b.at);
    const ids = new Set([...this.initial.keys(), ...this.restocked.keys()]);
    const products = [...ids].sort().map((productId): ProductStock => {
      const sends = this.restockSends.has(productId) ? this.restockSends.get(productId) : [];
      return {
        productId,
        initial: this.initial.get(productId) ?? 0,
        restocked: this.restocked.get(productId) ?? 0,
        ...(sends ? { restocks: sends } : {}),
      };
    });
    const { start, loadStart, loadEnd, drainEnd, end, lastMs } = this;
    return {
      sut: start.sut,
      start,
      loadStart,
      loadEnd,
      drainEnd,
      end,
      products,
      faults,
      lastMs: Math.max(lastMs, start.t),
      ...(this.orderLines ? { orderLines: this.orderLines } : {}),
    };
  }
}

export interface RunHistory {
  start?: RunStartEvent;
  suts: SutMeta[];
  skipped: number;
}

/**
 * The run's start and each SUT's milestones, stock and faults, in one streamed pass. Order lines are checked
 * and skipped, or with `orderLines` kept compactly in each SutMeta (check: the file is then read once).
 */
export async function readRunHistory(file: string, opts: { orderLines?: boolean } = {}): Promise<RunHistory> {
  let start: RunStartEvent | undefined;
  const folds = new Map<string, MetaFold>();
  const fold = (sut: string) => {
    let f = folds.get(sut);
    if (!f) folds.set(sut, (f = new MetaFold()));
    return f;
  };
  const skipped = await streamHistory(file, (e) => {
    if (e.type === "run-start") start ??= e;
    if (!("sut" in e) || e.sut === undefined) return;
    if (e.type === "sent" || e.type === "ack" || e.type === "send-error") {
      if (opts.orderLines) (fold(e.sut).orderLines ??= new OrderLines()).add(e);
      return;
    }
    fold(e.sut).add(e);
  });
  const suts = [...folds.values()].map((f) => f.done()).filter((m): m is SutMeta => m !== undefined);
  return { start, suts, skipped };
}

/** Applies one history event of an order to the book (sent / ack / send-error), by seq. */
export function applyOrderLine(book: OrderBook, e: HistoryEvent | OrderLine): void {
  if ((e.type !== "sent" && e.type !== "ack" && e.type !== "send-error") || e.seq >= book.size) return;
  if (e.type === "sent") book.sent(e.seq, e.intendedAtMs, e.sentAtMs);
  else if (e.type === "ack") {
    if (book.statusOf(e.seq) !== "unsent") book.acked(e.seq, e.ackAtMs, e.partition, e.offset);
  } else if (book.statusOf(e.seq) !== "unsent") book.failed(e.seq, e.status);
}

/** Fills a book (from the generated stream) with what the history says happened to one SUT's orders. */
export async function readSutOrders(file: string, meta: SutMeta, book: OrderBook): Promise<void> {
  book.rebase(meta.loadStart?.loadStartMs ?? meta.start.t);
  if (meta.orderLines) {
    meta.orderLines.forEach((l) => applyOrderLine(book, l));
    return;
  }
  await streamHistory(file, (e) => {
    if ("sut" in e && e.sut === meta.sut) applyOrderLine(book, e);
  });
}

export interface SutHistory extends SutMeta {
  orders: SentOrder[];
}

/**
 * Everything about one SUT as objects (small histories: tests). With the generated stream, orders that never
 * left the harness are listed as "unsent" (a run interrupted mid-load).
 */
export function sutHistory(events: HistoryEvent[], sut: string, stream?: GeneratedStream): SutHistory | undefined {
  const fold = new MetaFold();
  const bySeq = new Map<number, SentOrder>();
  for (const e of events) {
    if (!("sut" in e) || e.sut !== sut) continue;
    fold.add(e);
    if (e.type === "sent") {
      bySeq.set(e.seq, {
        orderId: e.orderId,
        productId: e.productId,
        quantity: e.quantity,
        valid: e.valid,
        invalidKind: e.invalidKind,
        intendedAtMs: e.intendedAtMs,
        sentAtMs: e.sentAtMs,
        status: "unknown",
        duplicateSend: e.duplicateSend || undefined,
      });
    } else if (e.type === "ack" || e.type === "send-error") {
      const o = bySeq.get(e.seq);
      if (o && e.type === "ack") {
        o.status = "acked";
        o.ackAtMs = e.ackAtMs;
        if (e.partition !== undefined && e.offset !== undefined && e.offset !== "-1")
          Object.assign(o, { partition: e.partition, offset: e.offset });
      } else if (o && e.type === "send-error" && o.status !== "acked") o.status = e.status;
    }
  }
  const meta = fold.done();
  if (!meta) return undefined;
  const orders: SentOrder[] = [];
  if (stream) {
    const base = meta.loadStart?.loadStartMs ?? meta.start.t;
    for (const g of stream.table) {
      orders.push(
        bySeq.get(g.seq) ?? {
          orderId: g.orderId,
          productId: g.productId,
          quantity: g.quantity,
          valid: g.valid,
          invalidKind: g.invalidKind,
          intendedAtMs: base + g.offsetMs,
          status: "unsent",
          duplicateSend: g.duplicateSend || undefined,
        },
      );
    }
  } else orders.push(...[...bySeq.entries()].sort((a, b) => a[0] - b[0]).map(([, o]) => o));
  return { ...meta, orders };
}

export function sutsInHistory(events: HistoryEvent[]): string[] {
  return [...new Set(events.filter((e): e is SutStartEvent => e.type === "sut-start").map((e) => e.sut))];
}
