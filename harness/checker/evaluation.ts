// From the judge's fates to an Evaluation: violation counts, the verdict, orders, units, statistics.
// Examples are picked here (first MAX_EXAMPLES per check) and explained by explain() with the decisions of
// just those orders, read again from wherever the decisions are (an array, or the run folder's file).
import type { Decision, DecisionType } from "../../systems-under-test/contract/events.ts";
import type { SutResult } from "../report/result-schema.ts";
import type { Judge } from "./judge.ts";
import { MISMATCH, OUT_OF_STOCK } from "./judge.ts";
import { LatencyRecorder, type Percentiles } from "./latency.ts";
import {
  CANCELLED,
  CONFIRMED,
  DEFAULT_STUCK_GRACE_MS,
  EXPIRED,
  INFO_CHECKS,
  LIVENESS_CHECKS,
  MAX_EXAMPLES,
  MAX_PRODUCTS,
  REJECTED,
  RESERVED,
  STATUS_CODE,
} from "./rules.ts";
import { judgeInTime, type InTimeResult } from "./in-time.ts";
import { statistics } from "./statistics.ts";
import { ALL_CHECKS, type CheckName, type Invariant, type ObservedDecision, type Violation } from "./types.ts";
import { DECISION_TYPES } from "../../systems-under-test/contract/events.ts";

export interface Evaluation {
  /** Every check of ALL_CHECKS, count 0 when it holds. */
  violations: Record<CheckName, Violation>;
  verdict: "pass" | "fail" | "unknown";
  expected: "pass" | "fail";
  verdictReason?: string;
  /** The checks the verdict was judged on: claims ∪ expectedViolations (aborted-read never). */
  judged: CheckName[];
  /**
   * expectedViolations the run did not show (a "fail" verdict caused only by something else leaves these non-empty).
   */
  missingExpected: CheckName[];
  orders: SutResult["orders"];
  units: NonNullable<SutResult["units"]>;
  products: NonNullable<SutResult["products"]>;
  latencyUs: SutResult["latencyUs"] & { reserve?: Percentiles };
  throughput: SutResult["throughput"] & { ackedPerSec: number };
  series: NonNullable<SutResult["series"]>;
  /** Epoch ms of series tSec 0 (the first intended send); undefined without orders. */
  seriesStartMs?: number;
  /** Width of a series bucket: 1000 ms (when absent too), or finer for a short run. */
  seriesBucketMs?: number;
  /** Records on <ns>.decisions that did not parse. */
  malformedDecisions: number;
  poison: NonNullable<SutResult["poison"]>;
  /** How oversell-in-time was judged: its margin, and why it was not (or not for every product). */
  inTime: NonNullable<SutResult["inTime"]>;
}

/** What the judge needs besides the decisions: the run's claims and how the drain ended. */
export interface JudgeContext {
  claims: Invariant[];
  expectedViolations: Invariant[];
  reservationTtlMs?: number;
  stuckGraceMs?: number;
  drainEndedAtMs: number;
  drainComplete: boolean;
  /** The scenario's warmupMs: orders intended in it are left out of latency and throughput. */
  warmupMs?: number;
  sutRunning: boolean;
  malformedDecisions: number;
  abortedDecisions: Decision[];
}

type Example = Violation["examples"][number];
/** An example whose detail needs the order's decisions (sorted by observation). */
export interface PendingExample {
  check: CheckName;
  id: string;
  build(ds: ObservedDecision[]): Example;
}

export interface Judged {
  evaluation: Evaluation;
  pending: PendingExample[];
}

const evidence = (ds: ObservedDecision[]) =>
  ds.slice(0, 8).map((d) => ({ ...d.event, partition: d.partition, offset: d.offset, seenAtMs: d.seenAtMs }));
const typesOf = (ds: ObservedDecision[]) => ds.map((d) => d.event.type);

function emptyViolations(): Record<CheckName, Violation> {
  return Object.fromEntries(ALL_CHECKS.map((c) => [c, { count: 0, examples: [] }])) as unknown as Record<
    CheckName,
    Violation
  >;
}

