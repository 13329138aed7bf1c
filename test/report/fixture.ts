// A realistic synthetic result.json: three SUTs on the same orders (naive oversells and is expected to,
// keyed-transactional holds through an instance crash, saga confirms and rides out a broker restart),
// with fault windows, per-second series and percentile curves. Hostile strings stand in for user data.
import { ALL_CHECKS } from "../../harness/checker/types.ts";
import { type RunResult, resultSchema, type SutResult } from "../../harness/report/result-schema.ts";
import { Rng } from "../../harness/scenario/rng.ts";

export const XSS_PRODUCT = "<script>alert(1)</script><img src=x onerror=alert(2)>";
/** Would set window.__oversellXss if it were ever parsed as markup. */
export const XSS_DETAIL =
  `"><img src=x ` + `onerror="window.__oversellXss=1"></script><script>window.__oversellXss=2</script>\u2028&amp;`;

/** The scenario generator's seeded RNG, as a plain function. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

export interface FixtureOptions {
  runId?: string;
  seed?: number;
  scenario?: string;
  seconds?: number;
  /** Put hostile strings in product ids, example details and reasons (default true). */
  hostile?: boolean;
  sagaVerdict?: "pass" | "unknown";
}

const T0 = Date.parse("2026-11-25T12:15:00.000Z");

interface SutSpec {
  name: string;
  description: string;
  expected: "pass" | "fail";
  claims: string[];
  expectedViolations: string[];
  confirms: boolean;
  instances: number;
  baseMs: number;
  faults: { kind: string; target: string; fromSec: number; toSec: number; detail?: string }[];
  violations: Partial<Record<string, number>>;
  oversold: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function summary(samplesUs: number[], withCurve: boolean) {
  const s = [...samplesUs].sort((a, b) => a - b);
  const curve: { percentile: number; us: number }[] = [];
  if (withCurve) {
    for (let e = 0; e <= 4.0001; e += 0.125) {
      const p = 100 * (1 - 10 ** -e);
      curve.push({ percentile: Number(p.toFixed(6)), us: percentile(s, p) });
    }
    curve.push({ percentile: 100, us: s[s.length - 1]! });
  }
  return {
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    p999: percentile(s, 99.9),
    max: s[s.length - 1] ?? 0,
    count: s.length,
    mean: Math.round(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)),
    ...(withCurve ? { curve } : {}),
  };
}

