// The exported k6 script, tested without k6 (not installable here): it type-checks against @types/k6, its executors
// and rates match the scenario's timing, and run under stand-in k6 modules it posts exactly the seeded stream, each
// body a valid OrderPlaced (or the stream's own malformed value) stating its intended send time.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { orderPlacedSchema, parseOrderRecord } from "../../systems-under-test/contract/events.ts";
import {
  dataFileFor,
  dataFileRef,
  executorStartMs,
  k6Data,
  k6Executor,
  k6Script,
  restockGroups,
} from "../../harness/k6/export.ts";
import {
  BUILTIN_SCENARIOS,
  generateStream,
  validateScenario,
  type GeneratedStream,
} from "../../harness/scenario/index.ts";
import { ROOT, runCli, stopLiveClis } from "../support/cli.ts";

const tmp = mkdtempSync(join(tmpdir(), "oversell-k6-"));
afterAll(stopLiveClis);
const TARGET = "http://127.0.0.1:18080";
const ADMIN = "http://127.0.0.1:18081";

const streams: Record<string, GeneratedStream> = {
  ...Object.fromEntries(
    Object.entries(BUILTIN_SCENARIOS).map(([name, s]) => [name, generateStream(validateScenario(s), 3)]),
  ),
  // Fractional rates (k6 takes integers: a larger time unit) and a jump between stages.
  ramp: generateStream(
    validateScenario({
      name: "ramp",
      products: { count: 20, initialStock: 5 },
      demand: {},
      timing: {
        kind: "ramp",
        stages: [
          { durationMs: 2000, fromPerSec: 2.5, toPerSec: 40 },
          { durationMs: 1000, fromPerSec: 80, toPerSec: 10 },
        ],
      },
    }),
    5,
  ),
  // Every kind of malformed or unusual order, and a burst that starts late.
  mixed: generateStream(
    validateScenario({
      name: "mixed",
      products: { count: 10, initialStock: 2 },
      demand: { orders: 120 },
      timing: { kind: "burst", windowMs: 300, startMs: 200 },
      invalid: { rate: 0.15 },
    }),
    9,
  ),
};

function exportTo(name: string): string {
  const stream = streams[name]!;
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const script = join(dir, "load.js");
  writeFileSync(dataFileFor(script), [...k6Data(stream)].join(""));
  writeFileSync(script, k6Script(stream, { target: TARGET, admin: ADMIN, dataFile: dataFileRef(script) }));
  return script;
}

