// evaluate() on synthetic histories: each invariant is flagged when its anomaly is planted, and only then.
import { describe, expect, it } from "vitest";
import type { Decision, DecisionType } from "../../systems-under-test/contract/events.ts";
import {
  ALL_CHECKS,
  evaluate,
  type CheckInput,
  type CheckName,
  type ObservedDecision,
  type SentOrder,
} from "../../harness/checker/index.ts";

const T0 = 1_750_000_000_000;
let nextOffset = 0;

function order(orderId: string, productId: string, quantity = 1, over: Partial<SentOrder> = {}): SentOrder {
  return {
    orderId,
    productId,
    quantity,
    valid: true,
    intendedAtMs: T0,
    sentAtMs: T0 + 1,
    ackAtMs: T0 + 3,
    status: "acked",
    ...over,
  };
}

/** A decision seen atMs after T0, for the order's own product and quantity unless overridden. */
function dec(
  type: DecisionType,
  o: Pick<SentOrder, "orderId" | "productId" | "quantity">,
  atMs: number,
  over: Partial<Record<string, unknown>> = {},
  partition = 0,
): ObservedDecision {
  const extra =
    type === "OrderRejected"
      ? { reason: "OUT_OF_STOCK" }
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
  return { event, seenAtMs: T0 + atMs, recordTimestampMs: T0 + atMs, partition, offset: String(nextOffset++) };
}

function input(over: Partial<CheckInput>): CheckInput {
  return {
    confirms: false,
    claims: [],
    products: [],
    orders: [],
    decisions: [],
    malformedDecisions: [],
    abortedDecisions: [],
    drainEndedAtMs: T0 + 60_000,
    drainComplete: true,
    expectedViolations: [],
    sutRunning: true,
    faults: [],
    ...over,
  };
}

const stock = (productId: string, initial: number, restocked = 0) => ({ productId, initial, restocked });
const counts = (e: ReturnType<typeof evaluate>) =>
  Object.fromEntries(ALL_CHECKS.map((c) => [c, e.violations[c].count])) as Record<CheckName, number>;
const zero = Object.fromEntries(ALL_CHECKS.map((c) => [c, 0]));
const claimsAll: CheckInput["claims"] = [
  "oversell",
  "duplicate",
  "conflict",
  "lost",
  "phantom",
  "false-rejection",
  "stuck",
  "invalid-accepted",
];

describe("evaluate: a clean run", () => {
  it("reports every check with count 0 and passes, for a non-confirming SUT", () => {
    const a = order("a", "p1"),
      b = order("b", "p1"),
      c = order("c", "p2", 2),
      d = order("d", "p2");
    const e = evaluate(
      input({
        claims: claimsAll,
        products: [stock("p1", 1), stock("p2", 2)],
        orders: [a, b, c, d],
        decisions: [
          dec("OrderReserved", a, 10),
          dec("OrderRejected", b, 12),
          dec("OrderReserved", c, 11),
          dec("OrderRejected", d, 13),
        ],
      }),
    );
    expect(Object.keys(e.violations).sort()).toEqual([...ALL_CHECKS].sort());
    expect(counts(e)).toEqual(zero);
    expect(e.verdict).toBe("pass");
    expect(e.expected).toBe("pass");
    expect(e.verdictReason).toBeUndefined();
    expect(e.units).toEqual({ stock: 3, sold: 3, held: 0 });
    expect(e.orders).toMatchObject({ sent: 4, acked: 4, decided: 4, reserved: 2, confirmed: 0, rejected: 2 });
  });
});

