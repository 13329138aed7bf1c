// Reading history.ndjson back: what was sent to one SUT, what the broker said, the stock and the
// faults. Tolerates a run that crashed mid-line (the torn last line is skipped).
import { readFileSync } from "node:fs";
import type { FaultWindow, ProductStock, SentOrder } from "../checker/types.ts";
import type { GeneratedStream } from "../scenario/generate.ts";
import type { FaultEvent, HistoryEvent, LoadStartEvent, RunStartEvent, SutEndEvent, SutStartEvent, DrainEndEvent } from "./events.ts";

export interface HistoryFile {
  events: HistoryEvent[];
  /** Lines that did not parse (a torn last line after a crash). */
  skipped: number;
}

export function readHistory(file: string): HistoryFile {
  const text = readFileSync(file, "utf8");
  const events: HistoryEvent[] = [];
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const ev = JSON.parse(line) as HistoryEvent;
      if (ev && typeof ev === "object" && typeof ev.type === "string") events.push(ev);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { events, skipped };
}

export function runStart(events: HistoryEvent[]): RunStartEvent | undefined {
  return events.find((e): e is RunStartEvent => e.type === "run-start");
}

export interface SutHistory {
  sut: string;
  start: SutStartEvent;
  loadStart?: LoadStartEvent;
  drainEnd?: DrainEndEvent;
  end?: SutEndEvent;
  orders: SentOrder[];
  products: ProductStock[];
  faults: FaultWindow[];
  /** Last timestamp seen for this SUT. */
  lastMs: number;
}

/**
 * Everything about one SUT. With the generated stream, orders that never left the harness are
 * listed as "unsent" (a run interrupted mid-load).
 */
export function sutHistory(events: HistoryEvent[], sut: string, stream?: GeneratedStream): SutHistory | undefined {
  const mine = events.filter((e) => "sut" in e && e.sut === sut);
  const start = mine.find((e): e is SutStartEvent => e.type === "sut-start");
  if (!start) return undefined;
  const loadStart = mine.find((e): e is LoadStartEvent => e.type === "load-start");
  const bySeq = new Map<number, SentOrder>();
  const initial = new Map<string, number>();
  const restocked = new Map<string, number>();
  const faults: FaultWindow[] = [];
  const open: FaultEvent[] = [];
  let lastMs = start.t;
  let drainEnd: DrainEndEvent | undefined;
  let end: SutEndEvent | undefined;
  for (const e of mine) {
    lastMs = Math.max(lastMs, e.t);
    switch (e.type) {
      case "sent":
        bySeq.set(e.seq, {
          orderId: e.orderId, productId: e.productId, quantity: e.quantity, valid: e.valid,
          invalidKind: e.invalidKind, intendedAtMs: e.intendedAtMs, sentAtMs: e.sentAtMs,
          status: "unknown", duplicateSend: e.duplicateSend || undefined,
        });
        break;
      case "ack": {
        const o = bySeq.get(e.seq);
        if (o) {
          o.status = "acked";
          o.ackAtMs = e.ackAtMs;
          if (e.partition !== undefined && e.offset !== undefined && e.offset !== "-1") {
            o.partition = e.partition;
            o.offset = e.offset;
          }
        }
        break;
      }
      case "send-error": {
        const o = bySeq.get(e.seq);
        if (o && o.status !== "acked") o.status = e.status;
        break;
      }
      case "stock":
        if (e.status !== "acked") break;
        for (const it of e.items) {
          const m = e.event === "StockSet" ? initial : restocked;
          m.set(it.productId, (m.get(it.productId) ?? 0) + it.quantity);
        }
        break;
      case "fault-start":
        open.push(e);
        break;
      case "fault-end": {
        const i = open.findIndex((f) => f.kind === e.kind && f.target === e.target);
        const s = i >= 0 ? open.splice(i, 1)[0]! : undefined;
        faults.push({ kind: e.kind, target: e.target, at: s?.atMs ?? e.atMs, until: e.atMs });
        break;
      }
      case "drain-end":
        drainEnd = e;
        break;
      case "sut-end":
        end = e;
        break;
      default:
        break;
    }
  }
  // A fault that never healed (crashed run) lasts until the last thing we know.
  for (const f of open) faults.push({ kind: f.kind, target: f.target, at: f.atMs, until: lastMs });
  faults.sort((a, b) => a.at - b.at);

  const orders: SentOrder[] = [];
  if (stream) {
    const base = loadStart?.loadStartMs ?? start.t;
    for (const g of stream.orders) {
      orders.push(
        bySeq.get(g.seq) ?? {
          orderId: g.orderId, productId: g.productId, quantity: g.quantity, valid: g.valid, invalidKind: g.invalidKind,
          intendedAtMs: base + g.offsetMs, status: "unsent", duplicateSend: g.duplicateSend || undefined,
        },
      );
    }
  } else {
    orders.push(...[...bySeq.entries()].sort((a, b) => a[0] - b[0]).map(([, o]) => o));
  }
  const ids = new Set([...initial.keys(), ...restocked.keys()]);
  const products = [...ids].sort().map((productId) => ({ productId, initial: initial.get(productId) ?? 0, restocked: restocked.get(productId) ?? 0 }));
  return { sut, start, loadStart, drainEnd, end, orders, products, faults, lastMs };
}

export function sutsInHistory(events: HistoryEvent[]): string[] {
  return [...new Set(events.filter((e): e is SutStartEvent => e.type === "sut-start").map((e) => e.sut))];
}
