// The gate's junit.xml (a testcase per cell and invariant, the fault kind in its name, e.g.
// `saga[pause] oversell`) and its one-screen summary table.
import { caseXml, casesFor, esc, type Case } from "../report/junit.ts";
import { textSection, textTable } from "../shared/text-table.ts";
import { tallyByCell, type GateRunResult } from "./outcome.ts";

function suffix(r: GateRunResult, repeated: boolean): string {
  return repeated ? ` (seed ${r.seed})` : "";
}

/** The testcases of one execution: the per-SUT cases of junit.ts, renamed after the cell. */
export function gateCases(r: GateRunResult, repeated: boolean): Case[] {
  const classname = `oversell.gate.${r.cell.sut}`;
  const sfx = suffix(r, repeated);
  const timeSec = r.wallMs / 1000;
  if (!r.sut) {
    return [
      {
        name: `${r.cell.id} verdict (expected ${r.expected})${sfx}`,
        classname,
        timeSec,
        error: { message: `harness error: ${r.error ?? "no result"}` },
      },
    ];
  }
  return casesFor(r.sut).map((c, i) => {
    const renamed: Case = { ...c, name: `${r.cell.id} ${c.name}${sfx}`, classname, timeSec: i === 0 ? timeSec : 0 };
    if (i === 0 && r.cell.reason)
      renamed.out = `${renamed.out ? `${renamed.out}\n` : ""}expected ${r.expected}: ${r.cell.reason}`;
    return renamed;
  });
}

export function renderGateJunit(runs: GateRunResult[], o: { gateId: string; startedAt: string }): string {
  const repeated = runs.some((r) => r.repetition > 0);
  const suites = runs.map((r) => {
    const cases = gateCases(r, repeated);
    const count = (f: (c: Case) => unknown) => cases.filter(f).length;
    const name =
      `${r.cell.id} (${r.cell.scenario.name}, seed ` + `${r.seed}${r.cell.faults ? `, faults ${r.cell.faults}` : ""})`;
    return (
      `  <testsuite name="${esc(name)}" tests="${cases.length}" failures="${count((c) => c.failure)}" ` +
      `errors="${count((c) => c.error)}" skipped="${count((c) => c.skipped)}" ` +
      `time="${(r.wallMs / 1000).toFixed(3)}" timestamp="${esc(o.startedAt)}">\n` +
      `${cases.map(caseXml).join("\n")}\n  </testsuite>`
    );
  });
  const all = runs.flatMap((r) => gateCases(r, repeated));
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="oversell gate ${esc(o.gateId)}" ` +
    `tests="${all.length}" failures="${all.filter((c) => c.failure).length}" ` +
    `errors="${all.filter((c) => c.error).length}">\n${suites.join("\n")}\n</testsuites>\n`
  );
}

const KEY = ["oversell", "duplicate", "conflict", "lost", "stuck"] as const;
const SHORT: Record<(typeof KEY)[number], string> = {
  oversell: "over",
  duplicate: "dup",
  conflict: "confl",
  lost: "lost",
  stuck: "stuck",
};

function ms(us: number | undefined): string {
  if (us === undefined || !Number.isFinite(us) || us <= 0) return "-";
  const v = us / 1000;
  return v < 10 ? v.toFixed(1) : String(Math.round(v));
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

function row(r: GateRunResult, repeated: boolean): string[] {
  const s = r.sut;
  const counts = KEY.map((k) => (s && s.verdict !== "unknown" ? String(s.violations[k]?.count ?? 0) : "-"));
  return [
    `${r.cell.id}${repeated ? ` #${r.repetition + 1}` : ""}`,
    String(r.seed),
    r.verdict,
    r.expected,
    r.match ? "ok" : "MISMATCH",
    s?.units ? `${s.units.sold}/${s.units.stock}` : "-",
    ...counts,
    s ? `${s.orders.decided}/${s.orders.acked}` : "-",
    ms(s?.latencyUs.decision.p99),
    (r.wallMs / 1000).toFixed(0),
  ];
}

export function renderGateSummary(
  runs: GateRunResult[],
  o: { gateId: string; wallMs: number; kafka?: string },
): string {
  const repeated = runs.some((r) => r.repetition > 0);
  const header = [
    "cell",
    "seed",
    "verdict",
    "expected",
    "match",
    "sold/stock",
    ...KEY.map((k) => SHORT[k]),
    "decided/acked",
    "p99 ms",
    "wall s",
  ];
  const tallies = tallyByCell(runs);
  const missed = runs.filter((r) => !r.match);
  return [
    `oversell gate ${o.gateId}${o.kafka ? ` — ${o.kafka}` : ""}`,
    "",
    ...textTable(
      header,
      runs.map((r) => row(r, repeated)),
    ),
    "",
    ...(repeated ? textSection("per cell over its repetitions:", tallies.map(tallyLine)) : []),
    ...textSection("expected to fail:", expectedFailLines(runs)),
    ...textSection(
      "missed expectations:",
      missed.map((r) => `  ${r.cell.id} (seed ${r.seed}): ${(r.error ?? r.note ?? "").split("\n")[0]} — ${r.runDir}`),
    ),
    gateVerdictLine(runs, tallies, missed.length, repeated, o.wallMs),
  ].join("\n");
}

function tallyLine(t: ReturnType<typeof tallyByCell>[number]): string {
  return (
    `  ${t.id}: ` +
    (t.missed === 0
      ? `met its expectation ${t.runs}/${t.runs}`
      : `MISSED ${t.missed}/${t.runs} (seeds ${t.seedsMissed.join(", ")})`)
  );
}

/** Each cell expected to fail, once, with why. */
function expectedFailLines(runs: GateRunResult[]): string[] {
  const cells = [...new Map(runs.filter((r) => r.expected === "fail").map((r) => [r.cell.id, r.cell])).values()];
  return cells.map(
    (c) => `  ${c.id}: ${c.reason ?? `manifest expects ${c.expectedViolations.join(", ")} to be caught`}`,
  );
}

function gateVerdictLine(
  runs: GateRunResult[],
  tallies: ReturnType<typeof tallyByCell>,
  missed: number,
  repeated: boolean,
  wallMs: number,
): string {
  const cellsMet = tallies.filter((t) => t.missed === 0).length;
  const verdict = missed === 0 ? "PASS" : "FAIL";
  return (
    `gate verdict: ${verdict} — ${cellsMet}/${tallies.length} cells met their ` +
    "expectation" +
    (repeated ? ` on every repetition (${runs.length - missed}/${runs.length} executions)` : "") +
    "; " +
    `wall time ${formatDuration(wallMs)}`
  );
}
