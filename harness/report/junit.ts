// junit.xml: one testcase per SUT and invariant (plus one for the SUT's verdict), so CI shows
// which claim broke. A violation of a judged invariant is a failure; an expected violation that
// was caught passes, one that was not caught fails; unjudged invariants with violations are skipped (info).
import { ALL_CHECKS } from "../checker/types.ts";
import type { RunResult, SutResult } from "./result-schema.ts";

// Control characters other than tab, LF and CR are not allowed in XML 1.0 at all: drop them.
// eslint-disable-next-line no-control-regex
const XML_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

export function esc(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(XML_FORBIDDEN, "");
}

export interface Case {
  name: string;
  classname: string;
  timeSec: number;
  failure?: { message: string; body: string };
  error?: { message: string };
  skipped?: string;
  out?: string;
}

function examplesText(s: SutResult, inv: string): string {
  const v = s.violations[inv];
  if (!v) return "";
  return v.examples.map((e) => `${e.id}: ${e.detail}`).join("\n");
}

export function casesFor(s: SutResult): Case[] {
  const classname = `oversell.${s.name}`;
  const timeSec = (s.durationMs ?? 0) / 1000;
  const cases: Case[] = [];
  const expectedV = new Set(s.expectedViolations ?? []);
  const claims = new Set(s.claims);
  const verdictCase: Case = { name: `verdict (expected ${s.expected})`, classname, timeSec };
  if (s.verdict === "unknown")
    verdictCase.error = { message: `verdict unknown: ${s.verdictReason ?? "no reason given"}` };
  else if (s.verdict !== s.expected)
    verdictCase.failure = { message: `verdict ${s.verdict}, expected ${s.expected}`, body: s.verdictReason ?? "" };
  cases.push(verdictCase);
  for (const inv of ALL_CHECKS) {
    const count = s.violations[inv]?.count ?? 0;
    const c: Case = { name: inv, classname, timeSec: 0 };
    if (s.verdict === "unknown" && count === 0) c.skipped = "not judged: the run could not be judged";
    else if (expectedV.has(inv)) {
      if (count === 0) c.failure = { message: `expected violation "${inv}" was not caught`, body: "" };
      else c.out = `expected violation caught: ${count}\n${examplesText(s, inv)}`;
    } else if (claims.has(inv)) {
      if (count > 0) c.failure = { message: `${count} ${inv} violation(s)`, body: examplesText(s, inv) };
    } else if (count > 0) c.skipped = `not claimed by ${s.name}: ${count} ${inv} violation(s) (info)`;
    cases.push(c);
  }
  return cases;
}

export function renderJunit(r: RunResult): string {
  const suites = r.suts.map((s) => {
    const cases = casesFor(s);
    const failures = cases.filter((c) => c.failure).length;
    const errors = cases.filter((c) => c.error).length;
    const skipped = cases.filter((c) => c.skipped).length;
    const body = cases.map(caseXml).join("\n");
    return (
      `  <testsuite name="${esc(`${s.name} (${r.scenario.name}, seed ${r.seed})`)}" tests="${cases.length}" ` +
      `failures="${failures}" errors="${errors}" skipped="${skipped}" ` +
      `time="${((s.durationMs ?? 0) / 1000).toFixed(3)}" timestamp="${esc(r.startedAt)}">\n${body}\n  </testsuite>`
    );
  });
  const all = r.suts.flatMap(casesFor);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="oversell ${esc(r.runId)}" tests="${all.length}" ` +
    `failures="${all.filter((c) => c.failure).length}" errors="${all.filter((c) => c.error).length}">\n` +
    `${suites.join("\n")}\n</testsuites>\n`
  );
}

/** One <testcase> element; shared by the run's and the gate's junit.xml. */
export function caseXml(c: Case): string {
  const inner = [
    c.failure ? `      <failure message="${esc(c.failure.message)}">${esc(c.failure.body)}</failure>` : "",
    c.error ? `      <error message="${esc(c.error.message)}"/>` : "",
    c.skipped ? `      <skipped message="${esc(c.skipped)}"/>` : "",
    c.out ? `      <system-out>${esc(c.out)}</system-out>` : "",
  ].filter(Boolean);
  const open = `    <testcase name="${esc(c.name)}" classname="${esc(c.classname)}" time="${c.timeSec.toFixed(3)}"`;
  return inner.length ? `${open}>\n${inner.join("\n")}\n    </testcase>` : `${open}/>`;
}