describe("evaluate: oversell", () => {
  it("flags a product whose sold units exceed S(p), naming the orders", () => {
    const a = order("a", "p1"),
      b = order("b", "p1"),
      c = order("c", "p2");
    const e = evaluate(
      input({
        products: [stock("p1", 1), stock("p2", 1)],
        orders: [a, b, c],
        decisions: [dec("OrderReserved", a, 5), dec("OrderReserved", b, 6), dec("OrderReserved", c, 7)],
        expectedViolations: ["oversell"],
      }),
    );
    expect(e.violations.oversell.count).toBe(1);
    expect(e.violations.oversell.examples[0]!.id).toBe("p1");
    expect(e.violations.oversell.examples[0]!.detail).toContain("a×1");
    expect(e.violations.oversell.examples[0]!.detail).toContain("b×1");
    expect(e.products[0]).toEqual({ productId: "p1", stock: 1, sold: 2, held: 0 });
    // naive SUT: claims nothing, expected to be caught overselling
    expect(e.verdict).toBe("fail");
    expect(e.expected).toBe("fail");
    expect(e.missingExpected).toEqual([]);
  });

  it("counts quantities and restocks into S(p)", () => {
    const a = order("a", "p", 2),
      b = order("b", "p", 2),
      c = order("c", "p", 1);
    const base = { claims: ["oversell"] as CheckInput["claims"], products: [stock("p", 2, 3)] };
    const ok = evaluate(
      input({
        ...base,
        orders: [a, b, c],
        decisions: [dec("OrderReserved", a, 1), dec("OrderReserved", b, 2), dec("OrderReserved", c, 3)],
      }),
    );
    expect(ok.violations.oversell.count).toBe(0);
    expect(ok.units).toEqual({ stock: 5, sold: 5, held: 0 });
    expect(ok.verdict).toBe("pass");

    const d = order("d", "p", 1);
    const over = evaluate(
      input({
        ...base,
        orders: [a, b, c, d],
        decisions: [
          dec("OrderReserved", a, 1),
          dec("OrderReserved", b, 2),
          dec("OrderReserved", c, 3),
          dec("OrderReserved", d, 4),
        ],
      }),
    );
    expect(over.violations.oversell.count).toBe(1);
    expect(over.verdict).toBe("fail");
  });

  it("lets a released reservation's unit go to another order (saga), but counts an open one as held", () => {
    const a = order("a", "p"),
      b = order("b", "p"),
      c = order("c", "p");
    const base = {
      confirms: true,
      claims: claimsAll,
      products: [stock("p", 1)],
      orders: [a, b, c],
      reservationTtlMs: 1_000,
    };
    const released = evaluate(
      input({
        ...base,
        decisions: [
          dec("OrderReserved", a, 1),
          dec("ReservationExpired", a, 1_001),
          dec("OrderReserved", b, 1_002),
          dec("OrderCancelled", b, 1_010),
          dec("OrderReserved", c, 1_011),
          dec("OrderConfirmed", c, 1_020),
        ],
      }),
    );
    expect(counts(released)).toEqual(zero);
    expect(released.units).toEqual({ stock: 1, sold: 1, held: 0 });
    expect(released.orders).toMatchObject({ decided: 3, reserved: 3, confirmed: 1, cancelled: 1, expired: 1 });
    expect(released.verdict).toBe("pass");

    // a never released, c confirmed: the unit is held and sold at once
    const open = evaluate(
      input({
        ...base,
        orders: [a, c],
        decisions: [dec("OrderReserved", a, 1), dec("OrderReserved", c, 2), dec("OrderConfirmed", c, 3)],
      }),
    );
    expect(open.violations.oversell.count).toBe(1);
    expect(open.units).toEqual({ stock: 1, sold: 1, held: 1 });
  });

  it("lists oversold products first", () => {
    const os = ["x", "y"].map((id) => order(id, "z-oversold"));
    const e = evaluate(
      input({
        products: [stock("a-fine", 5), stock("z-oversold", 1)],
        orders: os,
        decisions: os.map((o, i) => dec("OrderReserved", o, i)),
      }),
    );
    expect(e.products.map((p) => p.productId)).toEqual(["z-oversold", "a-fine"]);
  });
});

