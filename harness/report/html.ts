// report.html: one self-contained page per run (and a comparison page for several runs).
// No script at all: charts are SVG drawn here, examples expand with <details>, tooltips are SVG <title>s.
// A Content-Security-Policy forbids scripts and any fetch, so the file opens offline and a value that
// escaped escaping still could not run. Every run value goes through the `html` tag (html-markup.ts).
import { mkdirSync, writeFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import { ALL_CHECKS } from "../checker/types.ts";
import {
  type Axis,
  type Band,
  lineChart,
  linearAxis,
  type LineSeries,
  logAxis,
  percentileAxis,
  percentileX,
  unitsChart,
} from "./html-charts.ts";
import { html, type Html, join, type Markup, trusted } from "./html-markup.ts";
import type { RunResult, SutResult } from "./result-schema.ts";
import { REPORT_CSS } from "./html-style.ts";

export interface HtmlReportOptions {
  /** Products drawn per SUT (oversold first). Default 30. */
  maxProducts?: number;
  /** Shown in the footer; default now. */
  generatedAt?: Date;
}

export interface ComparisonOptions {
  /** Per run, a link (relative to the comparison page) to its report.html. */
  links?: (string | undefined)[];
  generatedAt?: Date;
}

export const PALETTE = [
  "#0969da",
  "#cf222e",
  "#1a7f37",
  "#8250df",
  "#bc4c00",
  "#1b7c83",
  "#bf3989",
  "#57606a",
  "#4d2d00",
  "#0550ae",
  "#a40e26",
  "#116329",
];
const MAX_SERIES_POINTS = 600;

// ---------- formatting ----------

export function fmtMs(us: number | undefined): string {
  if (us === undefined || !Number.isFinite(us)) return "—";
  const ms = us / 1000;
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return Math.round(ms).toLocaleString("en-US");
}

function fmtAxisMs(ms: number): string {
  if (ms === 0) return "0";
  if (ms >= 1000) return `${Number((ms / 1000).toPrecision(3))} s`;
  return `${Number(ms.toPrecision(3))} ms`;
}

function fmtInt(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? "—" : Math.round(n).toLocaleString("en-US");
}

function fmtRate(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "—";
  return n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString("en-US");
}

/** An external cluster does not tell its version over the protocol kafkajs speaks. */
function kafkaVersion(k: RunResult["kafka"]): string {
  return k.version ?? (k.embedded ? "?" : "external, version unknown");
}

function fmtSec(s: number): string {
  return `${Number(s.toFixed(s < 10 ? 1 : 0))} s`;
}

function fmtDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function sutKey(i: number, name: string): string {
  return `sut-${i}-${name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .slice(0, 40)}`;
}

type Outcome = "as-expected" | "unexpected" | "unknown";

function outcome(s: SutResult): Outcome {
  if (s.verdict === "unknown") return "unknown";
  return s.verdict === s.expected ? "as-expected" : "unexpected";
}

function verdictBadge(v: string): Html {
  return html`<span class="badge v-${v}">${v.toUpperCase()}</span>`;
}

function expectationText(s: SutResult): Html {
  const o = outcome(s);
  const mark = o === "as-expected" ? "✓" : o === "unexpected" ? "✗" : "?";
  return html`<span class="expect o-${o}">expected ${s.expected} ${mark}</span>`;
}

// ---------- invariants ----------

interface CheckRow {
  name: string;
  count: number;
  claimed: boolean;
  expected: boolean | undefined;
  examples: { id: string; detail: string; events?: unknown[] }[];
}

function checkRows(s: SutResult): CheckRow[] {
  const names: string[] = [
    ...ALL_CHECKS,
    ...Object.keys(s.violations).filter((k) => !(ALL_CHECKS as readonly string[]).includes(k)),
  ];
  const knowsExpected = s.expectedViolations !== undefined || s.expected === "pass";
  return names.map((name) => {
    const v = s.violations[name];
    return {
      name,
      count: v?.count ?? 0,
      claimed: s.claims.includes(name),
      expected: knowsExpected ? (s.expectedViolations ?? []).includes(name) : undefined,
      examples: v?.examples ?? [],
    };
  });
}

function checkStatus(r: CheckRow): { text: string; cls: string } {
  if (r.name === "aborted-read")
    return r.count > 0 ? { text: "info: aborted transactions", cls: "info" } : { text: "none", cls: "ok" };
  if (r.count > 0 && r.expected) return { text: "caught ✓ (expected)", cls: "caught" };
  if (r.count > 0 && r.claimed) return { text: "VIOLATED", cls: "bad" };
  if (r.count > 0) return { text: "seen (not claimed)", cls: "warn" };
  if (r.expected) return { text: "not caught ✗", cls: "bad" };
  return { text: "holds", cls: "ok" };
}

function eventText(e: unknown): string {
  try {
    return typeof e === "string" ? e : JSON.stringify(e);
  } catch {
    return String(e);
  }
}

function examplesCell(r: CheckRow): Html {
  if (r.examples.length === 0) return html`<span class="muted">—</span>`;
  const items = r.examples.map(
    (ex) =>
      html`<li><code class="ex-id">${ex.id}</code> <span class="ex-detail">${ex.detail}</span>${
        ex.events && ex.events.length > 0
          ? html`<pre class="ex-events">${ex.events.map(eventText).join("\n")}</pre>`
          : ""
      }</li>`,
  );
  return html`<details class="examples"><summary>${r.examples.length} example${r.examples.length === 1 ? "" : "s"}${r.count > r.examples.length ? ` of ${fmtInt(r.count)}` : ""}</summary><ol>${items}</ol></details>`;
}

function invariantTable(s: SutResult, key: string): Html {
  const rows = checkRows(s).map((r) => {
    const st = checkStatus(r);
    return html`<tr class="check c-${st.cls}" data-check="${r.name}"><td><code>${r.name}</code></td><td class="num">${fmtInt(r.count)}</td><td><span class="st st-${st.cls}">${st.text}</span></td><td>${r.claimed ? "claimed" : html`<span class="muted">no</span>`}</td><td>${r.expected === undefined ? html`<span class="muted">?</span>` : r.expected ? "yes" : html`<span class="muted">no</span>`}</td><td>${examplesCell(r)}</td></tr>`;
  });
  return html`<table class="invariants" id="${key}-invariants"><thead><tr><th>check</th><th class="num">violations</th><th>result</th><th>claimed by the SUT</th><th>expected to be caught</th><th>examples (orderIds and their events)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

// ---------- charts of one SUT ----------

function curvePoints(p: SutResult["latencyUs"]["decision"]): { percentile: number; us: number }[] {
  if (p.curve && p.curve.length > 0) return [...p.curve].sort((a, b) => a.percentile - b.percentile);
  // No curve recorded: the summary percentiles still make a coarse one.
  return [
    { percentile: 50, us: p.p50 },
    { percentile: 90, us: p.p90 },
    { percentile: 99, us: p.p99 },
    { percentile: 99.9, us: p.p999 },
    { percentile: 100, us: p.max },
  ];
}

function curveCap(curves: { percentile: number }[][]): number {
  let maxX = 0;
  for (const c of curves)
    for (const p of c) if (p.percentile < 100) maxX = Math.max(maxX, percentileX(p.percentile, 9));
  return Math.min(6, Math.max(3, Math.ceil(maxX + 0.25)));
}

function curveChart(
  id: string,
  label: string,
  entries: {
    name: string;
    color: string;
    curve: { percentile: number; us: number }[];
    width?: number;
    dash?: string;
  }[],
  width: number,
  height: number,
): Html {
  const cap = curveCap(entries.map((e) => e.curve));
  const maxMs = Math.max(0.001, ...entries.flatMap((e) => e.curve.map((p) => p.us / 1000)));
  const series: LineSeries[] = entries.map((e) => ({
    name: e.name,
    color: e.color,
    width: e.width,
    dash: e.dash,
    points: e.curve.map((p) => ({ x: percentileX(p.percentile, cap), y: p.us / 1000 })),
    markers: (pt) => {
      const src = e.curve.find(
        (p) => Math.abs(percentileX(p.percentile, cap) - pt.x) < 1e-9 && Math.abs(p.us / 1000 - pt.y) < 1e-9,
      );
      const pct = src ? (src.percentile >= 100 ? "max (100%)" : `${Number(src.percentile.toFixed(4))}%`) : "";
      return `${e.name} ${pct}: ${fmtMs(pt.y * 1000)} ms`;
    },
  }));
  const y = linearAxis(0, maxMs, "latency", fmtAxisMs);
  return lineChart({ id, label, x: percentileAxis(cap), y, series, width, height });
}

interface Row {
  t: number;
  offered: number;
  acked: number;
  decided: number;
  p50?: number;
  p99?: number;
  max?: number;
}

/**
 * Sorted rows of `unitSec` buckets (1 s; 0.01 s for a short run), counts per second; missing buckets are zero counts
 * (and no latency); long runs are merged into wider buckets.
 */
function prepareSeries(series: NonNullable<SutResult["series"]>, unitSec = 1): { rows: Row[]; bucketSec: number } {
  const src = [...series].sort((a, b) => a.tSec - b.tSec);
  const rows: Row[] = [];
  for (const p of src) {
    const prev = rows[rows.length - 1];
    if (prev) {
      const end = Math.round(p.tSec / unitSec);
      for (let k = Math.round(prev.t / unitSec) + 1; k < end && rows.length < 100_000; k++)
        rows.push({ t: k * unitSec, offered: 0, acked: 0, decided: 0 });
    }
    rows.push({
      t: p.tSec,
      offered: p.offered / unitSec,
      acked: p.acked / unitSec,
      decided: p.decided / unitSec,
      p50: p.p50Us,
      p99: p.p99Us,
      max: p.maxUs,
    });
  }
  if (rows.length <= MAX_SERIES_POINTS) return { rows, bucketSec: unitSec };
  const k = Math.ceil(rows.length / MAX_SERIES_POINTS);
  const merged: Row[] = [];
  for (let i = 0; i < rows.length; i += k) {
    const g = rows.slice(i, i + k);
    const lat = (f: (r: Row) => number | undefined, agg: (xs: number[]) => number) => {
      const xs = g.map(f).filter((v): v is number => v !== undefined);
      return xs.length ? agg(xs) : undefined;
    };
    merged.push({
      t: g[0]!.t,
      offered: g.reduce((a, r) => a + r.offered, 0) / g.length,
      acked: g.reduce((a, r) => a + r.acked, 0) / g.length,
      decided: g.reduce((a, r) => a + r.decided, 0) / g.length,
      p50: lat(
        (r) => r.p50,
        (xs) => xs.reduce((a, b) => a + b, 0) / xs.length,
      ),
      p99: lat(
        (r) => r.p99,
        (xs) => Math.max(...xs),
      ),
      max: lat(
        (r) => r.max,
        (xs) => Math.max(...xs),
      ),
    });
  }
  return { rows: merged, bucketSec: k * unitSec };
}

function faultBands(s: SutResult, t0: number | undefined): Band[] {
  if (t0 === undefined) return [];
  return s.faults
    .filter((f) => Number.isFinite(f.at))
    .map((f) => {
      const from = (f.at - t0) / 1000;
      const to = Number.isFinite(f.until) && f.until > f.at ? (f.until - t0) / 1000 : from;
      return {
        from,
        to,
        label: `${f.kind} ${f.target}`,
        title: `${f.kind} ${f.target}: ${fmtSec(from)} → ${fmtSec(to)}${f.detail ? ` (${f.detail})` : ""}`,
      };
    });
}

function timeCharts(s: SutResult, key: string, t0: number | undefined): Html {
  if (!s.series || s.series.length === 0) {
    return html`<p class="no-data">No time series in result.json: latency and throughput over time cannot be drawn.</p>`;
  }
  const { rows, bucketSec } = prepareSeries(s.series, (s.seriesBucketMs ?? 1000) / 1000);
  const bands = faultBands(s, t0);
  const tMin = Math.min(0, rows[0]!.t);
  const tMax = Math.max(rows[rows.length - 1]!.t + bucketSec, (s.durationMs ?? 0) / 1000);
  const x: Axis = linearAxis(
    tMin,
    tMax,
    `seconds since load start${bucketSec !== 1 ? ` (each point: ${bucketSec} s)` : ""}`,
    (v) => `${v}`,
    10,
  );
  const toMs = (us: number | undefined) => (us === undefined ? undefined : us / 1000);
  const lat = rows
    .flatMap((r) => [r.p50, r.p99, r.max])
    .filter((v): v is number => v !== undefined && v > 0)
    .map((v) => v / 1000);
  let latChart: Html;
  if (lat.length === 0) {
    latChart = html`<p class="no-data">No decision latency per second in the series.</p>`;
  } else {
    const lo = Math.min(...lat);
    const hi = Math.max(...lat);
    // A fault's tail would flatten p50 on a linear axis: switch to log when the spread is wide.
    const y =
      hi / lo > 50
        ? logAxis(lo, hi, "decision latency (log scale)", fmtAxisMs)
        : linearAxis(0, hi, "decision latency", fmtAxisMs);
    latChart = lineChart({
      id: `chart-${key}-latency`,
      label: "decision latency over time",
      x,
      y,
      bands,
      series: [
        { name: "p50", color: "#0969da", points: rows.map((r) => ({ x: r.t, y: toMs(r.p50) })) },
        { name: "p99", color: "#bc4c00", points: rows.map((r) => ({ x: r.t, y: toMs(r.p99) })) },
        {
          name: "max",
          color: "#8c959f",
          width: 1.5,
          dash: "4 3",
          points: rows.map((r) => ({ x: r.t, y: toMs(r.max) })),
        },
      ],
      hover: rows.map((r) => ({
        x: r.t,
        text: `t = ${fmtSec(r.t)}: p50 ${fmtMs(r.p50)} ms · p99 ${fmtMs(r.p99)} ms · max ${fmtMs(r.max)} ms`,
      })),
      height: 280,
    });
  }
  const maxRate = Math.max(1, ...rows.flatMap((r) => [r.offered, r.acked, r.decided]));
  const tpChart = lineChart({
    id: `chart-${key}-throughput`,
    label: "throughput over time",
    x,
    y: linearAxis(0, maxRate, "orders per second", (v) => fmtInt(v)),
    bands,
    series: [
      { name: "offered", color: "#8c959f", dash: "5 3", points: rows.map((r) => ({ x: r.t, y: r.offered })) },
      { name: "acked", color: "#0969da", points: rows.map((r) => ({ x: r.t, y: r.acked })) },
      { name: "decided", color: "#1a7f37", points: rows.map((r) => ({ x: r.t, y: r.decided })) },
    ],
    hover: rows.map((r) => ({
      x: r.t,
      text: `t = ${fmtSec(r.t)}: offered ${fmtRate(r.offered)}/s · acked ${fmtRate(r.acked)}/s · decided ${fmtRate(r.decided)}/s`,
    })),
    height: 260,
  });
  const note =
    t0 === undefined && s.faults.length > 0
      ? html`<p class="note">Fault windows are not shaded: the result has no load start time.</p>`
      : "";
  return html`<figure class="wide"><figcaption>Decision latency per second (p50, p99, max)</figcaption>${latChart}</figure>
<figure class="wide"><figcaption>Throughput: orders offered, acknowledged by the broker and decided by the SUT, per second</figcaption>${tpChart}</figure>${note}`;
}

type Product = NonNullable<SutResult["products"]>[number];

function productRows(s: SutResult, cap: number): { rows: Product[]; total: number; oversold: number } {
  const all = s.products ?? [];
  const excess = (p: Product) => p.sold + p.held - p.stock;
  const sorted = [...all].sort((a, b) => excess(b) - excess(a) || b.sold + b.held - (a.sold + a.held));
  return { rows: sorted.slice(0, cap), total: all.length, oversold: all.filter((p) => excess(p) > 0).length };
}

function unitsFigure(s: SutResult, key: string, cap: number): Html {
  const { rows, total, oversold } = productRows(s, cap);
  if (rows.length === 0) {
    const u = s.units;
    return html`<figure><figcaption>Units sold vs stock</figcaption>${
      u
        ? html`<p class="units-total">all products: stock ${fmtInt(u.stock)}, sold ${fmtInt(u.sold)}, held ${fmtInt(u.held)}</p>`
        : ""
    }<p class="no-data">No per-product data in result.json.</p></figure>`;
  }
  const caption = `Units sold + held vs stock per product — ${oversold} oversold${total > rows.length ? `; ${rows.length} of ${total} drawn, oversold first` : ""}`;
  return html`<figure><figcaption>${caption}</figcaption>${unitsChart(`chart-${key}-units`, rows)}</figure>`;
}

function latencyTable(s: SutResult): Html {
  const rows = (
    [
      ["decision (intended send → committed decision)", s.latencyUs.decision],
      ["broker ack (send → ack)", s.latencyUs.ack],
      ["send delay (intended → actual send)", s.latencyUs.sendDelay],
    ] as const
  ).map(
    ([name, p]) =>
      html`<tr><td>${name}</td><td class="num">${fmtMs(p.p50)}</td><td class="num">${fmtMs(p.p90)}</td><td class="num">${fmtMs(p.p99)}</td><td class="num">${fmtMs(p.p999)}</td><td class="num">${fmtMs(p.max)}</td><td class="num">${fmtMs(p.mean)}</td><td class="num">${fmtInt(p.count)}</td></tr>`,
  );
  return html`<table class="latency"><thead><tr><th>latency (ms)</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">p99.9</th><th class="num">max</th><th class="num">mean</th><th class="num">count</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function faultTable(s: SutResult, t0: number | undefined): Html {
  const crashes = s.crashes ?? [];
  if (s.faults.length === 0 && crashes.length === 0)
    return html`<p class="muted">No faults injected; no instance exited on its own.</p>`;
  const rel = (ms: number) =>
    t0 === undefined || !Number.isFinite(ms) ? new Date(ms).toISOString() : `+${fmtSec((ms - t0) / 1000)}`;
  const rows = s.faults.map(
    (f) =>
      html`<tr><td>${f.kind}</td><td>${f.target}</td><td class="num">${rel(f.at)}</td><td class="num">${f.until > f.at ? rel(f.until) : "—"}</td><td class="num">${f.until > f.at ? fmtDuration(f.until - f.at) : "—"}</td><td>${f.detail ?? ""}</td></tr>`,
  );
  const crashList = crashes.length
    ? html`<p class="callout warn">Exited on their own (not killed by the nemesis): ${join(
        crashes.map((c) => html`<code>${c.instance}</code> (exit ${c.code === null ? "signal" : c.code})`),
        ", ",
      )}</p>`
    : "";
  return html`${s.faults.length ? html`<table class="faults"><thead><tr><th>fault</th><th>target</th><th class="num">from</th><th class="num">until</th><th class="num">duration</th><th>detail</th></tr></thead><tbody>${rows}</tbody></table>` : ""}${crashList}`;
}

function ordersTiles(s: SutResult): Html {
  const o = s.orders;
  const tiles: [string, number | undefined][] = [
    ["sent", o.sent],
    ["acked", o.acked],
    ["decided", o.decided],
    ["reserved", o.reserved],
    ["confirmed", o.confirmed],
    ["rejected", o.rejected],
    ["cancelled", o.cancelled],
    ["expired", o.expired],
    ["invalid", o.invalid],
    ["failed", o.failed],
    ["unknown", o.unknown],
  ];
  const units = s.units
    ? ([
        ["stock S", s.units.stock],
        ["units sold", s.units.sold],
        ["units held", s.units.held],
      ] as [string, number][])
    : [];
  const tp: [string, string][] = [
    ["offered/s", fmtRate(s.throughput.offeredPerSec)],
    ["acked/s", fmtRate(s.throughput.ackedPerSec)],
    ["decided/s", fmtRate(s.throughput.decidedPerSec)],
  ];
  return html`<div class="tiles">${tiles.filter(([, v]) => v !== undefined).map(([k, v]) => html`<div class="tile"><b>${fmtInt(v)}</b><span>${k}</span></div>`)}${units.map(([k, v]) => html`<div class="tile unit"><b>${fmtInt(v)}</b><span>${k}</span></div>`)}${tp.map(([k, v]) => html`<div class="tile rate"><b>${v}</b><span>${k}</span></div>`)}</div>`;
}

/** Series tSec 0 (the first intended send), where fault times meet the series; without it, faults are listed but not shaded. */
function loadStart(s: SutResult): number | undefined {
  return s.seriesStartMs !== undefined && Number.isFinite(s.seriesStartMs) ? s.seriesStartMs : undefined;
}

function sutSection(s: SutResult, i: number, cap: number): Html {
  const key = sutKey(i, s.name);
  const t0 = loadStart(s);
  const decisionCurve = curvePoints(s.latencyUs.decision);
  const curves = [{ name: "decision", color: "#0969da", curve: decisionCurve }];
  const curveNote =
    s.latencyUs.decision.curve && s.latencyUs.decision.curve.length > 0
      ? ""
      : " (no curve recorded: drawn from p50/p90/p99/p99.9/max)";
  return html`<section class="sut o-${outcome(s)}" id="${key}">
<h2>${s.name} ${verdictBadge(s.verdict)} ${expectationText(s)}</h2>
<p class="sut-meta">${s.description ? html`${s.description} · ` : ""}namespace <code>${s.namespace}</code> · ${fmtInt(s.instances)} instance${s.instances === 1 ? "" : "s"} · ${s.confirms === undefined ? "" : s.confirms ? "confirms reservations · " : "reservation is final · "}claims: ${
    s.claims.length
      ? join(
          s.claims.map((c) => html`<code>${c}</code>`),
          " ",
        )
      : html`<i>none</i>`
  }${s.durationMs !== undefined ? html` · load ${fmtDuration(s.durationMs)}` : ""}</p>
${s.verdictReason ? html`<p class="callout ${s.verdict === "unknown" ? "warn" : "bad"}">${s.verdictReason}</p>` : ""}
${ordersTiles(s)}
<h3>Invariants</h3>
${invariantTable(s, key)}
<div class="grid2">${unitsFigure(s, key, cap)}<div><figure><figcaption>${`Decision latency by percentile${curveNote}`}</figcaption>${curveChart(`chart-${key}-curve`, "decision latency percentile curve", curves, 540, 340)}</figure>
${latencyTable(s)}</div></div>
<h3>Over time</h3>
${timeCharts(s, key, t0)}
<h3>Faults</h3>
${faultTable(s, t0)}
</section>`;
}

// ---------- the run page ----------

function runVerdictText(result: RunResult): string {
  const off = result.suts.filter((s) => outcome(s) === "unexpected").map((s) => s.name);
  const unk = result.suts.filter((s) => outcome(s) === "unknown").map((s) => s.name);
  const n = result.suts.length;
  if (n === 0) return "no SUT was run";
  const parts: string[] = [];
  if (off.length) parts.push(`not as expected: ${off.join(", ")}`);
  if (unk.length) parts.push(`could not be judged: ${unk.join(", ")}`);
  if (parts.length === 0) return `all ${n} SUT${n === 1 ? "" : "s"} behaved as expected`;
  return parts.join(" · ");
}

function claimedViolations(s: SutResult): { name: string; count: number }[] {
  return Object.entries(s.violations)
    .filter(([k, v]) => v.count > 0 && k !== "aborted-read")
    .map(([name, v]) => ({ name, count: v.count }));
}

/** Violations seen, coloured by what they mean for this SUT: a broken claim, an expected catch, or neither. */
function violationList(s: SutResult): Html {
  const v = claimedViolations(s);
  if (v.length === 0) return html`<span class="muted">no violations</span>`;
  return join(
    v.map((x) => {
      const cls = s.claims.includes(x.name)
        ? "viol"
        : (s.expectedViolations ?? []).includes(x.name)
          ? "caught"
          : "seen";
      return html`<span class="${cls}">${x.name} ${fmtInt(x.count)}</span>`;
    }),
    ", ",
  );
}

function sutCard(s: SutResult, i: number): Html {
  const viols = claimedViolations(s);
  const claimedBroken = viols.filter((v) => s.claims.includes(v.name));
  const caught = viols.filter((v) => (s.expectedViolations ?? []).includes(v.name));
  const missed = (s.expectedViolations ?? []).filter((e) => !viols.some((v) => v.name === e));
  const lines: Html[] = [];
  if (claimedBroken.length)
    lines.push(
      html`<li class="bad">claims broken: ${join(
        claimedBroken.map((v) => html`<b>${v.name}</b> ×${fmtInt(v.count)}`),
        ", ",
      )}</li>`,
    );
  else if (s.claims.length) lines.push(html`<li class="ok">claims hold (${s.claims.length})</li>`);
  else lines.push(html`<li class="muted">claims nothing</li>`);
  if (caught.length)
    lines.push(
      html`<li class="caught">caught as expected: ${join(
        caught.map((v) => html`<b>${v.name}</b> ×${fmtInt(v.count)}`),
        ", ",
      )}</li>`,
    );
  if (missed.length) lines.push(html`<li class="bad">expected but not caught: ${missed.join(", ")}</li>`);
  const other = viols.filter((v) => !s.claims.includes(v.name) && !(s.expectedViolations ?? []).includes(v.name));
  if (other.length)
    lines.push(html`<li class="warn">also seen: ${other.map((v) => `${v.name} ×${fmtInt(v.count)}`).join(", ")}</li>`);
  return html`<a class="sut-card o-${outcome(s)}" href="#${sutKey(i, s.name)}" data-sut="${s.name}">
<div class="card-head"><span class="card-name">${s.name}</span>${verdictBadge(s.verdict)}</div>
<div class="card-expect">${s.verdict} — ${expectationText(s)}</div>
<ul>${lines}</ul>
<div class="card-nums"><span><b>${fmtInt(s.orders.decided)}</b>/${fmtInt(s.orders.sent)} decided</span><span>p99 <b>${fmtMs(s.latencyUs.decision.p99)}</b> ms</span><span><b>${fmtRate(s.throughput.decidedPerSec)}</b>/s</span><span>${s.faults.length} fault${s.faults.length === 1 ? "" : "s"}</span></div>
${s.verdictReason ? html`<div class="card-reason">${s.verdictReason}</div>` : ""}
</a>`;
}

function overviewTable(result: RunResult): Html {
  const rows = result.suts.map(
    (s, i) =>
      html`<tr><td><a href="#${sutKey(i, s.name)}">${s.name}</a></td><td>${verdictBadge(s.verdict)} ${expectationText(s)}</td><td>${violationList(s)}</td><td class="num">${fmtMs(s.latencyUs.decision.p50)}</td><td class="num">${fmtMs(s.latencyUs.decision.p99)}</td><td class="num">${fmtMs(s.latencyUs.decision.p999)}</td><td class="num">${fmtMs(s.latencyUs.decision.max)}</td><td class="num">${fmtRate(s.throughput.offeredPerSec)}</td><td class="num">${fmtRate(s.throughput.decidedPerSec)}</td></tr>`,
  );
  return html`<table class="overview"><thead><tr><th>SUT</th><th>verdict</th><th>violations seen</th><th class="num">p50 ms</th><th class="num">p99 ms</th><th class="num">p99.9 ms</th><th class="num">max ms</th><th class="num">offered/s</th><th class="num">decided/s</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function scenarioParams(result: RunResult): string {
  const { name: _n, ...rest } = result.scenario;
  return Object.keys(rest).length ? JSON.stringify(rest, null, 2) : "";
}

function environmentSection(result: RunResult): Html {
  const env = result.environment;
  const k = result.kafka;
  const params = scenarioParams(result);
  const facts: [string, Markup][] = [
    ["run id", html`<code>${result.runId}</code>`],
    ["started", result.startedAt],
    ["finished", result.finishedAt ?? "—"],
    ["scenario", html`<b>${result.scenario.name}</b>`],
    ["seed", html`<code>${result.seed}</code>`],
    [
      "Kafka",
      `${k.version ?? "version unknown"} · ${k.brokers} broker${k.brokers === 1 ? "" : "s"} · ${k.embedded ? "embedded" : "external"} · ${k.bootstrap}`,
    ],
    [
      "machine",
      env
        ? `${env.cpus} cores · ${Number(env.memoryGiB.toFixed(1))} GiB memory · ${env.platform} · Node ${env.node}`
        : "not recorded",
    ],
    [
      "clients",
      env && Object.keys(env.clients).length
        ? join(
            Object.entries(env.clients).map(([n, v]) => html`<code>${n}@${v}</code>`),
            " ",
          )
        : "not recorded",
    ],
  ];
  return html`<section class="env" id="environment"><h2>Reproduce this run</h2>
<dl class="facts">${facts.map(([a, b]) => html`<dt>${a}</dt><dd>${b}</dd>`)}</dl>
${result.command ? html`<p>Command:</p><pre class="command"><code>${result.command}</code></pre>` : html`<p class="muted">The command line was not recorded.</p>`}
${params ? html`<details><summary>scenario parameters</summary><pre class="scenario">${params}</pre></details>` : ""}
</section>`;
}

export function page(title: string, body: Html, generatedAt: Date): string {
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${trusted(REPORT_CSS)}</style></head>
<body>${body}
<footer>Generated ${generatedAt.toISOString()} by oversell. Self-contained: no script, nothing fetched.</footer>
</body></html>
`.text;
}

export function renderReport(result: RunResult, opts: HtmlReportOptions = {}): string {
  const cap = opts.maxProducts ?? 30;
  const curves = result.suts.map((s, i) => ({
    name: s.name,
    color: PALETTE[i % PALETTE.length]!,
    curve: curvePoints(s.latencyUs.decision),
  }));
  const env = result.environment;
  const duration = result.finishedAt ? Date.parse(result.finishedAt) - Date.parse(result.startedAt) : NaN;
  const body = html`<header><h1>oversell <span class="muted">run</span> ${result.runId}</h1>
<p class="sub">scenario <b>${result.scenario.name}</b> · seed <code>${result.seed}</code> · Kafka ${kafkaVersion(result.kafka)} (${result.kafka.brokers} broker${result.kafka.brokers === 1 ? "" : "s"}) · ${env ? `${env.cpus} cores, ${Number(env.memoryGiB.toFixed(1))} GiB` : "machine not recorded"} · started ${result.startedAt}${Number.isFinite(duration) ? ` · ${fmtDuration(duration)}` : ""}</p></header>
<div class="run-verdict v-${result.verdict}" id="run-verdict"><span class="big">${result.verdict.toUpperCase()}</span><span>${runVerdictText(result)}</span></div>
<div class="cards">${result.suts.map((s, i) => sutCard(s, i))}</div>
${
  result.suts.length
    ? html`<section class="overview-sec"><h2>All SUTs on the same orders</h2>${overviewTable(result)}
<figure class="wide"><figcaption>Decision latency by percentile, every SUT (intended send → committed decision; open loop, so stalls are not hidden)</figcaption>${curveChart("chart-overview-curve", "decision latency percentile curves of all SUTs", curves, 1100, 320)}</figure></section>`
    : ""
}
${result.suts.map((s, i) => sutSection(s, i, cap))}
${environmentSection(result)}`;
  return page(
    `oversell ${result.verdict.toUpperCase()} — ${result.runId} (${result.scenario.name})`,
    body,
    opts.generatedAt ?? new Date(),
  );
}

/** Writes runDir/report.html and returns its path. */
export function writeHtmlReport(result: RunResult, runDir: string, opts: HtmlReportOptions = {}): string {
  mkdirSync(runDir, { recursive: true });
  const file = joinPath(runDir, "report.html");
  writeFileSync(file, renderReport(result, opts));
  return file;
}

// ---------- comparison ----------

function bar(value: number | undefined, max: number, cls: string): Html {
  const w =
    value === undefined || !Number.isFinite(value) || max <= 0 ? 0 : Math.max(1, Math.round((value / max) * 100));
  return html`<span class="ibar ${cls}"><span style="width:${w}%"></span></span>`;
}

export function renderComparison(results: RunResult[], opts: ComparisonOptions = {}): string {
  const runLabel = (r: RunResult) => `${r.scenario.name} · seed ${r.seed}`;
  const runs = results.map((r, i) => {
    const link = opts.links?.[i];
    return html`<tr class="run" data-run="${r.runId}"><td class="num">${i + 1}</td><td>${link ? html`<a href="${link}"><code>${r.runId}</code></a>` : html`<code>${r.runId}</code>`}</td><td>${r.startedAt}</td><td><b>${r.scenario.name}</b></td><td><code>${r.seed}</code></td><td>${`${kafkaVersion(r.kafka)} ×${r.kafka.brokers}`}</td><td>${r.environment ? `${r.environment.cpus} cores, ${Number(r.environment.memoryGiB.toFixed(1))} GiB` : "—"}</td><td>${verdictBadge(r.verdict)}</td></tr>`;
  });
  const names: string[] = [];
  for (const r of results) for (const s of r.suts) if (!names.includes(s.name)) names.push(s.name);
  const matrix = names.map((n) => {
    const cells = results.map((r) => {
      const s = r.suts.find((x) => x.name === n);
      if (!s) return html`<td class="muted">not run</td>`;
      const d = s.latencyUs.decision;
      return html`<td class="cell o-${outcome(s)}"><div>${verdictBadge(s.verdict)} ${expectationText(s)}</div><div>${violationList(s)}</div><div>p50 / p99 / p99.9: <b>${fmtMs(d.p50)}</b> / <b>${fmtMs(d.p99)}</b> / <b>${fmtMs(d.p999)}</b> ms</div><div>offered / decided: ${fmtRate(s.throughput.offeredPerSec)} / ${fmtRate(s.throughput.decidedPerSec)} /s</div></td>`;
    });
    return html`<tr><th scope="row">${n}</th>${cells}</tr>`;
  });
  const flat = results.flatMap((r, ri) => r.suts.map((s) => ({ r, ri, s })));
  const maxLat = Math.max(1, ...flat.map(({ s }) => s.latencyUs.decision.p999));
  const maxTp = Math.max(1, ...flat.map(({ s }) => Math.max(s.throughput.offeredPerSec, s.throughput.decidedPerSec)));
  const detail = flat.map(({ r, ri, s }) => {
    const d = s.latencyUs.decision;
    return html`<tr class="pair"><td class="num">${ri + 1}</td><td>${runLabel(r)}</td><td><b>${s.name}</b></td><td>${verdictBadge(s.verdict)} ${expectationText(s)}</td><td>${violationList(s)}</td>
<td class="num">${fmtMs(d.p50)}${bar(d.p50, maxLat, "p50")}</td><td class="num">${fmtMs(d.p99)}${bar(d.p99, maxLat, "p99")}</td><td class="num">${fmtMs(d.p999)}${bar(d.p999, maxLat, "p999")}</td>
<td class="num">${fmtRate(s.throughput.offeredPerSec)}${bar(s.throughput.offeredPerSec, maxTp, "offered")}</td><td class="num">${fmtRate(s.throughput.decidedPerSec)}${bar(s.throughput.decidedPerSec, maxTp, "decided")}</td></tr>`;
  });
  const shown = flat.slice(0, PALETTE.length);
  const curves = shown.map(({ r, ri, s }, i) => ({
    name: `${s.name} @ ${ri + 1}:${r.scenario.name}`,
    color: PALETTE[i]!,
    curve: curvePoints(s.latencyUs.decision),
  }));
  const verdicts = results.map((r) => r.verdict);
  const overall = verdicts.includes("fail") ? "fail" : verdicts.includes("unknown") ? "unknown" : "pass";
  const body = html`<header><h1>oversell <span class="muted">comparison of</span> ${results.length} run${results.length === 1 ? "" : "s"}</h1>
<p class="sub">${results.map((r) => runLabel(r)).join(" · ")}</p></header>
<div class="run-verdict v-${overall}" id="run-verdict"><span class="big">${overall.toUpperCase()}</span><span>${`${results.filter((r) => r.verdict === "pass").length} of ${results.length} runs pass`}</span></div>
<section><h2>Runs</h2><table class="runs" id="comparison-runs"><thead><tr><th class="num">#</th><th>run</th><th>started</th><th>scenario</th><th>seed</th><th>Kafka</th><th>machine</th><th>verdict</th></tr></thead><tbody>${runs}</tbody></table></section>
<section><h2>SUTs × runs</h2><table class="matrix" id="comparison-matrix"><thead><tr><th>SUT</th>${results.map((r, i) => html`<th>${`${i + 1}: ${runLabel(r)}`}<br><code class="muted">${r.runId}</code></th>`)}</tr></thead><tbody>${matrix}</tbody></table></section>
<section><h2>Side by side</h2><table class="detail" id="comparison-table"><thead><tr><th class="num">#</th><th>run</th><th>SUT</th><th>verdict</th><th>violations</th><th class="num">p50 ms</th><th class="num">p99 ms</th><th class="num">p99.9 ms</th><th class="num">offered/s</th><th class="num">decided/s</th></tr></thead><tbody>${detail}</tbody></table>
${flat.length ? html`<figure class="wide"><figcaption>${`Decision latency by percentile${flat.length > shown.length ? ` (first ${shown.length} of ${flat.length})` : ""}`}</figcaption>${curveChart("chart-comparison-curve", "decision latency percentile curves of every run and SUT", curves, 1100, 360)}</figure>` : ""}</section>`;
  return page(`oversell comparison — ${results.map((r) => r.runId).join(", ")}`, body, opts.generatedAt ?? new Date());
}
