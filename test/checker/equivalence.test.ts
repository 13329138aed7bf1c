// The streaming judge against the old evaluate() (test/checker/legacy-evaluate.ts, the oracle): the same
// synthetic logs, with every anomaly kind planted, must give the same verdicts, counts and statistics.
import { describe, expect, it } from "vitest";
import type { Decision, DecisionType } from "../../systems-under-test/contract/events.ts";
import {
  ALL_CHECKS,
  evaluate,
  type CheckInput,
  type ObservedDecision,
  type SentOrder,
} from "../../harness/checker/index.ts";
import { evaluate as legacyEvaluate } from "./legacy-evaluate.ts";

const T0 = 1_750_000_000_000;

/** A small seeded generator (mulberry32): the logs are the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Log {
  input: CheckInput;
  planted: Set<string>;
}

/** A run's worth of orders and decisions with every anomaly kind mixed in at random. */
function syntheticLog(seed: number, confirms: boolean, n: number): Log {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  // p5 has plenty: an OUT_OF_STOCK rejection of it is a false rejection.
  const products = Array.from({ length: 6 }, (_, i) => ({
    productId: `p${i}`,
    initial: i === 5 ? 100_000 : 1 + Math.floor(r() * 4),
    restocked: i === 0 ? 2 : 0,
  }));
  const orders: SentOrder[] = [];
  const decisions: ObservedDecision[] = [];
  const planted = new Set<string>();
  const offsets = [0, 0, 0];
  const dec = (
    type: DecisionType,
    o: { orderId: string; productId: string; quantity: number },
    at: number,
    over: Record<string, unknown> = {},
    partition?: number,
  ): void => {
    const extra =
      type === "OrderRejected"
        ? { reason: pick(["OUT_OF_STOCK", "INVALID_ORDER"]) }
        : type === "OrderCancelled"
          ? { reason: "PAYMENT_FAILED" }
          : {};
    const event = {
      type,
      orderId: o.orderId,
      productId: o.productId,
      quantity: o.quantity,
      instance: "0",
      ...extra,
      ...over,
    } as Decision;
    const p = partition ?? o.orderId.length % 3;
    const seen = T0 + at;
    decisions.push({
      event,
      seenAtMs: seen,
      recordTimestampMs: r() < 0.2 ? 0 : seen - Math.floor(r() * 5),
      partition: p,
      offset: String(offsets[p]!++),
    });
  };
  for (let i = 0; i < n; i++) {
    const intended = T0 + i * 7 + (i % 5 === 0 ? 1_500 : 0);
    const product = pick(products).productId;
    const quantity = 1 + Math.floor(r() * 2);
    const status = pick<SentOrder["status"]>([
      "acked",
      "acked",
      "acked",
      "acked",
      "acked",
      "failed",
      "unknown",
      "unsent",
    ]);
    const valid = r() > 0.08;
    const o: SentOrder = {
      orderId: `o${String(i).padStart(6, "0")}`,
      productId: valid ? product : pick([product, "", "unknown-x"]),
      quantity: valid ? quantity : pick([0, -1, quantity, 2 ** 64]),
      valid,
      ...(valid ? {} : { invalidKind: pick(["bad-json", "zero-quantity", "unknown-product"]) }),
      intendedAtMs: intended,
      status,
      ...(status !== "unsent" ? { sentAtMs: intended + Math.floor(r() * 30) } : {}),
      ...(status === "acked"
        ? { ackAtMs: intended + 30 + Math.floor(r() * 50), partition: i % 2, offset: String(i) }
        : {}),
      ...(status === "unknown" ? { inTopic: r() < 0.5 } : {}),
    };
    orders.push(o);
    if (r() < 0.05 && status !== "unsent") {
      orders.push({
        ...o,
        duplicateSend: true,
        intendedAtMs: intended + 3,
        status: pick(["acked", "unknown", "failed"]),
        ackAtMs: intended + 90,
      });
      planted.add("duplicate send");
    }
    plantFate(o, i, confirms, r, pick, dec, planted);
  }
  // Decisions for orderIds never sent (phantom), and orders with no decision at all (lost).
  for (let k = 0; k < 4; k++)
    dec(
      pick(["OrderReserved", "OrderRejected", "OrderConfirmed"]),
      { orderId: `ghost-${k}`, productId: pick(products).productId, quantity: 1 },
      100 + k,
    );
  const malformedDecisions = Array.from({ length: 3 }, (_, k) => ({
    partition: 0,
    offset: String(90_000 + k),
    reason: "not JSON",
  }));
  const abortedDecisions = [
    { type: "OrderReserved", orderId: "o000001", productId: "p0", quantity: 1, instance: "0" } as Decision,
  ];
  const input: CheckInput = {
    confirms,
    claims: ["oversell", "duplicate", "conflict", "lost", "phantom", "false-rejection", "stuck", "invalid-accepted"],
    products,
    orders,
    decisions,
    malformedDecisions,
    abortedDecisions,
    reservationTtlMs: confirms ? 500 : undefined,
    drainEndedAtMs: T0 + n * 7 + 5_000,
    drainComplete: r() < 0.5,
    expectedViolations: seed % 2 ? ["oversell"] : [],
    sutRunning: r() < 0.5,
    faults: [],
  };
  return { input, planted };
}

