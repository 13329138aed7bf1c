// capacity end to end against the test broker: the ceiling from Kafka's own producer, one judged step of a real
// SUT with its throughput profile, capacity.json (valid, the names) and capacity.html; and the CLI's
// refusal of bad flags before anything starts.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCapacity } from "../../harness/capacity/run.ts";
import { capacitySchema } from "../../harness/capacity/schema.ts";
import { runCli, stopLiveClis } from "../support/cli.ts";
import { testConnection } from "../support/kafka.ts";

const dir = mkdtempSync(join(tmpdir(), "oversell-capacity-"));
afterAll(() => {
  stopLiveClis();
  rmSync(dir, { recursive: true, force: true });
});

describe("capacity", () => {
  it("measures the ceiling and judges a SUT's step on the same broker, and writes both files", async () => {
    const lines: string[] = [];
    const { report, files } = await runCapacity({
      suts: ["naive"],
      settings: { naive: { OVERSELL_SETTING_FETCH_WAIT_MS: "50" } },
      connection: testConnection(),
      sloP99Us: 60_000_000,
      fromPerSec: 100,
      maxPerSec: 100,
      quick: true,
      stepSeconds: 2,
      warmupSeconds: 1,
      ceilingRecords: 5000,
      outDir: dir,
      log: (l) => lines.push(l),
    });
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(["capacity.json", "capacity.html"]);
    const json = capacitySchema.parse(JSON.parse(readFileSync(files[0]!, "utf8")));
    expect(json.ceiling.error).toBeUndefined();
    expect(json.ceiling.producerPerSec).toBeGreaterThan(0);
    expect(json.ceiling.transactionalProducerPerSec).toBeGreaterThan(0);
    expect(json.ceiling.recordBytes).toBeGreaterThan(50);
    const sut = json.suts[0]!;
    expect(sut.name).toBe("naive");
    const step = sut.steps[0]!;
    expect(step.offeredPerSec).toBe(100);
    expect(step.orders.sent).toBe(300); // 1 s of warm-up, 2 s measured
    expect(json.rule.warmupSeconds).toBe(1);
    expect(step.verdict).not.toBe("unknown");
    // Sustained (the search ends at --max), or on a swamped machine harness-bound (it goes down from there).
    expect(step.sustained || step.harnessBound).toBe(true);
    if (step.sustained) expect(sut.maxSustainablePerSec).toBe(100);
    else expect(sut.steps.map((s) => s.offeredPerSec).slice(0, 2)).toEqual([100, 50]);
    expect(sut.settings.OVERSELL_SETTING_BATCH_SIZE).toBe("1000"); // naive's throughput profile
    expect(sut.settings.OVERSELL_SETTING_FETCH_WAIT_MS).toBe("50"); // --set over the profile
    expect(json.profile.suts.naive).toEqual({ batch_size: 1000, fetch_wait_ms: 100 });
    expect(report.kafka.embedded).toBe(false);
    expect(lines.some((l) => /ceiling: ProducerPerformance transactional/.test(l))).toBe(true);
    expect(lines.some((l) => /\[naive\] step 1 \(ramp\) 100\/s/.test(l))).toBe(true);
    expect(readFileSync(files[1]!, "utf8")).toContain('id="chart-naive"');
  }, 300_000);

  it("refuses a bad flag with one line and the usage, exit 2, before starting anything", async () => {
    const r = await runCli("capacity", ["--sut", "naive", "--slo-p99", "fast"], { timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--slo-p99: a time like 500ms or 1s/);
    expect(r.stderr).toMatch(/usage: npm run capacity --/);
    const m = await runCli("capacity", ["--sut", "naive", "--from", "900", "--max", "100"], { timeoutMs: 60_000 });
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/--max must be at least --from/);
    const s = await runCli("capacity", ["--sut", "naive", "--set", "naive.nope=1"], { timeoutMs: 60_000 });
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/nope/);
  }, 120_000);
});
