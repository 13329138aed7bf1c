// TEST ORACLE: the checker's evaluate() as it was before the streaming judge (commit 6848cf9), kept
// verbatim so test/checker/equivalence.test.ts can compare the new path against the old one. Not used by the harness.
// The invariants of DESIGN.md evaluated on what the harness sent and what the SUT committed.
// Pure: no Kafka, no clock; the same input always gives the same Evaluation.
import type { DecisionType } from "../../systems-under-test/contract/events.ts";
import type { SutResult } from "../../harness/report/result-schema.ts";
import { LatencyRecorder, nearestRank, type Percentiles } from "../../harness/checker/latency.ts";
import {
  ALL_CHECKS,
  type CheckInput,
  type CheckName,
  type ObservedDecision,
  type SentOrder,
  type Violation,
} from "../../harness/checker/types.ts";

export const MAX_EXAMPLES = 10;
export const MAX_PRODUCTS = 500;
/** Grace after the reservation TTL before an open reservation counts as stuck, when the input gives none. */
export const DEFAULT_STUCK_GRACE_MS = 2_000;
/** Series buckets beyond this (one per second) are dropped: a bad clock must not make a huge result. */
export const MAX_SERIES_BUCKETS = 7_200;
/** Checks that only mean something if the SUT had a chance to finish: undecided is not wrong while it is down. */
const LIVENESS_CHECKS: readonly CheckName[] = ["lost", "stuck"];
const INFO_CHECKS: readonly CheckName[] = ["aborted-read"];

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
  /** Records on <ns>.decisions that did not parse (evidence in CheckInput.malformedDecisions). */
  malformedDecisions: number;
  poison: NonNullable<SutResult["poison"]>;
}

/** One orderId as the harness saw it (a duplicate send folds into its first send). */
interface OrderView {
  orderId: string;
  first: SentOrder;
  entries: SentOrder[];
  intendedAtMs: number;
  valid: boolean;
  /** Left the harness at least once (anything but "unsent"). */
  sent: boolean;
  /** Acked, or unknown and found in <ns>.orders: the SUT owes it a decision. */
  mustDecide: boolean;
  status: SentOrder["status"];
}

/** What the decisions of one orderId amount to. */
interface OrderFate {
  decisions: ObservedDecision[];
  count: Partial<Record<DecisionType, number>>;
  firstTerminal?: ObservedDecision;
  firstReserved?: ObservedDecision;
  /** The first decision that takes stock (OrderReserved, or OrderConfirmed without a reserve). */
  accept?: ObservedDecision;
  sold: boolean;
  held: boolean;
  conflict?: string;
}

const STATUS_RANK: Record<SentOrder["status"], number> = { acked: 3, unknown: 2, failed: 1, unsent: 0 };

function viewOrders(orders: SentOrder[]): Map<string, OrderView> {
  const views = new Map<string, OrderView>();
  for (const o of orders) {
    let v = views.get(o.orderId);
    if (!v) {
      v = {
        orderId: o.orderId,
        first: o,
        entries: [],
        intendedAtMs: o.intendedAtMs,
        valid: o.valid,
        sent: false,
        mustDecide: false,
        status: o.status,
      };
      views.set(o.orderId, v);
    } else if (v.first.duplicateSend && !o.duplicateSend) {
      // The original send is the reference, whatever order the history lists them in.
      v.first = o;
      v.valid = o.valid;
    }
    v.entries.push(o);
    v.intendedAtMs = Math.min(v.intendedAtMs, o.intendedAtMs);
    if (o.status !== "unsent") v.sent = true;
    if (o.status === "acked" || (o.status === "unknown" && o.inTopic === true)) v.mustDecide = true;
    if (STATUS_RANK[o.status] > STATUS_RANK[v.status]) v.status = o.status;
  }
  return views;
}

function offsetOf(d: ObservedDecision): bigint {
  try {
    return BigInt(d.offset);
  } catch {
    return 0n;
  }
}