/** Counts a violation; the first MAX_EXAMPLES get an example (built later from their decisions). */
class Tally {
  readonly violations = emptyViolations();
  readonly pending: PendingExample[] = [];

  flag(check: CheckName, id: string, build: (ds: ObservedDecision[]) => Example): void {
    const v = this.violations[check];
    if (v.count++ < MAX_EXAMPLES) this.pending.push({ check, id, build });
  }
}

export function finish(j: Judge, ctx: JudgeContext): Judged {
  const tally = new Tally();
  j.recountUnits();
  const products = productTable(j);
  oversell(j, tally, products);
  const inTime = judgeInTime(j, { reservationTtlMs: ctx.reservationTtlMs });
  inTimeViolations(j, tally, inTime);
  for (let s = 0; s < j.slots; s++) if (j.fates.flags[s]! & 1) judgeOrder(j, s, tally, ctx);
  lost(j, tally, ctx);
  for (const d of ctx.abortedDecisions) {
    tally.flag("aborted-read", d.orderId, () => ({
      id: d.orderId,
      detail: `${d.type} seen with read_uncommitted, never committed`,
      events: [d],
    }));
  }
  const sum = (k: "stock" | "sold" | "held") => products.reduce((a, p) => a + p[k], 0);
  const evaluation: Evaluation = {
    violations: tally.violations,
    ...verdictOf(tally.violations, ctx, inTime.judged ? [] : ["oversell-in-time"]),
    orders: countOrders(j),
    units: { stock: sum("stock"), sold: sum("sold"), held: sum("held") },
    products: products.slice(0, MAX_PRODUCTS),
    ...statistics(j, ctx.warmupMs),
    malformedDecisions: ctx.malformedDecisions,
    poison: poisonImpact(j),
    inTime: { judged: inTime.judged, marginMs: inTime.marginMs, ...(inTime.note ? { note: inTime.note } : {}) },
  };
  return { evaluation, pending: tally.pending };
}

/** Fills in the examples from the decisions of their orders (any order; sorted here). */
export function explain(judged: Judged, decisionsOf: ReadonlyMap<string, ObservedDecision[]>): Evaluation {
  const ev = judged.evaluation;
  for (const p of judged.pending) {
    const ds = [...(decisionsOf.get(p.id) ?? [])].sort(byObservation);
    ev.violations[p.check].examples.push(p.build(ds));
  }
  return ev;
}

/** Which orderIds explain() needs the decisions of. */
export function exampleIds(judged: Judged): Set<string> {
  return new Set(judged.pending.map((p) => p.id));
}

function offsetOf(d: ObservedDecision): bigint {
  try {
    return BigInt(d.offset);
  } catch {
    return 0n;
  }
}

export function byObservation(a: ObservedDecision, b: ObservedDecision): number {
  if (a.partition === b.partition) {
    const x = offsetOf(a),
      y = offsetOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a.seenAtMs - b.seenAtMs || a.partition - b.partition;
}

type ProductRow = Evaluation["products"][number];

function productTable(j: Judge): ProductRow[] {
  const rows: ProductRow[] = [];
  j.stock.forEach((stock, p) => {
    if (stock === undefined) return;
    rows.push({ productId: j.book.products.names[p]!, stock, sold: j.soldUnits[p] ?? 0, held: j.heldUnits[p] ?? 0 });
  });
  const excess = (p: ProductRow) => p.sold + p.held - p.stock;
  const name = (a: ProductRow, b: ProductRow) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0);
  return rows.sort((a, b) => Math.max(0, excess(b)) - Math.max(0, excess(a)) || name(a, b));
}

function oversell(j: Judge, tally: Tally, products: ProductRow[]): void {
  for (const p of products) {
    const over = p.sold + p.held - p.stock;
    if (over <= 0) continue;
    tally.flag("oversell", p.productId, () => {
      const hs = holdersOf(j, p.productId, 20),
        total = j.holders[j.book.products.find(p.productId)] ?? 0;
      const more = total > hs.length ? ` … +${total - hs.length}` : "";
      const detail =
        `S(p)=${p.stock} but sold ${p.sold} + held ${p.held} = ` +
        `${p.sold + p.held} (${over} over); orders: ${hs.join(", ")}${more}`;
      return { id: p.productId, detail };
    });
  }
}