describe("evaluate: duplicate", () => {
  it("flags two reservations, or any decision type twice, for one orderId", () => {
    const a = order("a", "p"),
      b = order("b", "p");
    const e = evaluate(
      input({
        claims: ["duplicate"],
        products: [stock("p", 5)],
        orders: [a, b],
        decisions: [
          dec("OrderReserved", a, 1),
          dec("OrderReserved", a, 2),
          dec("OrderRejected", b, 1),
          dec("OrderRejected", b, 3),
        ],
      }),
    );
    expect(e.violations.duplicate.count).toBe(2);
    expect(e.violations.duplicate.examples.map((x) => x.id).sort()).toEqual(["a", "b"]);
    expect(e.violations.duplicate.examples[0]!.events).toHaveLength(2);
    expect(e.verdict).toBe("fail");
  });

  it("accepts an order sent twice on purpose when it is decided once, and flags it when decided twice", () => {
    const first = order("a", "p", 1, { intendedAtMs: T0 });
    const retry = order("a", "p", 1, {
      intendedAtMs: T0 + 50,
      sentAtMs: T0 + 51,
      ackAtMs: T0 + 53,
      duplicateSend: true,
    });
    const base = { claims: claimsAll, products: [stock("p", 1)], orders: [first, retry] };
    const once = evaluate(input({ ...base, decisions: [dec("OrderReserved", first, 10)] }));
    expect(counts(once)).toEqual(zero);
    expect(once.orders).toMatchObject({ sent: 1, acked: 1, decided: 1 });
    expect(once.series.reduce((s, b) => s + b.offered, 0)).toBe(1);
    expect(once.latencyUs.decision.max).toBe(10_000); // from the first intended send

    const twice = evaluate(
      input({ ...base, decisions: [dec("OrderReserved", first, 10), dec("OrderReserved", first, 60)] }),
    );
    expect(twice.violations.duplicate.count).toBe(1);
    expect(twice.violations.duplicate.examples[0]!.detail).toContain("sent 2×");
    expect(twice.violations.oversell.count).toBe(0); // one order holds its units once
  });
});

describe("evaluate: conflict", () => {
  const a = order("a", "p");
  const run = (confirms: boolean, types: DecisionType[]) =>
    evaluate(
      input({
        confirms,
        claims: ["conflict"],
        products: [stock("p", 10)],
        orders: [a],
        decisions: types.map((t, i) => dec(t, a, i + 1)),
      }),
    );

  it("non-confirming SUT: OrderReserved and OrderRejected are both final, so together they conflict", () => {
    expect(run(false, ["OrderReserved", "OrderRejected"]).violations.conflict.count).toBe(1);
    expect(run(false, ["OrderRejected", "OrderReserved"]).verdict).toBe("fail");
    expect(run(false, ["OrderReserved"]).violations.conflict.count).toBe(0);
    expect(run(false, ["OrderRejected"]).violations.conflict.count).toBe(0);
    // a release is not part of its protocol: reserved then cancelled is two outcomes
    expect(run(false, ["OrderReserved", "OrderCancelled"]).violations.conflict.count).toBe(1);
  });

  it("confirming SUT: Reserved is a step; Confirmed/Cancelled/Expired exclusive; Rejected alone", () => {
    expect(run(true, ["OrderReserved", "OrderConfirmed"]).violations.conflict.count).toBe(0);
    expect(run(true, ["OrderReserved", "OrderCancelled"]).violations.conflict.count).toBe(0);
    expect(run(true, ["OrderReserved", "ReservationExpired"]).violations.conflict.count).toBe(0);
    expect(run(true, ["OrderRejected"]).violations.conflict.count).toBe(0);
    const late = run(true, ["OrderReserved", "ReservationExpired", "OrderConfirmed"]);
    expect(late.violations.conflict.count).toBe(1);
    expect(late.violations.conflict.examples[0]!.detail).toContain("ReservationExpired → OrderConfirmed");
    expect(run(true, ["OrderReserved", "OrderCancelled", "OrderConfirmed"]).violations.conflict.count).toBe(1);
    expect(run(true, ["OrderReserved", "OrderRejected"]).violations.conflict.count).toBe(1);
    expect(run(true, ["OrderRejected", "OrderConfirmed"]).violations.conflict.count).toBe(1);
  });
});