function byObservation(a: ObservedDecision, b: ObservedDecision): number {
  if (a.partition === b.partition) {
    const x = offsetOf(a),
      y = offsetOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a.seenAtMs - b.seenAtMs || a.partition - b.partition;
}

function terminalTypes(confirms: boolean): ReadonlySet<DecisionType> {
  // confirms:false: OrderReserved is final; any other type is a decision too (a protocol breach shows as a conflict).
  return confirms
    ? new Set<DecisionType>(["OrderConfirmed", "OrderCancelled", "ReservationExpired", "OrderRejected"])
    : new Set<DecisionType>([
        "OrderReserved",
        "OrderRejected",
        "OrderConfirmed",
        "OrderCancelled",
        "ReservationExpired",
      ]);
}

function fateOf(decisions: ObservedDecision[], confirms: boolean, terminal: ReadonlySet<DecisionType>): OrderFate {
  const ds = [...decisions].sort(byObservation);
  const count: Partial<Record<DecisionType, number>> = {};
  let firstTerminal: ObservedDecision | undefined;
  let firstReserved: ObservedDecision | undefined;
  for (const d of ds) {
    const t = d.event.type;
    count[t] = (count[t] ?? 0) + 1;
    if (terminal.has(t) && (!firstTerminal || d.seenAtMs < firstTerminal.seenAtMs)) firstTerminal = d;
    if (t === "OrderReserved" && !firstReserved) firstReserved = d;
  }
  const accept = firstReserved ?? ds.find((d) => d.event.type === "OrderConfirmed");
  const has = (t: DecisionType) => (count[t] ?? 0) > 0;
  const released = has("OrderCancelled") || has("ReservationExpired");
  let sold: boolean, held: boolean, conflict: string | undefined;
  const seq = () => ds.map((d) => d.event.type).join(" → ");
  if (confirms) {
    // Reserved is a step; the outcome is exactly one of Confirmed / Cancelled / Expired, or Rejected alone.
    sold = has("OrderConfirmed");
    held = has("OrderReserved") && !sold && !released;
    const ends = (["OrderConfirmed", "OrderCancelled", "ReservationExpired"] as const).filter(has);
    if (has("OrderRejected") && (has("OrderReserved") || ends.length > 0))
      conflict = `rejected and reserved/settled: ${seq()}`;
    else if (ends.length > 1) conflict = `two outcomes: ${seq()}`;
  } else {
    // Confirmed reads as the same outcome as Reserved; Cancelled/Expired as a release a non-confirming SUT must not
    // emit.
    sold = has("OrderReserved") || has("OrderConfirmed");
    held = false;
    const classes = [sold, has("OrderRejected"), released].filter(Boolean).length;
    if (classes > 1) conflict = `two outcomes: ${seq()}`;
  }
  return { decisions: ds, count, firstTerminal, firstReserved, accept, sold, held, conflict };
}

function emptyViolations(): Record<CheckName, Violation> {
  return Object.fromEntries(ALL_CHECKS.map((c) => [c, { count: 0, examples: [] }])) as unknown as Record<
    CheckName,
    Violation
  >;
}

function flag(v: Violation, id: string, detail: string, events?: unknown[]): void {
  v.count++;
  if (v.examples.length < MAX_EXAMPLES) v.examples.push(events ? { id, detail, events } : { id, detail });
}

const evidence = (ds: ObservedDecision[]) =>
  ds.slice(0, 8).map((d) => ({ ...d.event, partition: d.partition, offset: d.offset, seenAtMs: d.seenAtMs }));

export function evaluate(input: CheckInput): Evaluation {
  const { confirms } = input;
  const violations = emptyViolations();
  const views = viewOrders(input.orders);
  const terminal = terminalTypes(confirms);

  const stock = new Map<string, number>();
  for (const p of input.products) stock.set(p.productId, (stock.get(p.productId) ?? 0) + p.initial + p.restocked);

  const byOrder = new Map<string, ObservedDecision[]>();
  for (const d of input.decisions) {
    const list = byOrder.get(d.event.orderId);
    if (list) list.push(d);
    else byOrder.set(d.event.orderId, [d]);
  }
  const fates = new Map<string, OrderFate>();
  for (const [id, ds] of byOrder) fates.set(id, fateOf(ds, confirms, terminal));

  // Units per known product, from what the SUT said it reserved (its product and quantity).
  const sold = new Map<string, number>(),
    held = new Map<string, number>();
  const holders = new Map<string, string[]>();
  for (const [id, f] of fates) {
    if (!f.accept || !(f.sold || f.held)) continue;
    const p = f.accept.event.productId,
      q = f.accept.event.quantity;
    if (!stock.has(p) || q <= 0) continue; // unknown products / nonsense quantities: invalid-accepted or phantom
    const into = f.sold ? sold : held;
    into.set(p, (into.get(p) ?? 0) + q);
    const hs = holders.get(p) ?? [];
    hs.push(`${id}×${q}${f.sold ? "" : " (held)"}`);
    holders.set(p, hs);
  }

  const products: Evaluation["products"] = [...stock].map(([productId, s]) => ({
    productId,
    stock: s,
    sold: sold.get(productId) ?? 0,
    held: held.get(productId) ?? 0,
  }));
  const excess = (p: { stock: number; sold: number; held: number }) => p.sold + p.held - p.stock;
  products.sort(
    (a, b) =>
      Math.max(0, excess(b)) - Math.max(0, excess(a)) ||
      (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0),
  );

  // oversell
  for (const p of products) {
    if (excess(p) <= 0) continue;
    const hs = holders.get(p.productId) ?? [];
    flag(
      violations.oversell,
      p.productId,
      `S(p)=${p.stock} but sold ${p.sold} + held ${p.held} = ${p.sold + p.held} (${excess(p)} ` +
        `over); orders: ${hs.slice(0, 20).join(", ")}${hs.length > 20 ? ` … +${hs.length - 20}` : ""}`,
    );
  }

  for (const [id, f] of fates) {
    const view = views.get(id);
    // duplicate: any decision type twice (two reserves, two confirms, two rejections...)
    const twice = Object.entries(f.count).filter(([, n]) => (n ?? 0) > 1);
    if (twice.length > 0)
      flag(
        violations.duplicate,
        id,
        twice.map(([t, n]) => `${n}× ${t}`).join(", ") +
          (view && view.entries.length > 1 ? ` (sent ${view.entries.length}×)` : ""),
        evidence(f.decisions),
      );
    if (f.conflict) flag(violations.conflict, id, f.conflict, evidence(f.decisions));

    // phantom: never sent, or not the order that was sent
    if (!view || !view.sent) {
      flag(
        violations.phantom,
        id,
        view
          ? "decision for an order the harness never sent (status unsent)"
          : "decision for an orderId the harness never sent",
        evidence(f.decisions),
      );
    } else {
      const o = view.first;
      const bad = f.decisions.find((d) => {
        const e = d.event;
        if (view.valid) return e.productId !== o.productId || e.quantity !== o.quantity;
        // An invalid order may be unreadable: compare only what the SUT could read.
        return (e.productId !== "" && e.productId !== o.productId) || (e.quantity !== 0 && e.quantity !== o.quantity);
      });
      if (bad)
        flag(
          violations.phantom,
          id,
          `${bad.event.type} for ${bad.event.productId}×${bad.event.quantity}, ` +
            `but the order sent was ${o.productId}×${o.quantity}`,
          evidence(f.decisions),
        );
    }

    if (view && !view.valid && f.accept)
      flag(
        violations["invalid-accepted"],
        id,
        `invalid order (${view.first.invalidKind ?? "invalid"}) was ` +
          `${f.accept.event.type === "OrderReserved" ? "reserved" : "confirmed"}`,
        evidence(f.decisions),
      );

    // stuck: (confirming SUTs) a reservation still open after TTL + grace
    if (confirms && f.held && f.firstReserved) {
      const ttl = input.reservationTtlMs ?? 0,
        grace = input.stuckGraceMs ?? DEFAULT_STUCK_GRACE_MS;
      const r = f.firstReserved;
      const reservedAt = r.recordTimestampMs > 0 ? Math.min(r.recordTimestampMs, r.seenAtMs) : r.seenAtMs;
      const openMs = input.drainEndedAtMs - reservedAt;
      if (openMs > ttl + grace)
        flag(
          violations.stuck,
          id,
          `reserved ${openMs} ms before the drain ended, neither ` +
            `confirmed nor released (TTL ${ttl} ms + grace ${grace} ms)`,
          evidence(f.decisions),
        );
    }

    // false-rejection: rejected OUT_OF_STOCK although sold(p) at the end + its quantity <= S(p)
    if (view && view.valid) {
      const oos = f.decisions.find((d) => d.event.type === "OrderRejected" && d.event.reason === "OUT_OF_STOCK");
      const p = view.first.productId,
        s = stock.get(p);
      if (oos && s !== undefined) {
        const soldP = sold.get(p) ?? 0;
        if (soldP + view.first.quantity <= s)
          flag(
            violations["false-rejection"],
            id,
            `rejected OUT_OF_STOCK for ${p}×${view.first.quantity}, but at the end sold ${soldP} of S(p)=${s}`,
            evidence(f.decisions),
          );
      }
    }
  }

  // lost: owed a decision (valid or not), none terminal at the end of the drain
  for (const v of views.values()) {
    if (!v.mustDecide) continue;
    const f = fates.get(v.orderId);
    if (f?.firstTerminal) continue;
    // confirms:true: an order left at Reserved is not lost; `stuck` judges it.
    if (confirms && f?.firstReserved) continue;
    const how = v.status === "acked" ? "acked" : "send timed out but the order is in the orders topic";
    flag(
      violations.lost,
      v.orderId,
      `${how}; no terminal decision by the end of the ` +
        `drain${f ? ` (saw ${f.decisions.map((d) => d.event.type).join(", ")})` : ""}` +
        (input.drainComplete ? "" : " (drain incomplete)"),
      f ? evidence(f.decisions) : undefined,
    );
  }

  // aborted-read: info only
  for (const d of input.abortedDecisions) {
    flag(violations["aborted-read"], d.orderId, `${d.type} seen with read_uncommitted, never committed`, [d]);
  }

  // ---- verdict
  const judged = [...new Set<CheckName>([...input.claims, ...input.expectedViolations])].filter(
    (c) => !INFO_CHECKS.includes(c),
  );
  judged.sort((a, b) => ALL_CHECKS.indexOf(a) - ALL_CHECKS.indexOf(b));
  const failing = judged.filter((c) => violations[c].count > 0);
  const missingExpected = input.expectedViolations.filter((c) => violations[c].count === 0);
  const expected: Evaluation["expected"] = input.expectedViolations.length > 0 ? "fail" : "pass";
  let verdict: Evaluation["verdict"];
  let verdictReason: string | undefined;
  const list = (cs: CheckName[]) => cs.map((c) => `${c} (${violations[c].count})`).join(", ");
  if (failing.length === 0) {
    verdict = "pass";
    if (missingExpected.length > 0)
      verdictReason = `no judged invariant violated; expected violation not observed: ${missingExpected.join(", ")}`;
  } else if (failing.every((c) => LIVENESS_CHECKS.includes(c)) && !input.drainComplete && !input.sutRunning) {
    verdict = "unknown";
    verdictReason =
      `drain deadline passed with undecided orders while no SUT instance was ` +
      `running: cannot tell ${failing.join("/")} from slow (${list(failing)})`;
  } else {
    verdict = "fail";
    verdictReason = `violated: ${list(failing)}`;
  }

  const stats = statistics(input, views, fates);
  const validLost = [...views.values()].filter(
    (v) => v.valid && v.mustDecide && !decidedEnough(fates.get(v.orderId), confirms),
  ).length;
  return {
    violations,
    verdict,
    expected,
    ...(verdictReason ? { verdictReason } : {}),
    judged,
    missingExpected,
    orders: countOrders(views, fates),
    units: {
      stock: sum(products.map((p) => p.stock)),
      sold: sum(products.map((p) => p.sold)),
      held: sum(products.map((p) => p.held)),
    },
    products: products.slice(0, MAX_PRODUCTS),
    ...stats,
    malformedDecisions: input.malformedDecisions.length,
    poison: { ...poisonImpact(input.orders, views, fates), validUndecided: validLost },
  };
}

/** Same rule as `lost`: a terminal decision, or (confirming SUTs) at least a reservation, which `stuck` judges. */
function decidedEnough(f: OrderFate | undefined, confirms: boolean): boolean {
  return Boolean(f?.firstTerminal || (confirms && f?.firstReserved));
}

/**
 * Decision latency of valid orders stored right behind an invalid record on the same orders partition
 * (the next offset), vs the other valid orders. Records are placed by their ack (partition, offset).
 */
function poisonImpact(
  orders: SentOrder[],
  views: Map<string, OrderView>,
  fates: Map<string, OrderFate>,
): Omit<Evaluation["poison"], "validUndecided"> {
  const byPartition = new Map<number, { offset: bigint; o: SentOrder }[]>();
  for (const o of orders) {
    if (o.status !== "acked" || o.partition === undefined || o.offset === undefined) continue;
    const list = byPartition.get(o.partition) ?? [];
    list.push({ offset: BigInt(o.offset), o });
    byPartition.set(o.partition, list);
  }
  const after = new LatencyRecorder(),
    other = new LatencyRecorder();
  const behindPoison = new Set<SentOrder>();
  for (const list of byPartition.values()) {
    list.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
    for (let i = 1; i < list.length; i++)
      if (!list[i - 1]!.o.valid && list[i]!.offset === list[i - 1]!.offset + 1n) behindPoison.add(list[i]!.o);
  }
  for (const o of orders) {
    const v = views.get(o.orderId);
    const t = fates.get(o.orderId)?.firstTerminal;
    if (!v || !v.valid || o.duplicateSend || o.status !== "acked" || !t) continue;
    (behindPoison.has(o) ? after : other).recordMs(t.seenAtMs - v.intendedAtMs);
  }
  const invalid = [...views.values()].filter((v) => !v.valid && v.sent).length;
  return { invalid, afterPoison: after.summary(), otherValid: other.summary() };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
// Loops, not Math.min(...xs): spreading 10^5+ values overflows the call stack.
const minOf = (xs: number[]) => xs.reduce<number | undefined>((a, b) => (a === undefined || b < a ? b : a), undefined);
const maxOf = (xs: number[]) => xs.reduce<number | undefined>((a, b) => (a === undefined || b > a ? b : a), undefined);

function countOrders(views: Map<string, OrderView>, fates: Map<string, OrderFate>): Evaluation["orders"] {
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
  for (const v of views.values()) {
    if (v.sent) c.sent++;
    if (v.status === "acked") c.acked++;
    if (v.status === "failed") c.failed++;
    if (v.status === "unknown") c.unknown++;
    if (!v.valid) c.invalid++;
    const f = fates.get(v.orderId);
    if (!f || !v.sent) continue;
    if (f.firstTerminal) c.decided++;
    if (f.count.OrderReserved) c.reserved++;
    if (f.count.OrderConfirmed) c.confirmed++;
    if (f.count.OrderRejected) c.rejected++;
    if (f.count.OrderCancelled) c.cancelled++;
    if (f.count.ReservationExpired) c.expired++;
  }
  return c;
}

/** Spans shorter than a second count as one: a burst is reported as orders in its first second. */
const perSec = (n: number, spanMs: number) => (n === 0 ? 0 : n / (Math.max(spanMs, 1000) / 1000));

function statistics(
  input: CheckInput,
  views: Map<string, OrderView>,
  fates: Map<string, OrderFate>,
): Pick<Evaluation, "latencyUs" | "throughput" | "series" | "seriesStartMs"> {
  const decision = new LatencyRecorder(),
    reserve = new LatencyRecorder(),
    ack = new LatencyRecorder(),
    sendDelay = new LatencyRecorder();
  const offered = input.orders.filter((o) => !o.duplicateSend);
  const t0 = minOf((offered.length > 0 ? offered : input.orders).map((o) => o.intendedAtMs)) ?? 0;
  const lastIntended = maxOf(offered.map((o) => o.intendedAtMs)) ?? t0;

  type Bucket = { offered: number; acked: number; decided: number; lat: number[] };
  const buckets = new Map<number, Bucket>();
  const bucket = (t: number): Bucket | undefined => {
    const i = Math.floor((t - t0) / 1000);
    if (!Number.isFinite(i) || i < 0 || i >= MAX_SERIES_BUCKETS) return undefined;
    let b = buckets.get(i);
    if (!b) buckets.set(i, (b = { offered: 0, acked: 0, decided: 0, lat: [] }));
    return b;
  };

  for (const o of input.orders) {
    if (o.sentAtMs !== undefined) sendDelay.recordMs(o.sentAtMs - o.intendedAtMs);
    if (o.sentAtMs !== undefined && o.ackAtMs !== undefined) ack.recordMs(o.ackAtMs - o.sentAtMs);
    if (!o.duplicateSend) {
      const b = bucket(o.intendedAtMs);
      if (b) b.offered++;
    }
  }

  let acked = 0,
    lastAck = t0,
    decided = 0,
    lastDecision = t0;
  for (const v of views.values()) {
    if (v.status === "acked") {
      acked++;
      const a = minOf(v.entries.map((e) => e.ackAtMs).filter((t): t is number => t !== undefined));
      if (a !== undefined) {
        lastAck = Math.max(lastAck, a);
        const b = bucket(a);
        if (b) b.acked++;
      }
    }
    const f = fates.get(v.orderId);
    if (!v.sent || !f) continue;
    if (f.firstReserved) reserve.recordMs(f.firstReserved.seenAtMs - v.intendedAtMs);
    if (!f.firstTerminal) continue;
    decided++;
    const ms = f.firstTerminal.seenAtMs - v.intendedAtMs;
    decision.recordMs(ms);
    lastDecision = Math.max(lastDecision, f.firstTerminal.seenAtMs);
    const db = bucket(f.firstTerminal.seenAtMs);
    if (db) db.decided++;
    const ib = bucket(v.intendedAtMs);
    if (ib) ib.lat.push(Math.max(0, Math.round(ms * 1000)));
  }

  const series: Evaluation["series"] = [];
  const last = maxOf([...buckets.keys()]) ?? -1;
  for (let i = 0; i <= last; i++) {
    const b = buckets.get(i) ?? { offered: 0, acked: 0, decided: 0, lat: [] };
    const row: Evaluation["series"][number] = { tSec: i, offered: b.offered, acked: b.acked, decided: b.decided };
    if (b.lat.length > 0) {
      const s = b.lat.sort((x, y) => x - y);
      row.p50Us = nearestRank(s, 50);
      row.p99Us = nearestRank(s, 99);
      row.maxUs = s[s.length - 1]!;
    }
    series.push(row);
  }

  const latencyUs: Evaluation["latencyUs"] = {
    decision: decision.summary(true),
    ack: ack.summary(),
    sendDelay: sendDelay.summary(),
  };
  if (input.confirms) latencyUs.reserve = reserve.summary();
  return {
    latencyUs,
    throughput: {
      offeredPerSec: perSec(offered.length, lastIntended - t0),
      ackedPerSec: perSec(acked, lastAck - t0),
      decidedPerSec: perSec(decided, lastDecision - t0),
    },
    series,
    ...(input.orders.length > 0 ? { seriesStartMs: t0 } : {}),
  };
}
