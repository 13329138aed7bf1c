// End to end on the test broker: keyed-transactional with backorder=2 sells up to 2 units a product ahead of
// the restock of the gate's late-restock scenario. The end state is within S(p) (the restock pays the debt back), so
// `oversell` holds; `oversell-in-time` must catch it, with the instant, the stock then and the orders holding it.
// The offline check of the run folder (seen times from the record) must say the same.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { LATE_RESTOCK_SCENARIO } from "../../harness/gate/matrix.ts";
import { resultSchema } from "../../harness/report/result-schema.ts";
import { runCli, stopLiveClis } from "../support/cli.ts";

afterAll(stopLiveClis);

describe("oversell-in-time end to end", () => {
  const tmp = mkdtempSync(join(tmpdir(), "oversell-intime-"));

  it("a SUT selling ahead of its restocks fails oversell-in-time while oversell holds; check agrees", async () => {
    const out = join(tmp, "run");
    // The gate's cell: late-restock with a long gap, so a slow SUT on a loaded machine is still seen first.
    const scenario = join(tmp, "late-restock.json");
    writeFileSync(scenario, JSON.stringify(LATE_RESTOCK_SCENARIO));
    const args = ["--bootstrap", inject("bootstrap"), "--sut", "keyed-transactional"];
    args.push("--set", "keyed-transactional.backorder=2", "--scenario", scenario, "--seed", "1");
    const r = await runCli("bench", [...args, "--out", out, "--no-progress"], { timeoutMs: 240_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    const result = resultSchema.parse(JSON.parse(readFileSync(join(out, "result.json"), "utf8")));
    const s = result.suts[0]!;
    expect(s.verdict).toBe("fail");
    expect(s.verdictReason).toMatch(/^violated: oversell-in-time \(\d+\)$/);
    expect(s.violations.oversell!.count).toBe(0);
    expect(s.units!.sold).toBeLessThanOrEqual(s.units!.stock);
    const v = s.violations["oversell-in-time"]!;
    expect(v.count).toBeGreaterThan(0);
    const ex = v.examples[0]!;
    expect(ex.instant!.held).toBeGreaterThan(ex.instant!.stock);
    expect(ex.instant!.restocksBefore).toBe(0);
    expect(ex.events!.length).toBe(ex.instant!.held); // quantity 1: one order per unit held
    expect(s.inTime).toEqual({ judged: true, marginMs: 500 });
    // Every restock line carries when its send started, before the acknowledgement was written.
    const restocks = readFileSync(join(out, "history.ndjson"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; event?: string; sentAtMs?: number; t: number })
      .filter((l) => l.type === "stock" && l.event === "StockAdded");
    expect(restocks.length).toBeGreaterThan(0);
    for (const l of restocks) expect(l.sentAtMs).toBeLessThanOrEqual(l.t);
    expect(ex.instant!.atMs).toBeLessThan(Math.min(...restocks.map((l) => l.sentAtMs!)));

    const c = await runCli("check", [out, "--no-progress"], { timeoutMs: 120_000 });
    expect(c.code, `${c.stdout}\n${c.stderr}`).toBe(1);
    const again = resultSchema.parse(JSON.parse(readFileSync(join(out, "check.json"), "utf8"))).suts[0]!;
    expect(again.violations["oversell-in-time"]).toEqual(v);
  }, 400_000);
});
