// `npm run k6 -- export`: a k6 script that delivers a scenario's seeded order stream to the order gateway, open loop,
// for users whose load runs on k6 (one machine, k6-operator, k6 Cloud). The executor matches the scenario's timing
// (rate: constant-arrival-rate, ramp: ramping-arrival-rate, burst: constant-arrival-rate over the window);
// iteration i sends order i of the stream at its intended time (test start + its offset), stating intendedAtMs and
// sentAtMs in the body, so `check --from-topics` measures latency from the schedule, not from the send.
// The orders go to a JSON file beside the script, read once into a SharedArray (not one copy per VU).
import { basename } from "node:path";
import type { GeneratedOrder, GeneratedStream } from "../scenario/generate.ts";

/** One order in the data file: [offset ms, orderId, body JSON without the times (or the raw text), 1 if raw]. */
export type K6Order = [number, string, string, 0 | 1];

/** The executor of the orders, as k6's options take it (k6/options ConstantArrivalRate/RampingArrivalRate). */
export type K6Executor =
  | {
      executor: "constant-arrival-rate";
      exec: "order";
      rate: number;
      timeUnit: string;
      duration: string;
      startTime: string;
      preAllocatedVUs: number;
      maxVUs: number;
    }
  | {
      executor: "ramping-arrival-rate";
      exec: "order";
      startRate: number;
      timeUnit: string;
      stages: { duration: string; target: number }[];
      preAllocatedVUs: number;
      maxVUs: number;
    };

/** Where the orders executor starts, ms after the test start: intended times count from the test start. */
export function executorStartMs(stream: GeneratedStream): number {
  const t = stream.scenario.timing;
  return t.kind === "burst" ? t.startMs : 0;
}