describe("evaluate: lost", () => {
  it("flags an acked order, valid or not, with no terminal decision", () => {
    const a = order("a", "p"),
      bad = order("bad", "", 0, { valid: false, invalidKind: "bad-json" }),
      ok = order("ok", "p");
    const e = evaluate(
      input({
        claims: ["lost"],
        products: [stock("p", 5)],
        orders: [a, bad, ok],
        decisions: [dec("OrderReserved", ok, 5)],
      }),
    );
    expect(e.violations.lost.count).toBe(2);
    expect(e.violations.lost.examples.map((x) => x.id).sort()).toEqual(["a", "bad"]);
    expect(e.verdict).toBe("fail");
  });

  it("expects no decision for failed, unsent or timed-out orders the broker does not have", () => {
    const failed = order("f", "p", 1, { status: "failed", ackAtMs: undefined });
    const unsent = order("u", "p", 1, { status: "unsent", sentAtMs: undefined, ackAtMs: undefined });
    const notStored = order("n", "p", 1, { status: "unknown", inTopic: false, ackAtMs: undefined });
    const stored = order("s", "p", 1, { status: "unknown", inTopic: true, ackAtMs: undefined });
    const e = evaluate(
      input({ claims: ["lost"], products: [stock("p", 5)], orders: [failed, unsent, notStored, stored] }),
    );
    expect(e.violations.lost.count).toBe(1);
    expect(e.violations.lost.examples[0]!.id).toBe("s");
    expect(e.orders).toMatchObject({ sent: 3, acked: 0, failed: 1, unknown: 2 });

    const decided = evaluate(
      input({
        claims: ["lost"],
        products: [stock("p", 5)],
        orders: [failed, unsent, notStored, stored],
        decisions: [dec("OrderRejected", stored, 9)],
      }),
    );
    expect(decided.violations.lost.count).toBe(0);
  });

  it("confirming SUT: an order left at Reserved is not lost (stuck judges it)", () => {
    const a = order("a", "p");
    const e = evaluate(
      input({
        confirms: true,
        claims: ["lost", "stuck"],
        products: [stock("p", 1)],
        orders: [a],
        decisions: [dec("OrderReserved", a, 5)],
        reservationTtlMs: 1_000,
        stuckGraceMs: 500,
      }),
    );
    expect(e.violations.lost.count).toBe(0);
    expect(e.violations.stuck.count).toBe(1);
    expect(e.orders.decided).toBe(0);
    expect(e.units.held).toBe(1);
  });
});

describe("evaluate: phantom", () => {
  it("flags decisions for orders never sent, and decisions naming another product or quantity", () => {
    const a = order("a", "p", 2),
      b = order("b", "p", 1),
      unsent = order("u", "p", 1, { status: "unsent", sentAtMs: undefined, ackAtMs: undefined });
    const failed = order("f", "p", 1, { status: "failed", ackAtMs: undefined });
    const e = evaluate(
      input({
        claims: ["phantom"],
        products: [stock("p", 10), stock("q", 10)],
        orders: [a, b, unsent, failed],
        decisions: [
          dec("OrderReserved", { orderId: "ghost", productId: "p", quantity: 1 }, 1),
          dec("OrderReserved", a, 2, { quantity: 1 }),
          dec("OrderReserved", b, 3, { productId: "q" }),
          dec("OrderRejected", unsent, 4),
          dec("OrderRejected", failed, 5), // the broker may have stored it despite the error: not phantom
        ],
      }),
    );
    expect(e.violations.phantom.count).toBe(4);
    expect(e.violations.phantom.examples.map((x) => x.id).sort()).toEqual(["a", "b", "ghost", "u"]);
    expect(e.verdict).toBe("fail");
  });

  it("does not compare what the SUT could not read from an invalid order", () => {
    const badJson = order("j", "p", 1, { valid: false, invalidKind: "bad-json" });
    const negative = order("n", "p", -2, { valid: false, invalidKind: "quantity<=0" });
    const e = evaluate(
      input({
        claims: ["phantom", "invalid-accepted"],
        products: [stock("p", 10)],
        orders: [badJson, negative],
        decisions: [
          dec("OrderRejected", badJson, 1, { productId: "", quantity: 0, reason: "INVALID" }),
          dec("OrderRejected", negative, 2, { reason: "INVALID" }),
        ],
      }),
    );
    expect(counts(e)).toEqual(zero);
    expect(e.orders.invalid).toBe(2);
  });
});