/** oversell-in-time: the count, and the examples straight from the sweep (they need no decision read again). */
function inTimeViolations(j: Judge, tally: Tally, r: InTimeResult): void {
  const v = tally.violations["oversell-in-time"];
  v.count = r.count;
  for (const f of r.flags) {
    const { atMs, stock, held, restocksBefore } = f.instant;
    const productId = j.book.products.names[f.product]!;
    const initial = j.initialStock[f.product] ?? 0;
    const next =
      f.nextRestockAtMs === undefined ? "" : `; the next restock started sending ${f.nextRestockAtMs - atMs} ms later`;
    const more = f.holderCount > f.holders.length ? ` (first ${f.holders.length} listed)` : "";
    const detail =
      `at ${new Date(atMs).toISOString()} ${f.holderCount} orders${more}, each seen committed at least ` +
      `${r.marginMs} ms before, held ${held} units, but the stock then was ${stock} ` +
      `(initial ${initial} + ${restocksBefore} restock send(s) started by then)${next}`;
    v.examples.push({ id: productId, detail, events: f.holders, instant: f.instant });
  }
}

/** The first orders (by slot) whose accepted units count toward a product. */
function holdersOf(j: Judge, productId: string, max: number): string[] {
  const p = j.book.products.find(productId),
    f = j.fates,
    out: string[] = [];
  for (let s = 0; s < j.slots && out.length < max; s++) {
    if (f.accProduct[s] !== p || !(f.accQty[s]! > 0)) continue;
    const sold = j.sold(s);
    if (sold || j.heldOpen(s)) out.push(`${j.orderIdOf(s)}×${f.accQty[s]}${sold ? "" : " (held)"}`);
  }
  return out;
}

function conflictOf(j: Judge, s: number): string | undefined {
  const has = (t: number) => j.count(s, t) > 0;
  if (j.confirms) {
    const ends = [CONFIRMED, CANCELLED, EXPIRED].filter(has).length;
    if (has(REJECTED) && (has(RESERVED) || ends > 0)) return "rejected and reserved/settled";
    return ends > 1 ? "two outcomes" : undefined;
  }
  const classes = [j.sold(s), has(REJECTED), j.released(s)].filter(Boolean).length;
  return classes > 1 ? "two outcomes" : undefined;
}

function judgeOrder(j: Judge, s: number, tally: Tally, ctx: JudgeContext): void {
  const id = j.orderIdOf(s),
    book = j.book,
    f = j.fates;
  const inBook = s < book.size;
  const sum = inBook ? book.summary(s) : undefined;
  const twice = DECISION_TYPES.map((t, i) => [t, j.count(s, i)] as const).filter(([, n]) => n > 1);
  if (twice.length > 0) {
    const sent = inBook && book.entries(s) > 1 ? ` (sent ${book.entries(s)}×)` : "";
    tally.flag("duplicate", id, (ds) => ({
      id,
      detail: `${twice.map(([t, n]) => `${n}× ${t}`).join(", ")}${sent}`,
      events: evidence(ds),
    }));
  }
  const conflict = conflictOf(j, s);
  if (conflict)
    tally.flag("conflict", id, (ds) => ({
      id,
      detail: `${conflict}: ${typesOf(ds).join(" → ")}`,
      events: evidence(ds),
    }));
  phantom(j, s, id, sum?.sent ?? false, tally);
  const ref = inBook ? book.ref(s) : -1;
  const accepted = f.accProduct[s]! >= 0;
  if (inBook && !book.valid(ref) && accepted) {
    const how = j.count(s, RESERVED) > 0 ? "reserved" : "confirmed";
    const kind = book.invalidKind.get(ref) ?? "invalid";
    tally.flag("invalid-accepted", id, (ds) => ({
      id,
      detail: `invalid order (${kind}) was ${how}`,
      events: evidence(ds),
    }));
  }
  stuck(j, s, id, tally, ctx);
  if (inBook && book.valid(ref) && f.flags[s]! & OUT_OF_STOCK) falseRejection(j, s, ref, id, tally);
}