function tsc(files: string[], label: string): { status: number | null; out: string } {
  const types = join(ROOT, "node_modules", "@types");
  const config = join(tmp, `tsconfig.${label}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      compilerOptions: {
        allowJs: true,
        checkJs: true,
        noEmit: true,
        strict: true,
        target: "es2020",
        module: "esnext",
        moduleResolution: "bundler",
        lib: ["es2020"],
        types: ["k6"],
        typeRoots: [types],
        paths: { k6: [join(types, "k6", "index.d.ts")], "k6/*": [join(types, "k6", "*")] },
      },
      files,
    }),
  );
  const r = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", config], {
    encoding: "utf8",
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Stand-in k6 modules (http records the posts) and a runner that calls order() for every iteration. */
function runUnderStubs(script: string, stream: GeneratedStream, t0: number) {
  const dir = join(script, "..");
  const k6 = join(dir, "node_modules", "k6");
  mkdirSync(k6, { recursive: true });
  writeFileSync(
    join(k6, "package.json"),
    JSON.stringify({
      name: "k6",
      type: "module",
      exports: { ".": "./index.js", "./http": "./http.js", "./execution": "./execution.js", "./data": "./data.js" },
    }),
  );
  writeFileSync(
    join(k6, "index.js"),
    "export function check(v, sets) { for (const f of Object.values(sets)) if (!f(v)) globalThis.__failed++; " +
      "return true; }\nexport function sleep() {}\n",
  );
  writeFileSync(
    join(k6, "http.js"),
    "export default { post(url, body, params) { globalThis.__posts.push({ url, body, " +
      "headers: (params && params.headers) || {}, scenario: globalThis.__scenario.name }); " +
      "return { status: url.endsWith('/orders') ? 202 : 200 }; } };\n",
  );
  writeFileSync(join(k6, "execution.js"), "export default { get scenario() { return globalThis.__scenario; } };\n");
  writeFileSync(join(k6, "data.js"), "export class SharedArray { constructor(name, fn) { return fn(); } }\n");
  const runner = join(dir, "runner.mjs");
  writeFileSync(
    runner,
    `import { readFileSync, writeFileSync } from "node:fs";
const [script, n, t0, start, out] = process.argv.slice(2);
globalThis.__posts = []; globalThis.__failed = 0; globalThis.__ENV = {};
globalThis.open = (p) => readFileSync(new URL(p, script), "utf8");
const mod = await import(script);
for (let i = 0; i < Number(n) + 3; i++) {
  globalThis.__scenario = { name: "orders", startTime: Number(t0) + Number(start), iterationInTest: i };
  mod.order();
}
for (const name of Object.keys(mod.options.scenarios).filter((s) => s.startsWith("restock_"))) {
  globalThis.__scenario = { name, startTime: Number(t0), iterationInTest: 0 };
  mod.restock();
}
writeFileSync(out, JSON.stringify({ posts: globalThis.__posts, failed: globalThis.__failed }));
`,
  );
  const out = join(dir, "posts.json");
  const args = [runner, pathToFileURL(script).href, String(stream.table.length), String(t0)];
  const r = spawnSync(process.execPath, [...args, String(executorStartMs(stream)), out], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(readFileSync(out, "utf8")) as {
    posts: { url: string; body: string; headers: Record<string, string>; scenario: string }[];
    failed: number;
  };
}

describe("npm run k6 -- export", () => {
  const scripts = Object.keys(streams).map((name) => exportTo(name));

  it("writes scripts that type-check against @types/k6 (and a broken one does not)", () => {
    const ok = tsc(scripts, "ok");
    expect(ok.out).toBe("");
    expect(ok.status).toBe(0);
    const broken = join(tmp, "flash-sale", "broken.js");
    writeFileSync(
      broken,
      readFileSync(scripts[0]!, "utf8")
        .replace('"constant-arrival-rate"', '"constant-arrival-rat"')
        .replace("iterationInTest", "iterationInTst"),
    );
    const bad = tsc([broken], "broken");
    expect(bad.status).not.toBe(0);
    expect(bad.out).toMatch(/constant-arrival-rat/);
    expect(bad.out).toMatch(/iterationInTst/);
  });

  it("uses the executor and rates of the scenario's timing, with an iteration for every order", () => {
    for (const [name, stream] of Object.entries(streams)) {
      const t = stream.scenario.timing;
      const ex = k6Executor(stream);
      const n = stream.table.length;
      const unitMs = (u: string) => Number(/^(\d+)(ms|s)$/.exec(u)![1]) * (u.endsWith("ms") ? 1 : 1000);
      if (t.kind === "rate") {
        expect(ex.executor, name).toBe("constant-arrival-rate");
        if (ex.executor !== "constant-arrival-rate") continue;
        expect((ex.rate * 1000) / unitMs(ex.timeUnit)).toBeCloseTo(t.ratePerSec, 9);
        expect(ex.duration).toBe(`${t.durationMs}ms`);
        expect(Math.ceil((t.durationMs / unitMs(ex.timeUnit)) * ex.rate)).toBeGreaterThanOrEqual(n);
      } else if (t.kind === "burst") {
        expect(ex.executor, name).toBe("constant-arrival-rate");
        if (ex.executor !== "constant-arrival-rate") continue;
        expect(ex).toMatchObject({ rate: n, timeUnit: `${t.windowMs}ms`, startTime: `${t.startMs}ms` });
      } else {
        expect(ex.executor, name).toBe("ramping-arrival-rate");
        if (ex.executor !== "ramping-arrival-rate") continue;
        const perSec = (x: number) => (x * 1000) / unitMs(ex.timeUnit);
        expect(perSec(ex.startRate)).toBeCloseTo(t.stages[0]!.fromPerSec, 9);
        // Each scenario stage ends at its target rate, after the same duration (a jump is a 0 s stage).
        const timed = ex.stages.filter((s) => s.duration !== "0s");
        t.stages.forEach((st, i) => {
          expect(timed[i]!.duration).toBe(`${st.durationMs}ms`);
          expect(perSec(timed[i]!.target)).toBeCloseTo(st.toPerSec, 9);
        });
        expect(ex.stages.some((s) => s.duration === "0s" && perSec(s.target) === 80)).toBe(true);
        // Iterations k6 starts: the integral of the piecewise-linear rate (its tail included).
        let prev = perSec(ex.startRate),
          total = 0;
        for (const s of ex.stages) {
          const ms = s.duration === "0s" ? 0 : unitMs(s.duration);
          total += ((prev + perSec(s.target)) / 2) * (ms / 1000);
          prev = perSec(s.target);
        }
        expect(Math.floor(total)).toBeGreaterThanOrEqual(n);
      }
      expect(ex.preAllocatedVUs).toBeGreaterThanOrEqual(1);
      expect(ex.maxVUs).toBeGreaterThanOrEqual(ex.preAllocatedVUs);
    }
  });

  it("posts the seeded stream: valid OrderPlaced bodies stating their intended time; restocks to the admin", () => {
    const t0 = 1_700_000_000_000;
    for (const name of ["flash-sale", "mixed"]) {
      const stream = streams[name]!;
      const { posts, failed } = runUnderStubs(scripts[Object.keys(streams).indexOf(name)]!, stream, t0);
      expect(failed).toBe(0);
      const orders = posts.filter((p) => p.scenario === "orders");
      expect(orders.length).toBe(stream.table.length);
      const known = new Set(stream.productIds);
      let checkedValid = 0;
      stream.orders.forEach((g, i) => {
        const p = orders[i]!;
        expect(p.url).toBe(`${TARGET}/orders`);
        expect(p.headers["x-order-id"]).toBe(g.key);
        if (g.raw !== undefined) expect(p.body).toBe(g.raw);
        // Read the way a SUT reads it: the same product, quantity and validity as the stream says.
        const r = parseOrderRecord(g.key, p.body);
        expect(r.ok ? r.order.productId : r.productId).toBe(g.productId);
        expect(r.ok ? r.order.quantity : r.quantity).toBe(g.quantity);
        expect(r.ok && known.has(g.productId)).toBe(g.valid);
        if (g.kind !== "normal") return;
        const body = orderPlacedSchema.parse(JSON.parse(p.body));
        expect(body).toMatchObject({ orderId: g.orderId, productId: g.productId, quantity: g.quantity });
        expect(body.intendedAtMs).toBe(t0 + g.offsetMs);
        expect(body.sentAtMs).toBeGreaterThan(0);
        checkedValid++;
      });
      expect(checkedValid).toBeGreaterThan(0);
      const restocks = posts.filter((p) => p.scenario.startsWith("restock_"));
      expect(restocks.map((p) => JSON.parse(p.body).items)).toEqual(restockGroups(stream).map((g) => g.items));
      for (const p of restocks) expect(p.url).toBe(`${ADMIN}/admin/restock`);
    }
    expect(streams.mixed!.orders.some((g) => !g.valid)).toBe(true);
    expect(restockGroups(streams["flash-sale"]!).length).toBe(1);
  });

  it("the command writes the script and its orders file, and refuses a bad target", async () => {
    const out = join(tmp, "cli", "load.js");
    const ok = await runCli("k6", ["export", "--scenario", "steady", "--target", TARGET, "--out", out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/1000 orders of steady/);
    expect(readFileSync(out, "utf8")).toMatch(/constant-arrival-rate/);
    expect(JSON.parse(readFileSync(dataFileFor(out), "utf8"))).toHaveLength(1000);
    const bad = await runCli("k6", ["export", "--target", "localhost:8080", "--out", out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--target: an http\(s\) URL/);
  });
});