describe("evaluate: false-rejection", () => {
  it("counts an OUT_OF_STOCK rejection while stock was left, and judges it only if claimed", () => {
    const a = order("a", "p"),
      b = order("b", "p");
    const base = {
      products: [stock("p", 2)],
      orders: [a, b],
      decisions: [dec("OrderReserved", a, 1), dec("OrderRejected", b, 2)],
    };
    const info = evaluate(input({ ...base, claims: ["oversell"] }));
    expect(info.violations["false-rejection"].count).toBe(1);
    expect(info.verdict).toBe("pass");
    expect(evaluate(input({ ...base, claims: ["false-rejection"] })).verdict).toBe("fail");

    const soldOut = evaluate(input({ ...base, products: [stock("p", 1)], claims: ["false-rejection"] }));
    expect(soldOut.violations["false-rejection"].count).toBe(0);
    expect(soldOut.verdict).toBe("pass");
  });

  it("uses the rejected order's quantity", () => {
    const a = order("a", "p", 1),
      big = order("big", "p", 3);
    const e = evaluate(
      input({
        products: [stock("p", 3)],
        orders: [a, big],
        decisions: [dec("OrderReserved", a, 1), dec("OrderRejected", big, 2)],
      }),
    );
    expect(e.violations["false-rejection"].count).toBe(0); // 1 sold + 3 > 3
  });
});

describe("evaluate: stuck", () => {
  const a = order("a", "p");
  const run = (confirms: boolean, drainEndedAtMs: number) =>
    evaluate(
      input({
        confirms,
        claims: ["stuck"],
        products: [stock("p", 1)],
        orders: [a],
        decisions: [dec("OrderReserved", a, 1_000)],
        reservationTtlMs: 1_000,
        stuckGraceMs: 500,
        drainEndedAtMs,
      }),
    );

  it("flags a reservation still open after TTL + grace", () => {
    const e = run(true, T0 + 5_000);
    expect(e.violations.stuck.count).toBe(1);
    expect(e.verdict).toBe("fail");
  });

  it("does not flag one still inside TTL + grace, nor anything for a non-confirming SUT", () => {
    expect(run(true, T0 + 2_000).violations.stuck.count).toBe(0);
    expect(run(false, T0 + 5_000).violations.stuck.count).toBe(0);
  });

  it("does not flag a reservation that was confirmed", () => {
    const e = evaluate(
      input({
        confirms: true,
        claims: ["stuck"],
        products: [stock("p", 1)],
        orders: [a],
        decisions: [dec("OrderReserved", a, 1), dec("OrderConfirmed", a, 2)],
        reservationTtlMs: 1_000,
        drainEndedAtMs: T0 + 60_000,
      }),
    );
    expect(e.violations.stuck.count).toBe(0);
  });
});

describe("evaluate: invalid-accepted and aborted-read", () => {
  it("flags an invalid order that was reserved, not one that was rejected", () => {
    const unknownProduct = order("x", "nope", 1, { valid: false, invalidKind: "unknown-product" });
    const zeroQty = order("z", "p", 0, { valid: false, invalidKind: "quantity<=0" });
    const e = evaluate(
      input({
        claims: ["invalid-accepted"],
        products: [stock("p", 5)],
        orders: [unknownProduct, zeroQty],
        decisions: [dec("OrderReserved", unknownProduct, 1), dec("OrderRejected", zeroQty, 2, { reason: "INVALID" })],
      }),
    );
    expect(e.violations["invalid-accepted"].count).toBe(1);
    expect(e.violations["invalid-accepted"].examples[0]!.id).toBe("x");
    expect(e.verdict).toBe("fail");
  });

  it("reports aborted decisions as information only", () => {
    const a = order("a", "p");
    const aborted = [
      dec("OrderReserved", a, 1).event,
      dec("OrderReserved", { orderId: "b", productId: "p", quantity: 1 }, 1).event,
    ];
    const e = evaluate(
      input({
        claims: claimsAll,
        expectedViolations: [],
        products: [stock("p", 1)],
        orders: [a],
        decisions: [dec("OrderReserved", a, 2)],
        abortedDecisions: aborted,
      }),
    );
    expect(e.violations["aborted-read"].count).toBe(2);
    expect(e.judged).not.toContain("aborted-read");
    expect(e.verdict).toBe("pass");
  });
});

