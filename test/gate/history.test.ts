// The gate's repeat history on synthetic lines: what `gate --flaky` counts, and a malformed line
// reported with file:line while the others still count.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  appendHistory,
  readHistory,
  renderFlaky,
  summariseFlaky,
  type HistoryRecord,
} from "../../harness/gate/history.ts";

function rec(cell: string, seed: number, met: boolean, extra: Partial<HistoryRecord> = {}): HistoryRecord {
  return {
    v: 1,
    gateId: "g1",
    at: "2026-12-02T01:00:00.000Z",
    cell,
    seed,
    repetition: seed - 11,
    verdict: met ? "pass" : "fail",
    expected: "pass",
    met,
    wallMs: 1000,
    violations: { oversell: 0, lost: met ? 0 : 2 },
    ...extra,
  };
}

describe("gate history", () => {
  it("appends executions and reads them back; a malformed line is reported with file:line", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "oversell-gh-")), "sub", "gate-history.ndjson");
    appendHistory(file, rec("saga[network]", 11, true));
    appendHistory(file, rec("saga[network]", 12, false));
    writeFileSync(file, '{not json\n{"v":1,"cell":"x"}\n', { flag: "a" });
    appendHistory(file, rec("kafka-streams[broker]", 11, true, { gateId: "g2" }));
    const { records, problems } = await readHistory(file);
    expect(records.map((r) => `${r.cell}/${r.seed}`)).toEqual([
      "saga[network]/11",
      "saga[network]/12",
      "kafka-streams[broker]/11",
    ]);
    expect(problems.map((p) => p.where)).toEqual([`${file}:3`, `${file}:4`]);
    expect(problems[0]!.message).toMatch(/not JSON/);
    expect(problems[1]!.message).toMatch(/gateId/);
  });

  it("a missing file is an input error that says how to make one", async () => {
    await expect(readHistory("/nonexistent/gate-history.ndjson")).rejects.toThrow(/run the gate first/);
  });

  it("summarises misses per cell with their seeds, missing cells first", () => {
    const rows = summariseFlaky([
      rec("a[none]", 11, true),
      rec("b[broker]", 11, true),
      rec("b[broker]", 12, false, { gateId: "g2", at: "2026-12-02T02:00:00.000Z" }),
      rec("b[broker]", 13, false, { verdict: "unknown", violations: undefined }),
    ]);
    expect(rows.map((r) => [r.cell, r.runs, r.missed, r.gates])).toEqual([
      ["b[broker]", 3, 2, 2],
      ["a[none]", 1, 0, 1],
    ]);
    expect(rows[0]!.misses.map((m) => [m.seed, m.verdict, m.violations])).toEqual([
      [12, "fail", "lost 2"],
      [13, "unknown", "no result"],
    ]);
    expect(rows[0]!.lastAt).toBe("2026-12-02T02:00:00.000Z");
    const text = renderFlaky(rows, [{ where: "h.ndjson:3", message: "not JSON" }], "h.ndjson");
    expect(text).toContain("12 (fail: lost 2); 13 (unknown: no result)");
    expect(text).toContain("1 cell(s) missed their expectation at least once");
    expect(text).toContain("h.ndjson:3: not JSON");
  });
});
