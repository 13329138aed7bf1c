// What one execution of a gate cell produced, and whether it met the cell's expectation.
import type { SutResult } from "../report/result-schema.ts";
import { expectedVerdict, type GateCell } from "./matrix.ts";

export interface GateRunResult {
  cell: GateCell;
  repetition: number;
  seed: number;
  expected: "pass" | "fail";
  /** unknown: the run could not be judged, or the harness failed (see error). */
  verdict: "pass" | "fail" | "unknown";
  match: boolean;
  /** Why it did not match, or why the verdict is what it is. */
  note?: string;
  /** The SUT's result from result.json; absent when the harness itself failed. */
  sut?: SutResult;
  /** The cell's run folder, relative to the gate folder. */
  runDir: string;
  wallMs: number;
  error?: string;
}

/**
 * A cell passes when its verdict is the expected one and every expected violation was caught.
 * An unknown verdict never matches: a run that could not be judged proves nothing.
 */
export function judgeCell(
  cell: Pick<GateCell, "expectedViolations">,
  sut: SutResult | undefined,
): { expected: "pass" | "fail"; verdict: "pass" | "fail" | "unknown"; match: boolean; note?: string } {
  const expected = expectedVerdict(cell);
  if (!sut) return { expected, verdict: "unknown", match: false, note: "no result (harness error)" };
  const verdict = sut.verdict;
  if (verdict === "unknown")
    return { expected, verdict, match: false, note: sut.verdictReason ?? "could not be judged" };
  if (verdict !== expected) {
    return { expected, verdict, match: false, note: sut.verdictReason ?? `verdict ${verdict}, expected ${expected}` };
  }
  const missing = cell.expectedViolations.filter((v) => (sut.violations[v]?.count ?? 0) === 0);
  if (missing.length > 0)
    return {
      expected,
      verdict,
      match: false,
      note: `expected violation(s) not caught: ${missing.join(", ")}; ${sut.verdictReason ?? ""}`.replace(/; $/, ""),
    };
  return { expected, verdict, match: true, ...(sut.verdictReason ? { note: sut.verdictReason } : {}) };
}

/** Per cell over its repetitions: how many executions missed the expectation. */
export function tallyByCell(
  runs: GateRunResult[],
): { id: string; runs: number; missed: number; seedsMissed: number[] }[] {
  const out = new Map<string, { id: string; runs: number; missed: number; seedsMissed: number[] }>();
  for (const r of runs) {
    const t = out.get(r.cell.id) ?? { id: r.cell.id, runs: 0, missed: 0, seedsMissed: [] };
    t.runs++;
    if (!r.match) {
      t.missed++;
      t.seedsMissed.push(r.seed);
    }
    out.set(r.cell.id, t);
  }
  return [...out.values()];
}

/** 0: every execution met its expectation; 2: one could not be judged (and none plainly failed); 1 otherwise. */
export function gateExitCode(runs: GateRunResult[]): number {
  if (runs.length === 0) return 2;
  if (runs.every((r) => r.match)) return 0;
  return runs.some((r) => !r.match && r.verdict !== "unknown") ? 1 : 2;
}