describe("evaluate: verdict", () => {
  const a = order("a", "p");
  const undecided = (over: Partial<CheckInput>) =>
    evaluate(input({ claims: ["lost", "oversell"], products: [stock("p", 1)], orders: [a], ...over }));

  it("is unknown when orders are undecided, the drain ran out and no SUT instance was running", () => {
    const e = undecided({ drainComplete: false, sutRunning: false });
    expect(e.violations.lost.count).toBe(1);
    expect(e.verdict).toBe("unknown");
    expect(e.verdictReason).toMatch(/no SUT instance was running/);
  });

  it("is fail when the SUT was running, or the drain completed", () => {
    expect(undecided({ drainComplete: false, sutRunning: true }).verdict).toBe("fail");
    expect(undecided({ drainComplete: true, sutRunning: false }).verdict).toBe("fail");
  });

  it("is fail when another judged invariant is violated, whatever the drain", () => {
    const b = order("b", "p"),
      c = order("c", "p");
    const e = undecided({
      orders: [a, b, c],
      decisions: [dec("OrderReserved", b, 1), dec("OrderReserved", c, 2)],
      drainComplete: false,
      sutRunning: false,
    });
    expect(e.verdict).toBe("fail");
    expect(e.verdictReason).toContain("oversell (1)");
  });

  it("does not judge lost when it is neither claimed nor expected", () => {
    const e = evaluate(input({ claims: ["oversell"], products: [stock("p", 1)], orders: [a] }));
    expect(e.violations.lost.count).toBe(1);
    expect(e.verdict).toBe("pass");
  });

  it("expects fail for expectedViolations and names those not observed", () => {
    const e = evaluate(
      input({
        claims: [],
        expectedViolations: ["oversell"],
        products: [stock("p", 1)],
        orders: [a],
        decisions: [dec("OrderReserved", a, 1)],
      }),
    );
    expect(e.expected).toBe("fail");
    expect(e.verdict).toBe("pass");
    expect(e.missingExpected).toEqual(["oversell"]);
    expect(e.verdictReason).toContain("oversell");
  });
});