function makeSut(
  spec: SutSpec,
  o: Required<Omit<FixtureOptions, "runId" | "scenario">> & { runId: string },
  index: number,
): SutResult {
  const r = rng(o.seed * 31 + index);
  const startedAtMs = T0 + 5_000 + index * 60_000;
  // The load (series tSec 0) starts after topics and instances are up, as in a real run.
  const seriesStartMs = startedAtMs + 2_500;
  const rate = 100;
  const inFault = (t: number) => spec.faults.find((f) => t >= f.fromSec && t < f.toSec);
  const series: NonNullable<SutResult["series"]> = [];
  const decisionSamples: number[] = [];
  let backlog = 0;
  for (let t = 0; t < o.seconds; t++) {
    const offered = rate + Math.round((r() - 0.5) * 10);
    const fault = inFault(t);
    const acked = fault?.kind === "broker" ? Math.round(offered * 0.3) : offered;
    backlog += acked;
    const decided =
      fault?.kind === "crash" || fault?.kind === "broker"
        ? Math.round(backlog * 0.05)
        : Math.min(backlog, Math.round(acked * 1.6));
    backlog -= decided;
    const lat: number[] = [];
    for (let k = 0; k < decided; k++) {
      const base = spec.baseMs * 1000 * Math.exp((r() - 0.3) * 1.2);
      // Orders queued behind a fault wait for it to end: a tail of up to a few seconds.
      lat.push(Math.round(backlog > 20 ? base + Math.min(backlog, 400) * 6_000 * r() : base));
    }
    decisionSamples.push(...lat);
    const s = [...lat].sort((a, b) => a - b);
    series.push({
      tSec: t,
      offered,
      acked,
      decided,
      ...(s.length ? { p50Us: percentile(s, 50), p99Us: percentile(s, 99), maxUs: s[s.length - 1]! } : {}),
    });
  }
  const ackSamples = Array.from({ length: 2000 }, () => Math.round(1500 * Math.exp(r() * 1.5)));
  const delaySamples = Array.from({ length: 2000 }, () => Math.round(100 * Math.exp(r() * 2)));
  const sent = series.reduce((a, p) => a + p.offered, 0);
  const acked = series.reduce((a, p) => a + p.acked, 0);
  const decided = series.reduce((a, p) => a + p.decided, 0);

  const products: NonNullable<SutResult["products"]> = [];
  for (let i = 0; i < 60; i++) {
    const id = o.hostile && i === 2 && spec.oversold > 0 ? XSS_PRODUCT : `sku-${String(i).padStart(4, "0")}`;
    const stock = 1 + (i % 4);
    const over = i < spec.oversold ? 1 + (i % 3) : 0;
    const sold = over > 0 ? stock + over : Math.max(0, stock - (i % 3 === 0 ? 1 : 0));
    products.push({ productId: id, stock, sold, held: spec.confirms && i % 5 === 0 && sold < stock ? 1 : 0 });
  }
  const violations: SutResult["violations"] = {};
  for (const c of ALL_CHECKS) {
    const count = spec.violations[c] ?? 0;
    const examples = Array.from({ length: Math.min(count, 3) }, (_, k) => {
      const orderA = `o-${o.seed}-${index}-${k}a`;
      const orderB = `o-${o.seed}-${index}-${k}b`;
      const productId = o.hostile && k === 0 ? XSS_PRODUCT : `sku-${String(k).padStart(4, "0")}`;
      return {
        id: c === "oversell" ? productId : orderA,
        detail:
          c === "oversell"
            ? `stock 1, sold 2: reserved ${orderA} and ${orderB}${o.hostile && k === 0 ? ` ${XSS_DETAIL}` : ""}`
            : `${c}: ${orderA} (${o.hostile ? XSS_DETAIL : "see events"})`,
        events: [
          { type: "OrderReserved", orderId: orderA, productId, quantity: 1, instance: "instance-0" },
          {
            type: "OrderReserved",
            orderId: orderB,
            productId,
            quantity: 1,
            instance: "instance-1",
            reason: o.hostile ? XSS_DETAIL : undefined,
          },
        ],
      };
    });
    violations[c] = { count, examples };
  }
  const faults = spec.faults.map((f) => ({
    kind: f.kind,
    target: f.target,
    at: seriesStartMs + f.fromSec * 1000,
    until: seriesStartMs + f.toSec * 1000,
    ...(f.detail ? { detail: f.detail } : {}),
  }));
  const durationMs = o.seconds * 1000;
  const verdict: SutResult["verdict"] = spec.name === "saga" && o.sagaVerdict === "unknown" ? "unknown" : spec.expected;
  return {
    name: spec.name,
    namespace: `oversell.${o.runId}.${spec.name}`,
    description: spec.description,
    instances: spec.instances,
    claims: spec.claims,
    expectedViolations: spec.expectedViolations,
    confirms: spec.confirms,
    expected: spec.expected,
    verdict,
    ...(verdict === "unknown"
      ? { verdictReason: "drain deadline passed with 41 acknowledged orders undecided and no instance running" }
      : {}),
    violations,
    orders: {
      sent,
      acked,
      decided,
      reserved: Math.round(decided * 0.42),
      confirmed: spec.confirms ? Math.round(decided * 0.4) : 0,
      rejected: Math.round(decided * 0.55),
      cancelled: spec.confirms ? 12 : 0,
      expired: spec.confirms ? 3 : 0,
      invalid: 5,
      failed: 0,
      unknown: 2,
    },
    units: {
      stock: products.reduce((a, p) => a + p.stock, 0),
      sold: products.reduce((a, p) => a + p.sold, 0),
      held: products.reduce((a, p) => a + p.held, 0),
    },
    products,
    latencyUs: {
      decision: summary(decisionSamples, true),
      ack: summary(ackSamples, true),
      sendDelay: summary(delaySamples, false),
    },
    throughput: { offeredPerSec: sent / o.seconds, decidedPerSec: decided / o.seconds, ackedPerSec: acked / o.seconds },
    series,
    faults,
    crashes: spec.name === "saga" ? [{ instance: "instance-1", code: 1 }] : [],
    startedAtMs,
    seriesStartMs,
    durationMs,
  };
}

