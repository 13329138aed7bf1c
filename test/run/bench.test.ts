// End to end: `bench` as a child process against the test broker, with the real SUTs, then `check`
// judging the stored run again. naive must be caught overselling; the correct SUTs must pass.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { runCli, stopLiveClis } from "../support/cli.ts";
import { afterAll, describe, expect, inject, it } from "vitest";
import { resultSchema, type RunResult } from "../../harness/report/result-schema.ts";
import { listSuts } from "../../harness/sut/manifest.ts";

const CORRECT = ["keyed-transactional", "saga"];
afterAll(stopLiveClis);

/** A harness CLI script (harness/cli/<name>.ts) as a child process. */
function run(script: string, args: string[], timeoutMs: number, env: Record<string, string | undefined> = {}) {
  const name = script.replace(/^harness\/cli\//, "").replace(/\.ts$/, "") as Parameters<typeof runCli>[0];
  return runCli(name, args, { timeoutMs, env });
}

function smallLastUnit(dir: string): string {
  const file = join(dir, "small-last-unit.json");
  writeFileSync(
    file,
    JSON.stringify({
      name: "last-unit-small",
      products: { count: 30, initialStock: 1 },
      demand: { ordersPerProduct: 4 },
      // A tight burst: several orders for one product inside one fetch of the naive service.
      timing: { kind: "burst", windowMs: 100 },
      // A few malformed orders, an oversized one and an honest retry ride along: correct SUTs reject or dedupe them.
      invalid: { rate: 0.05 },
      drainTimeoutMs: 40000,
    }),
  );
  return file;
}

describe("bench end to end", () => {
  const tmp = mkdtempSync(join(tmpdir(), "oversell-bench-"));

  it(
    "naive fails on oversell, keyed-transactional and saga " +
      "pass; exit code, verdicts and result.json agree; check agrees",
    async () => {
      const available = listSuts();
      const suts = ["naive", ...CORRECT].filter((s) => available.includes(s));
      expect(suts, "naive must exist").toContain("naive");
      expect(suts.filter((s) => CORRECT.includes(s)).length, "at least one correct SUT must exist").toBeGreaterThan(0);
      const out = join(tmp, "run");
      const bootstrap = inject("bootstrap");
      const r = await run(
        "harness/cli/bench.ts",
        [
          "--bootstrap",
          bootstrap,
          "--sut",
          suts.join(","),
          "--scenario",
          smallLastUnit(tmp),
          "--seed",
          "3",
          "--out",
          out,
          "--no-progress",
        ],
        280_000,
      );
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);

      for (const f of ["result.json", "history.ndjson", "junit.xml", "report.html"])
        expect(existsSync(join(out, f)), f).toBe(true);
      const result = resultSchema.parse(JSON.parse(readFileSync(join(out, "result.json"), "utf8")));
      expect(result.verdict).toBe("pass");
      expect(result.seed).toBe(3);
      expect(result.kafka).toMatchObject({ bootstrap, embedded: false });
      expect(result.environment?.clients.kafkajs).toBe("2.2.4");
      expect(result.suts.map((s) => s.name)).toEqual(suts);
      const naive = result.suts.find((s) => s.name === "naive")!;
      expect(naive.expected).toBe("fail");
      expect(naive.verdict).toBe("fail");
      expect(naive.violations.oversell!.count).toBeGreaterThan(0);
      expect(naive.units!.sold).toBeGreaterThan(naive.units!.stock);
      for (const s of result.suts.filter((x) => CORRECT.includes(x.name))) {
        expect(s.verdict, `${s.name}: ${s.verdictReason}`).toBe("pass");
        expect(s.violations.oversell!.count).toBe(0);
        expect(s.orders.acked).toBeGreaterThan(100);
        expect(s.orders.decided).toBe(s.orders.acked);
        expect(s.orders.invalid).toBeGreaterThan(0);
        expect(s.units!.sold).toBeLessThanOrEqual(s.units!.stock);
        expect(s.namespace).toBe(`oversell.${result.runId}.${s.name}`);
        expect(s.latencyUs.decision.p50).toBeGreaterThan(0);
      }
      // The summary table printed what result.json says.
      for (const s of result.suts) expect(r.stdout).toMatch(new RegExp(`${s.name}\\s+${s.verdict}\\s+${s.expected}`));
      expect(r.stdout).toContain("run verdict: PASS");
      // junit: a testcase per SUT and invariant; no failure in a run that matched expectations.
      const junit = readFileSync(join(out, "junit.xml"), "utf8");
      expect(junit).toContain('testcase name="oversell" classname="oversell.naive"');
      expect(junit).not.toContain("<failure");
      // History: one line per event, with the order lines.
      const lines = readFileSync(join(out, "history.ndjson"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines[0].type).toBe("run-start");
      expect(lines.filter((l) => l.type === "sent").length).toBe(120 * suts.length);
      expect(lines.filter((l) => l.type === "ack").length).toBe(120 * suts.length);
      expect(lines.at(-1).type).toBe("run-end");

      // Judge it again offline, from the run folder alone: the same verdicts, counts and latencies.
      const c = await run("harness/cli/check.ts", [out, "--no-progress"], 120_000);
      expect(c.code, `${c.stdout}\n${c.stderr}`).toBe(0);
      const again = resultSchema.parse(JSON.parse(readFileSync(join(out, "check.json"), "utf8")));
      const judged = (r: typeof result, latency = true) =>
        r.suts.map((s) => ({
          name: s.name,
          verdict: s.verdict,
          orders: s.orders,
          units: s.units,
          products: s.products,
          violations: Object.fromEntries(Object.entries(s.violations).map(([k, v]) => [k, v.count])),
          poison: {
            invalid: s.poison?.invalid,
            validUndecided: s.poison?.validUndecided,
            after: s.poison?.afterPoison.count,
          },
          // A re-read from the topics times decisions by their record timestamps: latencies differ, counts do not.
          ...(latency ? { decision: s.latencyUs.decision, series: s.series, poisonLatency: s.poison } : {}),
        }));
      expect(judged(again)).toEqual(judged(result));
      for (const sut of suts) expect(existsSync(join(out, `${sut}.decisions.ndjson.gz`))).toBe(true);

      // From the topics again (still on the test broker): the same verdicts and counts.
      const t = await run(
        "harness/cli/check.ts",
        [out, "--from-topics", "--bootstrap", bootstrap, "--no-progress"],
        120_000,
      );
      expect(t.code, `${t.stdout}\n${t.stderr}`).toBe(0);
      const fromTopics = resultSchema.parse(JSON.parse(readFileSync(join(out, "check.json"), "utf8")));
      // Except oversell-in-time: record timestamps bound no commit, so a re-read from the topics does not judge it.
      const noInTime = (r: typeof result) =>
        judged(r, false).map((s) => ({ ...s, violations: { ...s.violations, "oversell-in-time": 0 } }));
      expect(noInTime(fromTopics)).toEqual(noInTime(result));
      for (const s of fromTopics.suts) expect(s.inTime?.judged).toBe(false);

      // A damaged record is refused with its file and line, not judged.
      const record = join(out, "naive.decisions.ndjson.gz");
      const text = gunzipSync(readFileSync(record)).toString("utf8");
      writeFileSync(record, gzipSync(text.slice(0, Math.floor(text.length / 2))));
      const d = await run("harness/cli/check.ts", [out, "--no-progress"], 60_000);
      expect(d.code).toBe(2);
      expect(d.stderr).toMatch(/naive\.decisions\.ndjson\.gz:\d+: /);
    },
    420_000,
  );

  it("a SUT that exits at once: its last output is shown, verdict unknown with a reason, exit 2", async () => {
    const dir = join(tmp, "broken-sut");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "sut.json"),
      JSON.stringify({
        name: "broken",
        description: "exits at once",
        command: ["sh", "-c", "echo 'cannot open the frobnicator' >&2; exit 3"],
        instances: 1,
        confirms: false,
        claims: ["oversell"],
      }),
    );
    const out = join(tmp, "run-broken");
    const r = await run(
      "harness/cli/bench.ts",
      ["--bootstrap", inject("bootstrap"), "--sut", dir, "--out", out, "--no-progress"],
      120_000,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot open the frobnicator");
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as RunResult;
    expect(result.verdict).toBe("unknown");
    expect(result.suts[0]!.verdict).toBe("unknown");
    expect(result.suts[0]!.verdictReason).toContain("did not start");
  }, 180_000);

  it("flag errors: one line and usage, exit 2, nothing started", async () => {
    const r = await run("harness/cli/bench.ts", ["--brokers", "3", "--bootstrap", "127.0.0.1:9"], 60_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*conflicts with --bootstrap\nusage: /m);
    const u = await run("harness/cli/bench.ts", ["--frobnicate"], 60_000);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain("unknown option '--frobnicate'");
    // SASL without the password in the environment: refused before anything starts.
    const s = await run(
      "harness/cli/bench.ts",
      ["--bootstrap", "127.0.0.1:9", "--sasl-mechanism", "plain", "--sasl-username", "u"],
      60_000,
      { OVERSELL_SASL_PASSWORD: undefined },
    );
    expect(s.code).toBe(2);
    expect(s.stderr).toContain("OVERSELL_SASL_PASSWORD");
  }, 120_000);

  it("an unreachable bootstrap fails within 30 s with a hint, exit 2; the SASL password is never printed", async () => {
    const r = await run(
      "harness/cli/bench.ts",
      [
        "--bootstrap",
        "127.0.0.1:9",
        "--sasl-mechanism",
        "plain",
        "--sasl-username",
        "alice",
        "--sut",
        "naive",
        "--out",
        join(tmp, "run-unreachable"),
        "--no-progress",
      ],
      60_000,
      { OVERSELL_SASL_PASSWORD: "s3cret-pw-42" },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot reach any bootstrap broker (127.0.0.1:9 sasl=plain user=alice)");
    expect(r.stderr).toContain("nothing is listening at 127.0.0.1:9");
    expect(r.stderr).toContain("hint:");
    expect(`${r.stdout}${r.stderr}`).not.toContain("s3cret-pw-42");
    expect(r.ms).toBeLessThan(45_000);
  }, 90_000);
});
