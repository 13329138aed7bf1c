// The gate's repeat history: one line per cell execution appended to reports/gate-history.ndjson as
// the gate goes, and `gate --flaky`, which reads it back (streaming, line by line) and tells which
// cells missed their expectation with which seeds.
import { appendFileSync, createReadStream, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { z } from "zod";
import { formatIssues, InputError } from "../shared/zod-errors.ts";
import type { GateRunResult } from "./outcome.ts";

export const DEFAULT_HISTORY_FILE = join("reports", "gate-history.ndjson");

const verdict = z.enum(["pass", "fail", "unknown"]);

export const historyRecordSchema = z.object({
  v: z.literal(1),
  gateId: z.string().min(1),
  at: z.iso.datetime(),
  cell: z.string().min(1),
  seed: z.number().int().nonnegative(),
  repetition: z.number().int().nonnegative(),
  verdict,
  expected: verdict.exclude(["unknown"]),
  /** The execution met its expectation. */
  met: z.boolean(),
  /** Violation counts by invariant (absent when the harness failed before judging). */
  violations: z.record(z.string(), z.number().int().nonnegative()).optional(),
  wallMs: z.number().nonnegative(),
  note: z.string().optional(),
});
export type HistoryRecord = z.infer<typeof historyRecordSchema>;

export function historyRecord(r: GateRunResult, gateId: string, at: Date = new Date()): HistoryRecord {
  const rec: HistoryRecord = {
    v: 1,
    gateId,
    at: at.toISOString(),
    cell: r.cell.id,
    seed: r.seed,
    repetition: r.repetition,
    verdict: r.verdict,
    expected: r.expected,
    met: r.match,
    wallMs: r.wallMs,
  };
  if (r.sut) rec.violations = Object.fromEntries(Object.entries(r.sut.violations).map(([k, v]) => [k, v.count]));
  const note = r.match ? undefined : (r.error ?? r.note)?.split("\n")[0];
  if (note) rec.note = note;
  return rec;
}

/** Appends one execution at once: a gate killed half-way keeps the executions it finished. */
export function appendHistory(file: string, rec: HistoryRecord): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(rec)}\n`);
}

export interface HistoryProblem {
  where: string; // file:line
  message: string;
}

/** Every valid line; a malformed one is reported with its file:line and the others still count. */
export async function readHistory(file: string): Promise<{ records: HistoryRecord[]; problems: HistoryProblem[] }> {
  if (!existsSync(file))
    throw new InputError(`no gate history at ${file}: run the gate first (npm run gate -- --repeat N)`);
  const records: HistoryRecord[] = [];
  const problems: HistoryProblem[] = [];
  const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      problems.push({ where: `${file}:${n}`, message: `not JSON (${(e as Error).message})` });
      continue;
    }
    const r = historyRecordSchema.safeParse(json);
    if (r.success) records.push(r.data);
    else
      problems.push({
        where: `${file}:${n}`,
        message: formatIssues(r.error)
          .replace(/^\s*- /gm, "")
          .replace(/\n/g, "; "),
      });
  }
  return { records, problems };
}

export interface FlakyRow {
  cell: string;
  runs: number;
  missed: number;
  /** Each missed execution: its seed, verdict and the violations it found. */
  misses: { seed: number; verdict: HistoryRecord["verdict"]; violations: string; gateId: string }[];
  gates: number;
  lastAt: string;
}

function violationText(v: HistoryRecord["violations"]): string {
  if (!v) return "no result";
  return Object.entries(v)
    .filter(([, c]) => c > 0)
    .map(([k, c]) => `${k} ${c}`)
    .join(", ");
}

/** Per cell: executions, misses with their seeds; cells with misses first. */
export function summariseFlaky(records: HistoryRecord[]): FlakyRow[] {
  const rows = new Map<string, FlakyRow & { gateIds: Set<string> }>();
  for (const r of records) {
    const row = rows.get(r.cell) ?? {
      cell: r.cell,
      runs: 0,
      missed: 0,
      misses: [],
      gates: 0,
      lastAt: r.at,
      gateIds: new Set(),
    };
    row.runs++;
    row.gateIds.add(r.gateId);
    if (r.at > row.lastAt) row.lastAt = r.at;
    if (!r.met) {
      row.missed++;
      row.misses.push({ seed: r.seed, verdict: r.verdict, violations: violationText(r.violations), gateId: r.gateId });
    }
    rows.set(r.cell, row);
  }
  return [...rows.values()]
    .map(({ gateIds, ...row }) => ({ ...row, gates: gateIds.size }))
    .sort((a, b) => b.missed - a.missed || a.cell.localeCompare(b.cell));
}

export function renderFlaky(rows: FlakyRow[], problems: HistoryProblem[], file: string): string {
  const head = ["cell", "runs", "missed", "gates", "last run (UTC)", "seeds that missed (verdict: violations)"];
  const body = rows.map((r) => [
    r.cell,
    String(r.runs),
    String(r.missed),
    String(r.gates),
    r.lastAt.slice(0, 19),
    r.misses.map((m) => `${m.seed} (${m.verdict}${m.violations ? `: ${m.violations}` : ""})`).join("; ") || "-",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cols: string[]) =>
    cols
      .map((c, i) => (i >= 1 && i <= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const flaky = rows.filter((r) => r.missed > 0).length;
  const lines = [
    `gate history ${file}: ${rows.reduce((s, r) => s + r.runs, 0)} execution(s) of ` +
      `${rows.length} cell(s); ${flaky} cell(s) missed their expectation at least once`,
    "",
    fmt(head),
    fmt(widths.map((w) => "-".repeat(w))),
    ...body.map(fmt),
  ];
  if (problems.length) {
    lines.push("", `${problems.length} line(s) skipped:`, ...problems.map((p) => `  ${p.where}: ${p.message}`));
  }
  return lines.join("\n");
}