type Dec = (
  type: DecisionType,
  o: { orderId: string; productId: string; quantity: number },
  at: number,
  over?: Record<string, unknown>,
  partition?: number,
) => void;

function plantFate(
  o: SentOrder,
  i: number,
  confirms: boolean,
  r: () => number,
  pick: <T>(xs: readonly T[]) => T,
  dec: Dec,
  planted: Set<string>,
): void {
  const at = i * 7 + 20 + Math.floor(r() * 40);
  const kind = pick([
    "ok",
    "ok",
    "ok",
    "ok",
    "reject",
    "none",
    "duplicate",
    "conflict",
    "mismatch",
    "split",
    "stuck",
    "late",
  ]);
  planted.add(kind);
  const ok = (t: number) => {
    if (confirms) {
      dec("OrderReserved", o, t);
      dec(pick(["OrderConfirmed", "OrderConfirmed", "OrderCancelled", "ReservationExpired"]), o, t + 5);
    } else dec("OrderReserved", o, t);
  };
  switch (kind) {
    case "ok":
      return ok(at);
    case "reject":
      return dec("OrderRejected", o, at);
    case "none":
      return;
    case "duplicate":
      ok(at);
      return dec(confirms ? "OrderConfirmed" : "OrderReserved", o, at + 9);
    case "conflict":
      ok(at);
      return dec("OrderRejected", o, at + 3);
    case "mismatch":
      return dec(confirms ? "OrderConfirmed" : "OrderReserved", o, at, {
        quantity: o.quantity + 1,
        productId: pick(["p1", o.productId]),
      });
    // Decisions of one order on two partitions: the order of observation decides which is first.
    case "split":
      dec("OrderReserved", o, at, {}, 0);
      return dec(confirms ? "OrderConfirmed" : "OrderRejected", o, at - 2 + Math.floor(r() * 4), {}, 1);
    case "stuck":
      return dec("OrderReserved", o, at);
    case "late":
      return dec(confirms ? "OrderConfirmed" : "OrderReserved", o, at + 4_000);
  }
}

/** The checks the old evaluate() knows (oversell-in-time came after it: test/checker/in-time.test.ts). */
const LEGACY_CHECKS = ALL_CHECKS.filter((c) => c !== "oversell-in-time");
type Comparable = Omit<ReturnType<typeof legacyEvaluate>, "inTime">;

/** Everything the report shows, except the examples' wording and what the old evaluate() never had. */
function comparable(e: Comparable & { inTime?: unknown; seriesBucketMs?: unknown }) {
  const { violations, inTime: _inTime, seriesBucketMs: _bucket, ...rest } = e;
  const { decisionPacePerSec: _pace, ...throughput } = rest.throughput;
  const counts = Object.fromEntries(LEGACY_CHECKS.map((c) => [c, violations[c].count]));
  return { counts, ...rest, throughput };
}

function exampleIds(e: Comparable): Record<string, string[]> {
  return Object.fromEntries(
    LEGACY_CHECKS.filter((c) => e.violations[c].count <= 10).map((c) => [
      c,
      e.violations[c].examples.map((x) => x.id).sort(),
    ]),
  );
}

describe("streaming judge = old evaluate()", () => {
  for (const confirms of [false, true]) {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      it(`confirms:${confirms}, seed ${seed}: same verdict, counts, orders, units, latency, series`, () => {
        const { input, planted } = syntheticLog(seed, confirms, 400);
        const old = legacyEvaluate(input),
          now = evaluate(input);
        expect(comparable(now)).toEqual(comparable(old));
        expect(exampleIds(now)).toEqual(exampleIds(old));
        // The logs do exercise what they claim to: every anomaly kind shows in the counts.
        for (const k of ["duplicate", "conflict", "mismatch", "none", "split", "duplicate send"])
          expect(planted.has(k)).toBe(true);
        for (const c of ["duplicate", "conflict", "lost", "phantom", "invalid-accepted", "aborted-read"] as const)
          expect(old.violations[c].count).toBeGreaterThan(0);
        expect(old.malformedDecisions).toBe(3);
      });
    }
  }

  it("the anomalies the random logs may miss are each seen by some seed (oversell, false-rejection, stuck)", () => {
    const seen = new Set<string>();
    for (const confirms of [false, true])
      for (const seed of [1, 2, 3, 4, 5, 6]) {
        const e = evaluate(syntheticLog(seed, confirms, 400).input);
        for (const c of ALL_CHECKS) if (e.violations[c].count > 0) seen.add(c);
      }
    expect([...seen].sort()).toEqual([...ALL_CHECKS].sort());
  });

  it("decisions given out of read order judge the same", () => {
    const { input } = syntheticLog(9, true, 200);
    const shuffled = { ...input, decisions: [...input.decisions].reverse() };
    expect(comparable(evaluate(shuffled))).toEqual(comparable(legacyEvaluate(shuffled)));
  });
});
