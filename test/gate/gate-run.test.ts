// `npm run gate` for real on two small cells: naive must be caught overselling (expected fail, so the
// cell passes) and keyed-transactional must pass without faults. The gate starts its own embedded
// broker behind fault proxies (that is what it ships), so this test does not use the shared one.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, stopLiveClis } from "../support/cli.ts";
import { afterAll, describe, expect, it } from "vitest";
import { resultSchema } from "../../harness/report/result-schema.ts";

afterAll(stopLiveClis);

const gate = (args: string[], timeoutMs: number) => runCli("gate", args, { timeoutMs });

describe("npm run gate (real broker)", () => {
  const out = join(mkdtempSync(join(tmpdir(), "oversell-gate-")), "gate");

  it(
    "runs the selected cells, exits 0 when each met its expectation, " +
      "writes junit.xml, summary and each cell's run folder",
    async () => {
      const r = await gate(["--only", "naive,keyed-transactional[none]", "--out", out, "--no-progress"], 150_000);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);

      // Progress lines per cell while it ran.
      expect(r.stderr).toMatch(/\[1\/2\] keyed-transactional\[none\] seed 11: no fault/);
      expect(r.stderr).toMatch(/\[2\/2\] naive\[none\] seed 11: fail .*expected fail — ok/);

      const junit = readFileSync(join(out, "junit.xml"), "utf8");
      expect(junit.match(/<testsuite /g)?.length).toBe(2);
      expect(junit).toContain(
        '<testcase name="keyed-transactional[none] oversell" classname="oversell.gate.keyed-transactional"',
      );
      expect(junit).toContain('<testcase name="keyed-transactional[none] verdict (expected pass)"');
      expect(junit).toMatch(
        /<testcase name="naive\[none\] oversell"[^>]*>\s*<system-out>expected violation caught: [1-9]/,
      );
      expect(junit).not.toContain("<failure");
      expect(junit).not.toContain("<error");

      const summary = readFileSync(join(out, "summary.txt"), "utf8");
      expect(r.stdout).toContain(summary.trim());
      expect(summary).toMatch(/keyed-transactional\[none\]\s+11\s+pass\s+pass\s+ok/);
      expect(summary).toMatch(/naive\[none\]\s+11\s+fail\s+fail\s+ok/);
      expect(summary).toMatch(/gate verdict: PASS — 2\/2 cells met their expectation/);

      const gateJson = JSON.parse(readFileSync(join(out, "gate.json"), "utf8"));
      expect(gateJson.exitCode).toBe(0);
      expect(gateJson.runs.map((x: { cell: string; match: boolean }) => [x.cell, x.match])).toEqual([
        ["keyed-transactional[none]", true],
        ["naive[none]", true],
      ]);
      for (const x of gateJson.runs as { runDir: string; cell: string }[]) {
        for (const f of ["result.json", "report.html", "history.ndjson"])
          expect(existsSync(join(out, x.runDir, f)), `${x.cell}: ${f}`).toBe(true);
        const res = resultSchema.parse(JSON.parse(readFileSync(join(out, x.runDir, "result.json"), "utf8")));
        expect(res.kafka.embedded).toBe(true);
        expect(res.seed).toBe(11);
      }
      const naive = resultSchema.parse(
        JSON.parse(readFileSync(join(out, gateJson.runs[1].runDir, "result.json"), "utf8")),
      ).suts[0]!;
      expect(naive.violations.oversell!.count).toBeGreaterThan(0);
      expect(naive.units!.sold).toBeGreaterThan(naive.units!.stock);
      expect(existsSync(join(out, "kafka.log"))).toBe(true);
    },
    170_000,
  );

  it("--only that matches nothing: exit 2 naming the cells, before any broker starts", async () => {
    const r = await gate(["--only", "no-such-cell", "--out", join(out, "none")], 60_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--only "no-such-cell": no cell matches');
    expect(r.stderr).toContain("saga[network]");
    expect(existsSync(join(out, "none", "kafka.log"))).toBe(false);
  }, 70_000);
});