function phantom(j: Judge, s: number, id: string, sent: boolean, tally: Tally): void {
  const book = j.book;
  if (s >= book.size || !sent) {
    const detail =
      s < book.size
        ? "decision for an order the harness never sent (status unsent)"
        : "decision for an orderId the harness never sent";
    tally.flag("phantom", id, (ds) => ({ id, detail, events: evidence(ds) }));
    return;
  }
  if (!(j.fates.flags[s]! & MISMATCH)) return;
  const ref = book.ref(s),
    valid = book.valid(ref);
  const op = book.products.names[book.product[ref]!]!,
    oq = book.quantity[ref]!;
  tally.flag("phantom", id, (ds) => {
    const bad = ds.find(({ event: e }) =>
      valid
        ? e.productId !== op || e.quantity !== oq
        : (e.productId !== "" && e.productId !== op) || (e.quantity !== 0 && e.quantity !== oq),
    );
    const what = bad ? `${bad.event.type} for ${bad.event.productId}×${bad.event.quantity}` : "a decision";
    return { id, detail: `${what}, but the order sent was ${op}×${oq}`, events: evidence(ds) };
  });
}

function stuck(j: Judge, s: number, id: string, tally: Tally, ctx: JudgeContext): void {
  if (!j.confirms || !j.heldOpen(s) || !j.hasReserved(s)) return;
  const f = j.fates;
  const ttl = ctx.reservationTtlMs ?? 0,
    grace = ctx.stuckGraceMs ?? DEFAULT_STUCK_GRACE_MS;
  const seen = f.res[s]!,
    ts = f.resTs[s]!;
  const reservedAt = ts > 0 ? Math.min(ts, seen) : seen;
  const openMs = ctx.drainEndedAtMs - reservedAt;
  if (openMs <= ttl + grace) return;
  const detail =
    `reserved ${openMs} ms before the drain ended, neither ` +
    `confirmed nor released (TTL ${ttl} ms + grace ${grace} ms)`;
  tally.flag("stuck", id, (ds) => ({ id, detail, events: evidence(ds) }));
}

function falseRejection(j: Judge, s: number, ref: number, id: string, tally: Tally): void {
  const p = j.book.product[ref]!,
    stock = j.stock[p];
  if (stock === undefined) return;
  const soldP = j.soldUnits[p] ?? 0,
    q = j.book.quantity[ref]!;
  if (soldP + q > stock) return;
  const detail =
    `rejected OUT_OF_STOCK for ${j.book.products.names[p]}×${q}, ` + `but at the end sold ${soldP} of S(p)=${stock}`;
  tally.flag("false-rejection", id, (ds) => ({ id, detail, events: evidence(ds) }));
}

/** Owed a decision (valid or not), none terminal at the end of the drain. */
function lost(j: Judge, tally: Tally, ctx: JudgeContext): void {
  const book = j.book;
  for (let v = 0; v < book.size; v++) {
    if (book.view[v] !== v) continue;
    const sum = book.summary(v);
    if (!sum.owed || j.decidedEnough(v)) continue;
    const id = book.orderId(v);
    const how = sum.status === STATUS_CODE.acked ? "acked" : "send timed out but the order is in the orders topic";
    const tail = ctx.drainComplete ? "" : " (drain incomplete)";
    tally.flag("lost", id, (ds) => {
      const saw = ds.length > 0 ? ` (saw ${typesOf(ds).join(", ")})` : "";
      const ex: Example = { id, detail: `${how}; no terminal decision by the end of the drain${saw}${tail}` };
      return ds.length > 0 ? { ...ex, events: evidence(ds) } : ex;
    });
  }
}