/** k6 wants integer rates: per-second rates scaled by the smallest of 1, 10, 100, 1000 that makes them whole. */
function rateUnit(perSec: number[]): { scale: number; timeUnit: string } {
  for (const scale of [1, 10, 100, 1000]) {
    if (perSec.every((r) => Math.abs(r * scale - Math.round(r * scale)) < 1e-9))
      return { scale, timeUnit: `${scale}s` };
  }
  return { scale: 1000, timeUnit: "1000s" };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** VUs for an open loop at `peakPerSec`: enough that slow answers do not hold back the next sends. */
function vus(peakPerSec: number, cap = Infinity): { preAllocatedVUs: number; maxVUs: number } {
  const pre = Math.min(cap, clamp(Math.ceil(peakPerSec / 4), 2, 1000));
  return { preAllocatedVUs: pre, maxVUs: Math.max(pre, Math.min(cap, clamp(Math.ceil(peakPerSec * 2), 2, 5000))) };
}

/** The orders executor for the scenario's timing. */
export function k6Executor(stream: GeneratedStream): K6Executor {
  const t = stream.scenario.timing;
  const n = stream.table.length;
  if (t.kind === "rate") {
    const { scale, timeUnit } = rateUnit([t.ratePerSec]);
    const rate = Math.round(t.ratePerSec * scale);
    return {
      executor: "constant-arrival-rate",
      exec: "order",
      rate,
      timeUnit,
      duration: `${t.durationMs}ms`,
      startTime: "0ms",
      ...vus(t.ratePerSec),
    };
  }
  if (t.kind === "burst") {
    // The burst's n orders spread over its window; each still waits for its own (random) offset in the window.
    const windowMs = Math.max(1, t.windowMs);
    return {
      executor: "constant-arrival-rate",
      exec: "order",
      rate: Math.max(1, n),
      timeUnit: `${windowMs}ms`,
      duration: `${windowMs}ms`,
      startTime: `${t.startMs}ms`,
      ...vus((Math.max(1, n) * 1000) / windowMs, Math.max(2, n)),
    };
  }
  // Ramp: k6 ramps linearly within a stage like the scenario; a jump between stages is a 0 s stage.
  const rates = t.stages.flatMap((s) => [s.fromPerSec, s.toPerSec]);
  const { scale, timeUnit } = rateUnit(rates);
  const r = (perSec: number) => Math.round(perSec * scale);
  const stages: { duration: string; target: number }[] = [];
  let current = t.stages[0]!.fromPerSec;
  for (const s of t.stages) {
    if (s.fromPerSec !== current) stages.push({ duration: "0s", target: r(s.fromPerSec) });
    stages.push({ duration: `${s.durationMs}ms`, target: r(s.toPerSec) });
    current = s.toPerSec;
  }
  // Rounding of k6's schedule may leave the last order or two without an iteration: a short tail covers them.
  if (current > 0) stages.push({ duration: "1s", target: r(current) });
  return {
    executor: "ramping-arrival-rate",
    exec: "order",
    startRate: r(t.stages[0]!.fromPerSec),
    timeUnit,
    stages,
    ...vus(Math.max(...rates)),
  };
}

/** One order of the stream as the data file holds it (times are stamped by the script at send). */
export function k6Order(o: GeneratedOrder): K6Order {
  if (o.raw !== undefined || !o.body) return [o.offsetMs, o.key, o.raw ?? "", 1];
  return [o.offsetMs, o.key, JSON.stringify(o.body), 0];
}

/** Restocks by time: one k6 scenario each (per-vu-iterations, 1 VU, 1 iteration, at its offset). */
export function restockGroups(
  stream: GeneratedStream,
): { atMs: number; items: { productId: string; quantity: number }[] }[] {
  const byTime = new Map<number, { productId: string; quantity: number }[]>();
  for (const r of stream.restocks) {
    const list = byTime.get(r.offsetMs) ?? [];
    list.push({ productId: r.productId, quantity: r.quantity });
    byTime.set(r.offsetMs, list);
  }
  return [...byTime].sort((a, b) => a[0] - b[0]).map(([atMs, items]) => ({ atMs, items }));
}

export interface K6ExportOptions {
  /** The gateway's base URL (OVERSELL_TARGET overrides it when k6 runs). */
  target: string;
  /** serve's admin endpoint: the scenario's restocks are posted there at their times. */
  admin?: string;
  /** The data file's path as the script opens it (relative to the script). */
  dataFile: string;
}

/** The orders of the data file, streamed as JSON text chunks (one order a line: no whole-array string in memory). */
export function* k6Data(stream: GeneratedStream): Generator<string> {
  const n = stream.table.length;
  yield "[\n";
  for (let i = 0; i < n; i++) yield `${JSON.stringify(k6Order(stream.table.at(i)))}${i + 1 < n ? "," : ""}\n`;
  yield "]\n";
}

/** The k6 script (JavaScript, type-checked against @types/k6 in the tests). */
export function k6Script(stream: GeneratedStream, o: K6ExportOptions): string {
  const s = stream.scenario;
  const scenarios: Record<string, unknown> = { orders: k6Executor(stream) };
  const restocks: Record<string, { productId: string; quantity: number }[]> = {};
  if (o.admin) {
    restockGroups(stream).forEach((g, i) => {
      const name = `restock_${i}`;
      restocks[name] = g.items;
      scenarios[name] = {
        executor: "per-vu-iterations",
        exec: "restock",
        vus: 1,
        iterations: 1,
        startTime: `${g.atMs}ms`,
        maxDuration: "30s",
      };
    });
  }
  const json = (v: unknown) => JSON.stringify(v, null, 2);
  return `// k6 load for oversell: scenario ${s.name}, seed ${stream.seed}, ${stream.table.length} orders (gateway).
// Written by \`npm run k6 -- export\`; run: \`k6 run <this file>\` (OVERSELL_TARGET / OVERSELL_ADMIN: other URLs).
// Open loop: the executor starts iterations at the scenario's rate; iteration i sends order i of the seeded stream at
// its intended time (test start + its offset), whether or not earlier requests were answered, and states
// intendedAtMs and sentAtMs in the body. Judge afterwards from the topics:
//   npm run check -- --from-topics --bootstrap <serve's bootstrap> --ns <serve's namespace> --sut <the SUT>
import http from "k6/http";
import exec from "k6/execution";
import { check, sleep } from "k6";
import { SharedArray } from "k6/data";

const TARGET = __ENV.OVERSELL_TARGET || ${JSON.stringify(o.target)};
const ADMIN = __ENV.OVERSELL_ADMIN || ${JSON.stringify(o.admin ?? "")};
/** Where the orders executor starts, ms after the test start. */
const START_MS = ${executorStartMs(stream)};

/** @type {[number, string, string, number][]} [offset ms, orderId, body JSON without times or raw text, 1 if raw] */
const ORDERS = new SharedArray("orders", () => JSON.parse(open(${JSON.stringify(o.dataFile)})));

/** @type {Record<string, {productId: string, quantity: number}[]>} restocks by k6 scenario name */
const RESTOCKS = {${Object.entries(restocks)
    .map(([k, v]) => `\n  ${JSON.stringify(k)}: ${JSON.stringify(v)},`)
    .join("")}${Object.keys(restocks).length ? "\n" : ""}};

/** @type {import("k6/options").Options} */
export const options = {
  discardResponseBodies: true,
  scenarios: ${json(scenarios).replaceAll("\n", "\n  ")},
};

/** Order i of the stream, at its intended time. */
export function order() {
  const i = exec.scenario.iterationInTest;
  if (i >= ORDERS.length) return;
  const [offsetMs, orderId, text, raw] = ORDERS[i];
  const intendedAtMs = exec.scenario.startTime - START_MS + offsetMs;
  const wait = intendedAtMs - Date.now();
  if (wait > 0) sleep(wait / 1000);
  const body = raw ? text : \`\${text.slice(0, -1)},"intendedAtMs":\${intendedAtMs},"sentAtMs":\${Date.now()}}\`;
  const res = http.post(\`\${TARGET}/orders\`, body, {
    headers: { "content-type": "application/json", "x-order-id": orderId },
    tags: { name: "POST /orders" },
  });
  check(res, { "accepted (202)": (r) => r.status === 202 });
}

/** The scenario's restocks due now, through serve's admin endpoint. */
export function restock() {
  const items = RESTOCKS[exec.scenario.name] || [];
  const res = http.post(\`\${ADMIN}/admin/restock\`, JSON.stringify({ items }), {
    headers: { "content-type": "application/json" },
  });
  check(res, { "restocked (200)": (r) => r.status === 200 });
}

export default order;
`;
}

/** The data file's name beside the script: load.js → load.orders.json. */
export function dataFileFor(scriptPath: string): string {
  return `${scriptPath.replace(/\.[cm]?[jt]s$/, "")}.orders.json`;
}

/** How the script names its data file (relative to the script, as k6's open() resolves it). */
export function dataFileRef(scriptPath: string): string {
  return `./${basename(dataFileFor(scriptPath))}`;
}