describe("evaluate: latency, throughput, series", () => {
  it("computes decision latency from the intended send (100 orders decided 1..100 ms later)", () => {
    const orders: SentOrder[] = [];
    const decisions: ObservedDecision[] = [];
    for (let i = 1; i <= 100; i++) {
      const o = order(`o${i}`, "p", 1, {
        intendedAtMs: T0 + i * 10,
        sentAtMs: T0 + i * 10 + 2,
        ackAtMs: T0 + i * 10 + 7,
      });
      orders.push(o);
      decisions.push(dec("OrderRejected", o, i * 10 + i));
    }
    const e = evaluate(input({ products: [stock("p", 0)], orders, decisions }));
    const d = e.latencyUs.decision;
    expect(d.count).toBe(100);
    expect(d.p50).toBeGreaterThanOrEqual(50_000 * 0.99);
    expect(d.p50).toBeLessThanOrEqual(50_000 * 1.01);
    expect(d.p90).toBeGreaterThanOrEqual(90_000 * 0.99);
    expect(d.p90).toBeLessThanOrEqual(90_000 * 1.01);
    expect(d.p99).toBeGreaterThanOrEqual(99_000 * 0.99);
    expect(d.max).toBe(100_000);
    expect(d.mean).toBe(50_500);
    expect(e.latencyUs.ack).toMatchObject({ p50: 5_000, max: 5_000, count: 100 });
    expect(e.latencyUs.sendDelay).toMatchObject({ p50: 2_000, max: 2_000, count: 100 });

    const curve = d.curve!;
    expect(curve[0]!.percentile).toBe(0);
    expect(curve.at(-1)).toEqual({ percentile: 100, us: 100_000 });
    expect(curve.some((c) => Math.abs(c.percentile - 99.999) < 1e-9)).toBe(true);
    for (let i = 1; i < curve.length; i++) {
      expect(curve[i]!.percentile).toBeGreaterThan(curve[i - 1]!.percentile);
      expect(curve[i]!.us).toBeGreaterThanOrEqual(curve[i - 1]!.us);
    }
    // 100 orders intended over 0.99 s (a span under 1 s counts as 1 s)
    expect(e.throughput.offeredPerSec).toBeCloseTo(100, 5);
  });

  it("does not hide a stall: latency runs from the intended time, not the (late) actual send", () => {
    const o = order("late", "p", 1, { intendedAtMs: T0, sentAtMs: T0 + 3_000, ackAtMs: T0 + 3_001 });
    const e = evaluate(input({ products: [stock("p", 1)], orders: [o], decisions: [dec("OrderReserved", o, 3_010)] }));
    expect(e.latencyUs.decision.max).toBe(3_010_000);
    expect(e.latencyUs.sendDelay.max).toBe(3_000_000);
  });

  it("reports the first reservation separately for a confirming SUT", () => {
    const o = order("a", "p");
    const e = evaluate(
      input({
        confirms: true,
        products: [stock("p", 1)],
        orders: [o],
        decisions: [dec("OrderReserved", o, 20), dec("OrderConfirmed", o, 70)],
      }),
    );
    expect(e.latencyUs.reserve?.max).toBe(20_000);
    expect(e.latencyUs.decision.max).toBe(70_000);
  });

  it("leaves the warm-up out of latency and throughput, not out of the series or the verdict", () => {
    const orders: SentOrder[] = [];
    const decisions: ObservedDecision[] = [];
    // 40 orders, one per 100 ms; those of the first second are decided 3 s late, the rest 20 ms late.
    for (let i = 0; i < 40; i++) {
      const o = order(`w${i}`, "p", 1, { intendedAtMs: T0 + i * 100, sentAtMs: T0 + i * 100 + 1 });
      orders.push(o);
      decisions.push(dec("OrderRejected", o, i * 100 + (i < 10 ? 3_000 : 20)));
    }
    const all = evaluate(input({ products: [stock("p", 0)], orders, decisions }));
    const warm = evaluate(input({ products: [stock("p", 0)], orders, decisions, warmupMs: 1_000 }));
    expect(all.latencyUs.decision.max).toBe(3_000_000);
    expect(warm.latencyUs.decision).toMatchObject({ count: 30, max: 20_000 });
    expect(warm.latencyUs.sendDelay.count).toBe(40); // the harness's own delay counts from the first order
    // 30 orders intended over 2.9 s after the warm-up, not 40 over 3.9 s
    expect(warm.throughput.offeredPerSec).toBeCloseTo(30 / 2.9, 5);
    expect(warm.series).toEqual(all.series);
    expect(warm.verdict).toBe(all.verdict);
    expect(warm.orders).toEqual(all.orders);
  });

  it("buckets offered/acked/decided per second from the first intended send", () => {
    const orders: SentOrder[] = [];
    const decisions: ObservedDecision[] = [];
    for (let i = 0; i < 30; i++) {
      const o = order(`s${i}`, "p", 1, {
        intendedAtMs: T0 + i * 100,
        sentAtMs: T0 + i * 100,
        ackAtMs: T0 + i * 100 + 5,
      });
      orders.push(o);
      // orders of the last second are decided 2 s late
      decisions.push(dec("OrderRejected", o, i * 100 + (i >= 20 ? 2_000 : 50)));
    }
    const e = evaluate(input({ products: [stock("p", 0)], orders, decisions }));
    expect(e.series.map((b) => b.offered)).toEqual([10, 10, 10, 0, 0]);
    expect(e.series.map((b) => b.acked)).toEqual([10, 10, 10, 0, 0]);
    expect(e.series.map((b) => b.decided)).toEqual([10, 10, 0, 0, 10]);
    expect(e.series[0]!.p50Us).toBe(50_000);
    expect(e.series[2]!.maxUs).toBe(2_000_000);
    expect(e.series[3]!.p50Us).toBeUndefined();
    expect(e.throughput.offeredPerSec).toBeCloseTo(30 / 2.9, 5);
    expect(e.throughput.decidedPerSec).toBeCloseTo(30 / 4.9, 5);
    expect(e.orders.decided).toBe(30);
    // tSec 0 is the first intended send: the report places fault times against it.
    expect(e.seriesStartMs).toBe(T0);
    expect(evaluate(input({ products: [stock("p", 0)], orders: [], decisions: [] })).seriesStartMs).toBeUndefined();
  });
});