function verdictOf(
  violations: Record<CheckName, Violation>,
  ctx: JudgeContext,
  notJudgeable: CheckName[],
): Pick<Evaluation, "verdict" | "expected" | "verdictReason" | "judged" | "missingExpected"> {
  const judged = [...new Set<CheckName>([...ctx.claims, ...ctx.expectedViolations])].filter(
    (c) => !INFO_CHECKS.includes(c) && !notJudgeable.includes(c),
  );
  judged.sort((a, b) => ALL_CHECKS.indexOf(a) - ALL_CHECKS.indexOf(b));
  const failing = judged.filter((c) => violations[c].count > 0);
  const missingExpected = ctx.expectedViolations.filter((c) => violations[c].count === 0 && judged.includes(c));
  const expected: Evaluation["expected"] = ctx.expectedViolations.length > 0 ? "fail" : "pass";
  const list = (cs: CheckName[]) => cs.map((c) => `${c} (${violations[c].count})`).join(", ");
  const base = { expected, judged, missingExpected };
  if (failing.length === 0) {
    const why =
      missingExpected.length > 0
        ? `no judged invariant violated; expected violation not observed: ${missingExpected.join(", ")}`
        : undefined;
    return { ...base, verdict: "pass", ...(why ? { verdictReason: why } : {}) };
  }
  if (failing.every((c) => LIVENESS_CHECKS.includes(c)) && !ctx.drainComplete && !ctx.sutRunning) {
    const why =
      `drain deadline passed with undecided orders while no SUT instance was ` +
      `running: cannot tell ${failing.join("/")} from slow (${list(failing)})`;
    return { ...base, verdict: "unknown", verdictReason: why };
  }
  return { ...base, verdict: "fail", verdictReason: `violated: ${list(failing)}` };
}

function countOrders(j: Judge): Evaluation["orders"] {
  const c = {
    sent: 0,
    acked: 0,
    decided: 0,
    reserved: 0,
    confirmed: 0,
    rejected: 0,
    cancelled: 0,
    expired: 0,
    invalid: 0,
    failed: 0,
    unknown: 0,
  };
  const book = j.book;
  for (let v = 0; v < book.size; v++) {
    if (book.view[v] !== v) continue;
    const { status, sent } = book.summary(v);
    if (sent) c.sent++;
    if (status === STATUS_CODE.acked) c.acked++;
    if (status === STATUS_CODE.failed) c.failed++;
    if (status === STATUS_CODE.unknown) c.unknown++;
    if (!book.valid(book.ref(v))) c.invalid++;
    if (!(j.fates.flags[v]! & 1) || !sent) continue;
    if (j.hasTerminal(v)) c.decided++;
    if (j.count(v, RESERVED)) c.reserved++;
    if (j.count(v, CONFIRMED)) c.confirmed++;
    if (j.count(v, REJECTED)) c.rejected++;
    if (j.count(v, CANCELLED)) c.cancelled++;
    if (j.count(v, EXPIRED)) c.expired++;
  }
  return c;
}

/**
 * Decision latency of valid orders stored right behind an invalid record on the same orders partition
 * (the next offset), vs the other valid orders. Records are placed by their ack (partition, offset).
 */
function poisonImpact(j: Judge): Evaluation["poison"] {
  const book = j.book,
    after = new LatencyRecorder(),
    other = new LatencyRecorder();
  const behind = new Set<string>();
  const part = book.ackPartition,
    off = book.ackOffset;
  const stored = (i: number) =>
    part !== undefined &&
    off !== undefined &&
    book.status[i] === STATUS_CODE.acked &&
    part[i]! >= 0 &&
    !Number.isNaN(off[i]!);
  if (part && off)
    for (let i = 0; i < book.size; i++) if (stored(i) && !book.valid(i)) behind.add(`${part[i]}:${off[i]! + 1}`);
  let invalid = 0,
    validUndecided = 0;
  for (let i = 0; i < book.size; i++) {
    const v = book.view[i]!;
    const valid = book.valid(book.ref(v));
    if (v === i) {
      const sum = book.summary(v);
      if (!valid && sum.sent) invalid++;
      if (valid && sum.owed && !j.decidedEnough(v)) validUndecided++;
    }
    if (!valid || book.duplicateSend(i) || book.status[i] !== STATUS_CODE.acked || !j.hasTerminal(v)) continue;
    const isBehind = stored(i) && behind.has(`${part![i]}:${off![i]}`);
    (isBehind ? after : other).recordMs(j.fates.term[v]! - book.summary(v).intended);
  }
  return { invalid, afterPoison: after.summary(), otherValid: other.summary(), validUndecided };
}

export type { DecisionType };
