// capacity.json's schema, the terminal summary and capacity.html's content, on a synthetic report.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeCapacity } from "../../harness/capacity/run.ts";
import { capacitySchema } from "../../harness/capacity/schema.ts";
import { ceilingRatio, renderCapacitySummary } from "../../harness/capacity/summary.ts";
import { renderCapacityHtml } from "../../harness/capacity/html.ts";
import { buildCapacityReport, XSS_REASON } from "./fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "oversell-capacity-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("capacity outputs", () => {
  it("capacity.json carries the issue's names and passes its schema when read back", () => {
    const [jsonFile] = writeCapacity(buildCapacityReport(), dir);
    const raw = JSON.parse(readFileSync(jsonFile!, "utf8"));
    expect(capacitySchema.safeParse(raw).success).toBe(true);
    expect(raw.suts[0].maxSustainablePerSec).toBe(3000);
    expect(Object.keys(raw.suts[0].steps[0])).toEqual(
      expect.arrayContaining([
        "offeredPerSec",
        "decidedPerSec",
        "p50Us",
        "p99Us",
        "p999Us",
        "verdict",
        "sustained",
        "harnessBound",
      ]),
    );
    expect(raw.ceiling.producerPerSec).toBe(61_000);
    expect(raw.ceiling.transactionalProducerPerSec).toBe(42_000);
    expect(raw.profile.suts["keyed-transactional"].batch_size).toBe(1000);
  });

  it("rejects a report missing a required figure, naming the field", () => {
    const bad = buildCapacityReport() as unknown as { suts: { steps: Record<string, unknown>[] }[] };
    delete bad.suts[0]!.steps[0]!.p99Us;
    const r = capacitySchema.safeParse(bad);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error!.issues[0]!.path)).toContain("p99Us");
  });

  it("the terminal summary shows the table: max sustainable, its p99, the ratio to the transactional ceiling", () => {
    const text = renderCapacitySummary(buildCapacityReport());
    expect(text).toMatch(/ceiling: Kafka ProducerPerformance 61,000 records\/s .*transactional .* 42,000 records\/s/);
    const row = text.split("\n").find((l) => l.startsWith("keyed-transactional"))!;
    expect(row).toMatch(/3,000\s+640 ms\s+0\.071\s+sut\s+5\s+none/);
    const ks = text.split("\n").find((l) => l.startsWith("kafka-streams"))!;
    expect(ks).toMatch(/≥ 1,000/); // harness-bound: a lower bound
    expect(ks).toMatch(/duplicate 2 at 1500\/s/);
  });

  it("a ratio below 0.01 keeps two significant digits instead of rounding to 0.000", () => {
    const r = buildCapacityReport();
    const ceiling = { ...r.ceiling, transactionalProducerPerSec: 154_178 };
    expect(ceilingRatio({ ...r.suts[0]!, maxSustainablePerSec: 40 }, ceiling)).toBe("0.00026");
    expect(ceilingRatio({ ...r.suts[0]!, maxSustainablePerSec: 5_500 }, ceiling)).toBe("0.036");
    expect(ceilingRatio({ ...r.suts[0]!, maxSustainablePerSec: 0 }, ceiling)).toBe("0.000");
  });

  it("capacity.html escapes every reason and draws a curve per SUT with the ceilings", () => {
    const page = renderCapacityHtml(buildCapacityReport());
    expect(page).not.toContain(XSS_REASON);
    expect(page).toContain("&lt;script&gt;window.__oversellXss=2&lt;/script&gt;");
    expect(page).toContain('id="chart-capacity"');
    expect(page).toContain('data-series="keyed-transactional p99"');
    expect(page).toContain('data-series="transactional producer ceiling 42k/s"');
    expect(page).not.toMatch(/<script|src="http|href="http/);
  });
});