export function buildRunResult(opts: FixtureOptions = {}): RunResult {
  const o = {
    runId: opts.runId ?? "20261125T121500-ab12",
    seed: opts.seed ?? 7,
    seconds: opts.seconds ?? 40,
    hostile: opts.hostile ?? true,
    sagaVerdict: opts.sagaVerdict ?? "pass",
  };
  const specs: SutSpec[] = [
    {
      name: "naive",
      description: "checks stock in one step and decrements it in another (the race)",
      expected: "fail",
      claims: [],
      expectedViolations: ["oversell"],
      confirms: false,
      instances: 2,
      baseMs: 3,
      faults: [{ kind: "crash", target: "instance-1", fromSec: 12, toSec: 17, detail: "SIGKILL, restart after 5 s" }],
      violations: { oversell: 12, "false-rejection": 4 },
      oversold: 12,
    },
    {
      name: "keyed-transactional",
      description: "orders re-keyed by product; check and reserve in one Kafka transaction",
      expected: "pass",
      claims: ["oversell", "duplicate", "conflict", "lost", "phantom"],
      expectedViolations: [],
      confirms: false,
      instances: 2,
      baseMs: 6,
      faults: [{ kind: "crash", target: "instance-1", fromSec: 12, toSec: 17, detail: "SIGKILL, restart after 5 s" }],
      violations: { "aborted-read": 3 },
      oversold: 0,
    },
    {
      name: "saga",
      description: "reserve, then confirm or cancel; reservations expire",
      expected: "pass",
      claims: ["oversell", "duplicate", "conflict", "lost", "phantom", "stuck"],
      expectedViolations: [],
      confirms: true,
      instances: 2,
      baseMs: 9,
      faults: [
        { kind: "broker", target: "broker-1", fromSec: 20, toSec: 26, detail: "restart" },
        { kind: "pause", target: "instance-0", fromSec: 30, toSec: 33 },
      ],
      violations: { "false-rejection": 2 },
      oversold: 0,
    },
  ];
  const suts = specs.map((s, i) => makeSut(s, o, i));
  const verdict: RunResult["verdict"] = suts.some((s) => s.verdict === "unknown")
    ? "unknown"
    : suts.every((s) => s.verdict === s.expected)
      ? "pass"
      : "fail";
  const scenario = opts.scenario ?? "last-unit";
  return resultSchema.parse({
    schemaVersion: 1,
    runId: o.runId,
    startedAt: new Date(T0).toISOString(),
    finishedAt: new Date(T0 + 200_000).toISOString(),
    seed: o.seed,
    scenario: {
      name: scenario,
      products: 60,
      stockPerProduct: "1-4",
      ordersPerProduct: 4,
      ratePerSec: 100,
      durationSec: o.seconds,
    },
    kafka: { version: "4.1.1", brokers: 1, bootstrap: "127.0.0.1:39092", embedded: true },
    verdict,
    suts,
    environment: {
      node: "v20.20.2",
      platform: "linux x64",
      cpus: 2,
      memoryGiB: 23.4,
      clients: { kafkajs: "2.2.4", "hdr-histogram-js": "3.0.1" },
    },
    command: `npm run bench -- --scenario ${scenario} --faults crash,broker,pause --seed ${o.seed}`,
  });
}
