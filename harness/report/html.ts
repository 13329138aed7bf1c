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
import { latencyFromText } from "./summary.ts";

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

function verdictBanner(verdict: string, text: string): Html {
  return join([
    html`<div class="run-verdict v-${verdict}" id="run-verdict">`,
    html`<span class="big">${verdict.toUpperCase()}</span><span>${text}</span></div>`,
  ]);
}

/** "N cores, M GiB", or undefined when the machine was not recorded. */
function machineText(env: RunResult["environment"]): string | undefined {
  return env ? `${env.cpus} cores, ${Number(env.memoryGiB.toFixed(1))} GiB` : undefined;
}

// ---------- table and figure pieces ----------

const th = (label: string) => html`<th>${label}</th>`;
const thNum = (label: string) => html`<th class="num">${label}</th>`;
const td = (content: Markup) => html`<td>${content}</td>`;
const tdNum = (content: Markup) => html`<td class="num">${content}</td>`;
const tr = (...cells: Html[]) => html`<tr>${cells}</tr>`;
const muted = (content: Markup) => html`<span class="muted">${content}</span>`;

function thead(cols: Html[]): Html {
  return html`<thead><tr>${cols}</tr></thead>`;
}

function wideFigure(caption: string, chart: Html): Html {
  return html`<figure class="wide"><figcaption>${caption}</figcaption>${chart}</figure>`;
}

/** A SUT's verdict and whether it was the expected one. */
function verdictCell(s: SutResult): Html {
  return td(html`${verdictBadge(s.verdict)} ${expectationText(s)}`);
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
  if (r.examples.length === 0) return muted("—");
  const items = r.examples.map(
    (ex) =>
      html`<li><code class="ex-id">${ex.id}</code> <span class="ex-detail">${ex.detail}</span>${
        ex.events && ex.events.length > 0
          ? html`<pre class="ex-events">${ex.events.map(eventText).join("\n")}</pre>`
          : ""
      }</li>`,
  );
  const n = r.examples.length;
  const summary = `${n} example${n === 1 ? "" : "s"}${r.count > n ? ` of ${fmtInt(r.count)}` : ""}`;
  return html`<details class="examples"><summary>${summary}</summary><ol>${items}</ol></details>`;
}

function invariantTable(s: SutResult, key: string): Html {
  const rows = checkRows(s).map((r) => {
    const st = checkStatus(r);
    return join([
      html`<tr class="check c-${st.cls}" data-check="${r.name}">`,
      td(html`<code>${r.name}</code>`),
      tdNum(fmtInt(r.count)),
      td(html`<span class="st st-${st.cls}">${st.text}</span>`),
      td(r.claimed ? "claimed" : muted("no")),
      td(r.expected === undefined ? muted("?") : r.expected ? "yes" : muted("no")),
      td(examplesCell(r)),
      html`</tr>`,
    ]);
  });
  const head = thead([
    th("check"),
    thNum("violations"),
    th("result"),
    th("claimed by the SUT"),
    th("expected to be caught"),
    th("examples (orderIds and their events)"),
  ]);
  return html`<table class="invariants" id="${key}-invariants">${head}<tbody>${rows}</tbody></table>`;
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

/** What the charts over time share: the rows, their x axis and the fault windows shaded on it. */
interface TimeFrame {
  key: string;
  rows: Row[];
  x: Axis;
  bands: Band[];
}

function timeCharts(s: SutResult, key: string, t0: number | undefined): Html {
  if (!s.series || s.series.length === 0) {
    const why = "No time series in result.json: latency and throughput over time cannot be drawn.";
    return html`<p class="no-data">${why}</p>`;
  }
  const { rows, bucketSec } = prepareSeries(s.series, (s.seriesBucketMs ?? 1000) / 1000);
  const frame: TimeFrame = { key, rows, x: timeAxis(rows, bucketSec, s.durationMs), bands: faultBands(s, t0) };
  const note =
    t0 === undefined && s.faults.length > 0
      ? html`<p class="note">Fault windows are not shaded: the result has no load start time.</p>`
      : "";
  const tpCaption = "Throughput: orders offered, acknowledged by the broker and decided by the SUT, per second";
  return html`${wideFigure("Decision latency per second (p50, p99, max)", latencyOverTime(frame))}
${wideFigure(tpCaption, throughputOverTime(frame))}${note}`;
}

function timeAxis(rows: Row[], bucketSec: number, durationMs: number | undefined): Axis {
  const tMin = Math.min(0, rows[0]!.t);
  const tMax = Math.max(rows[rows.length - 1]!.t + bucketSec, (durationMs ?? 0) / 1000);
  const title = `seconds since load start${bucketSec !== 1 ? ` (each point: ${bucketSec} s)` : ""}`;
  return linearAxis(tMin, tMax, title, (v) => `${v}`, 10);
}

function latencyOverTime({ key, rows, x, bands }: TimeFrame): Html {
  const toMs = (us: number | undefined) => (us === undefined ? undefined : us / 1000);
  const lat = rows
    .flatMap((r) => [r.p50, r.p99, r.max])
    .filter((v): v is number => v !== undefined && v > 0)
    .map((v) => v / 1000);
  if (lat.length === 0) return html`<p class="no-data">No decision latency per second in the series.</p>`;
  const lo = Math.min(...lat);
  const hi = Math.max(...lat);
  // A fault's tail would flatten p50 on a linear axis: switch to log when the spread is wide.
  const y =
    hi / lo > 50
      ? logAxis(lo, hi, "decision latency (log scale)", fmtAxisMs)
      : linearAxis(0, hi, "decision latency", fmtAxisMs);
  return lineChart({
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

function throughputOverTime({ key, rows, x, bands }: TimeFrame): Html {
  const maxRate = Math.max(1, ...rows.flatMap((r) => [r.offered, r.acked, r.decided]));
  return lineChart({
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
      text:
        `t = ${fmtSec(r.t)}: offered ${fmtRate(r.offered)}/s · acked ${fmtRate(r.acked)}/s` +
        ` · decided ${fmtRate(r.decided)}/s`,
    })),
    height: 260,
  });
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
    const totals = u && `all products: stock ${fmtInt(u.stock)}, sold ${fmtInt(u.sold)}, held ${fmtInt(u.held)}`;
    return join([
      html`<figure><figcaption>Units sold vs stock</figcaption>`,
      totals ? html`<p class="units-total">${totals}</p>` : "",
      html`<p class="no-data">No per-product data in result.json.</p></figure>`,
    ]);
  }
  const drawn = total > rows.length ? `; ${rows.length} of ${total} drawn, oversold first` : "";
  const caption = `Units sold + held vs stock per product — ${oversold} oversold${drawn}`;
  return html`<figure><figcaption>${caption}</figcaption>${unitsChart(`chart-${key}-units`, rows)}</figure>`;
}

function latencyTable(s: SutResult): Html {
  const rows = (
    [
      ["decision (intended send → committed decision)", s.latencyUs.decision],
      ["broker ack (send → ack)", s.latencyUs.ack],
      ["send delay (intended → actual send)", s.latencyUs.sendDelay],
    ] as const
  ).map(([name, p]) =>
    tr(td(name), ...[p.p50, p.p90, p.p99, p.p999, p.max, p.mean].map((us) => tdNum(fmtMs(us))), tdNum(fmtInt(p.count))),
  );
  const head = thead([th("latency (ms)"), ...["p50", "p90", "p99", "p99.9", "max", "mean", "count"].map(thNum)]);
  return html`<table class="latency">${head}<tbody>${rows}</tbody></table>`;
}

function faultTable(s: SutResult, t0: number | undefined): Html {
  const crashes = s.crashes ?? [];
  if (s.faults.length === 0 && crashes.length === 0)
    return html`<p class="muted">No faults injected; no instance exited on its own.</p>`;
  const rel = (ms: number) =>
    t0 === undefined || !Number.isFinite(ms) ? new Date(ms).toISOString() : `+${fmtSec((ms - t0) / 1000)}`;
  const rows = s.faults.map((f) => {
    const lasts = f.until > f.at;
    return tr(
      td(f.kind),
      td(f.target),
      tdNum(rel(f.at)),
      tdNum(lasts ? rel(f.until) : "—"),
      tdNum(lasts ? fmtDuration(f.until - f.at) : "—"),
      td(f.detail ?? ""),
    );
  });
  const crashList = crashes.length
    ? html`<p class="callout warn">Exited on their own (not killed by the nemesis): ${join(
        crashes.map((c) => html`<code>${c.instance}</code> (exit ${c.code === null ? "signal" : c.code})`),
        ", ",
      )}</p>`
    : "";
  const head = thead([th("fault"), th("target"), thNum("from"), thNum("until"), thNum("duration"), th("detail")]);
  const table = s.faults.length ? html`<table class="faults">${head}<tbody>${rows}</tbody></table>` : "";
  return html`${table}${crashList}`;
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
  const tile = (cls: string, label: string, value: string) =>
    html`<div class="${cls}"><b>${value}</b><span>${label}</span></div>`;
  return join([
    html`<div class="tiles">`,
    ...tiles.filter(([, v]) => v !== undefined).map(([k, v]) => tile("tile", k, fmtInt(v))),
    ...units.map(([k, v]) => tile("tile unit", k, fmtInt(v))),
    ...tp.map(([k, v]) => tile("tile rate", k, v)),
    html`</div>`,
  ]);
}

/**
 * Series tSec 0 (the first intended send), where fault times meet the series; without it, faults are listed
 * but not shaded.
 */
function loadStart(s: SutResult): number | undefined {
  return s.seriesStartMs !== undefined && Number.isFinite(s.seriesStartMs) ? s.seriesStartMs : undefined;
}

function sutSection(s: SutResult, i: number, cap: number): Html {
  const key = sutKey(i, s.name);
  const t0 = loadStart(s);
  const reason = s.verdictReason
    ? html`<p class="callout ${s.verdict === "unknown" ? "warn" : "bad"}">${s.verdictReason}</p>`
    : "";
  return html`<section class="sut o-${outcome(s)}" id="${key}">
<h2>${s.name} ${verdictBadge(s.verdict)} ${expectationText(s)}</h2>
${sutMeta(s)}
${reason}
${ordersTiles(s)}
<h3>Invariants</h3>
${invariantTable(s, key)}
<div class="grid2">${unitsFigure(s, key, cap)}<div>${sutCurveFigure(s, key)}
${latencyTable(s)}${latencyFromNote(s)}</div></div>
<h3>Over time</h3>
${timeCharts(s, key, t0)}
<h3>Faults</h3>
${faultTable(s, t0)}
</section>`;
}

/** The line under a SUT's heading: what it is, where it ran, what it claims. */
function latencyFromNote(s: SutResult): Html | "" {
  return s.latencyFrom ? html`<p class="note">Latency measured from: ${latencyFromText(s.latencyFrom)}.</p>` : "";
}

function sutMeta(s: SutResult): Html {
  const finality = s.confirms === undefined ? "" : s.confirms ? "confirms reservations · " : "reservation is final · ";
  const claims = s.claims.length
    ? join(
        s.claims.map((c) => html`<code>${c}</code>`),
        " ",
      )
    : html`<i>none</i>`;
  return join([
    html`<p class="sut-meta">${s.description ? html`${s.description} · ` : ""}namespace <code>${s.namespace}</code>`,
    html` · ${fmtInt(s.instances)} instance${s.instances === 1 ? "" : "s"} · `,
    s.client ? html`client ${s.client.name} ${s.client.version} · ` : "",
    html`${finality}claims: ${claims}`,
    html`${s.durationMs !== undefined ? html` · load ${fmtDuration(s.durationMs)}` : ""}</p>`,
  ]);
}

function sutCurveFigure(s: SutResult, key: string): Html {
  const curves = [{ name: "decision", color: "#0969da", curve: curvePoints(s.latencyUs.decision) }];
  const curveNote =
    s.latencyUs.decision.curve && s.latencyUs.decision.curve.length > 0
      ? ""
      : " (no curve recorded: drawn from p50/p90/p99/p99.9/max)";
  const chart = curveChart(`chart-${key}-curve`, "decision latency percentile curve", curves, 540, 340);
  return html`<figure><figcaption>${`Decision latency by percentile${curveNote}`}</figcaption>${chart}</figure>`;
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

function cardNumbers(s: SutResult): Html[] {
  return [
    html`<b>${fmtInt(s.orders.decided)}</b>/${fmtInt(s.orders.sent)} decided`,
    html`p99 <b>${fmtMs(s.latencyUs.decision.p99)}</b> ms`,
    html`<b>${fmtRate(s.throughput.decidedPerSec)}</b>/s`,
    html`${s.faults.length} fault${s.faults.length === 1 ? "" : "s"}`,
  ].map((n) => html`<span>${n}</span>`);
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
<div class="card-nums">${cardNumbers(s)}</div>
${s.verdictReason ? html`<div class="card-reason">${s.verdictReason}</div>` : ""}
</a>`;
}

function overviewTable(result: RunResult): Html {
  const rows = result.suts.map((s, i) => {
    const d = s.latencyUs.decision;
    return tr(
      td(html`<a href="#${sutKey(i, s.name)}">${s.name}</a>`),
      verdictCell(s),
      td(violationList(s)),
      ...[d.p50, d.p99, d.p999, d.max].map((us) => tdNum(fmtMs(us))),
      ...[s.throughput.offeredPerSec, s.throughput.decidedPerSec].map((n) => tdNum(fmtRate(n))),
    );
  });
  const head = thead([
    th("SUT"),
    th("verdict"),
    th("violations seen"),
    ...["p50 ms", "p99 ms", "p99.9 ms", "max ms", "offered/s", "decided/s"].map(thNum),
  ]);
  return html`<table class="overview">${head}<tbody>${rows}</tbody></table>`;
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
      [
        k.version ?? "version unknown",
        `${k.brokers} broker${k.brokers === 1 ? "" : "s"}`,
        k.embedded ? "embedded" : "external",
        k.bootstrap,
      ].join(" · "),
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
  const command = result.command
    ? html`<p>Command:</p><pre class="command"><code>${result.command}</code></pre>`
    : html`<p class="muted">The command line was not recorded.</p>`;
  return html`<section class="env" id="environment"><h2>Reproduce this run</h2>
<dl class="facts">${facts.map(([a, b]) => html`<dt>${a}</dt><dd>${b}</dd>`)}</dl>
${command}
${params ? html`<details><summary>scenario parameters</summary><pre class="scenario">${params}</pre></details>` : ""}
</section>`;
}

/** Nothing may run or be fetched: the page only needs its own inline style and data: images. */
const CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

export function page(title: string, body: Html, generatedAt: Date): string {
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${trusted(CSP)}">
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
  const body = html`${runHeader(result)}
${verdictBanner(result.verdict, runVerdictText(result))}
<div class="cards">${result.suts.map((s, i) => sutCard(s, i))}</div>
${result.suts.length ? overviewSection(result) : ""}
${result.suts.map((s, i) => sutSection(s, i, cap))}
${environmentSection(result)}`;
  return page(
    `oversell ${result.verdict.toUpperCase()} — ${result.runId} (${result.scenario.name})`,
    body,
    opts.generatedAt ?? new Date(),
  );
}

function runHeader(result: RunResult): Html {
  const k = result.kafka;
  const duration = result.finishedAt ? Date.parse(result.finishedAt) - Date.parse(result.startedAt) : NaN;
  const facts: Markup[] = [
    html`scenario <b>${result.scenario.name}</b>`,
    html`seed <code>${result.seed}</code>`,
    `Kafka ${kafkaVersion(k)} (${k.brokers} broker${k.brokers === 1 ? "" : "s"})`,
    machineText(result.environment) ?? "machine not recorded",
    `started ${result.startedAt}`,
    Number.isFinite(duration) ? fmtDuration(duration) : undefined,
  ];
  return html`<header><h1>oversell <span class="muted">run</span> ${result.runId}</h1>
<p class="sub">${join(
    facts.filter((f) => f !== undefined),
    " · ",
  )}</p></header>`;
}

function overviewSection(result: RunResult): Html {
  const curves = result.suts.map((s, i) => ({
    name: s.name,
    color: PALETTE[i % PALETTE.length]!,
    curve: curvePoints(s.latencyUs.decision),
  }));
  const chart = curveChart("chart-overview-curve", "decision latency percentile curves of all SUTs", curves, 1100, 320);
  const caption =
    "Decision latency by percentile, every SUT " +
    "(intended send → committed decision; open loop, so stalls are not hidden)";
  return html`<section class="overview-sec"><h2>All SUTs on the same orders</h2>${overviewTable(result)}
${wideFigure(caption, chart)}</section>`;
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

/** One SUT of one run, as the comparison page lists them. */
interface Pair {
  r: RunResult;
  ri: number;
  s: SutResult;
}

const runLabel = (r: RunResult) => `${r.scenario.name} · seed ${r.seed}`;

export function renderComparison(results: RunResult[], opts: ComparisonOptions = {}): string {
  const flat: Pair[] = results.flatMap((r, ri) => r.suts.map((s) => ({ r, ri, s })));
  const verdicts = results.map((r) => r.verdict);
  const overall = verdicts.includes("fail") ? "fail" : verdicts.includes("unknown") ? "unknown" : "pass";
  const passing = results.filter((r) => r.verdict === "pass").length;
  const n = results.length;
  const body = html`<header><h1>oversell <span class="muted">comparison of</span> ${n} run${n === 1 ? "" : "s"}</h1>
<p class="sub">${results.map((r) => runLabel(r)).join(" · ")}</p></header>
${verdictBanner(overall, `${passing} of ${n} runs pass`)}
<section><h2>Runs</h2>${comparisonRuns(results, opts.links)}</section>
<section><h2>SUTs × runs</h2>${comparisonMatrix(results)}</section>
<section><h2>Side by side</h2>${comparisonDetail(flat)}
${flat.length ? comparisonCurves(flat) : ""}</section>`;
  return page(`oversell comparison — ${results.map((r) => r.runId).join(", ")}`, body, opts.generatedAt ?? new Date());
}

function comparisonRuns(results: RunResult[], links: ComparisonOptions["links"]): Html {
  const rows = results.map((r, i) => {
    const link = links?.[i];
    const id = html`<code>${r.runId}</code>`;
    return join([
      html`<tr class="run" data-run="${r.runId}">`,
      tdNum(i + 1),
      td(link ? html`<a href="${link}">${id}</a>` : id),
      td(r.startedAt),
      td(html`<b>${r.scenario.name}</b>`),
      td(html`<code>${r.seed}</code>`),
      td(`${kafkaVersion(r.kafka)} ×${r.kafka.brokers}`),
      td(machineText(r.environment) ?? "—"),
      td(verdictBadge(r.verdict)),
      html`</tr>`,
    ]);
  });
  const head = thead([thNum("#"), ...["run", "started", "scenario", "seed", "Kafka", "machine", "verdict"].map(th)]);
  return html`<table class="runs" id="comparison-runs">${head}<tbody>${rows}</tbody></table>`;
}

/** SUTs down, runs across: each SUT's verdict, violations, latency and throughput in every run. */
function comparisonMatrix(results: RunResult[]): Html {
  const names: string[] = [];
  for (const r of results) for (const s of r.suts) if (!names.includes(s.name)) names.push(s.name);
  const rows = names.map((n) => {
    const cells = results.map((r) => {
      const s = r.suts.find((x) => x.name === n);
      if (!s) return html`<td class="muted">not run</td>`;
      const d = s.latencyUs.decision;
      const t = s.throughput;
      const lines = [
        html`${verdictBadge(s.verdict)} ${expectationText(s)}`,
        violationList(s),
        html`p50 / p99 / p99.9: <b>${fmtMs(d.p50)}</b> / <b>${fmtMs(d.p99)}</b> / <b>${fmtMs(d.p999)}</b> ms`,
        html`offered / decided: ${fmtRate(t.offeredPerSec)} / ${fmtRate(t.decidedPerSec)} /s`,
      ].map((l) => html`<div>${l}</div>`);
      return html`<td class="cell o-${outcome(s)}">${lines}</td>`;
    });
    return html`<tr><th scope="row">${n}</th>${cells}</tr>`;
  });
  const head = thead([
    th("SUT"),
    ...results.map((r, i) => html`<th>${`${i + 1}: ${runLabel(r)}`}<br><code class="muted">${r.runId}</code></th>`),
  ]);
  return html`<table class="matrix" id="comparison-matrix">${head}<tbody>${rows}</tbody></table>`;
}

/** One row per run and SUT, with bars scaled to the largest value on the page. */
function comparisonDetail(flat: Pair[]): Html {
  const maxLat = Math.max(1, ...flat.map(({ s }) => s.latencyUs.decision.p999));
  const maxTp = Math.max(1, ...flat.map(({ s }) => Math.max(s.throughput.offeredPerSec, s.throughput.decidedPerSec)));
  const lat = (us: number, cls: string) => tdNum(html`${fmtMs(us)}${bar(us, maxLat, cls)}`);
  const rate = (n: number, cls: string) => tdNum(html`${fmtRate(n)}${bar(n, maxTp, cls)}`);
  const rows = flat.map(({ r, ri, s }) => {
    const d = s.latencyUs.decision;
    const who = [tdNum(ri + 1), td(runLabel(r)), td(html`<b>${s.name}</b>`), verdictCell(s), td(violationList(s))];
    return html`<tr class="pair">${who}
${lat(d.p50, "p50")}${lat(d.p99, "p99")}${lat(d.p999, "p999")}
${rate(s.throughput.offeredPerSec, "offered")}${rate(s.throughput.decidedPerSec, "decided")}</tr>`;
  });
  const head = thead([
    thNum("#"),
    ...["run", "SUT", "verdict", "violations"].map(th),
    ...["p50 ms", "p99 ms", "p99.9 ms", "offered/s", "decided/s"].map(thNum),
  ]);
  return html`<table class="detail" id="comparison-table">${head}<tbody>${rows}</tbody></table>`;
}

/** Every run's and SUT's percentile curve on one chart, as many as the palette has colours. */
function comparisonCurves(flat: Pair[]): Html {
  const shown = flat.slice(0, PALETTE.length);
  const curves = shown.map(({ r, ri, s }, i) => ({
    name: `${s.name} @ ${ri + 1}:${r.scenario.name}`,
    color: PALETTE[i]!,
    curve: curvePoints(s.latencyUs.decision),
  }));
  const label = "decision latency percentile curves of every run and SUT";
  const more = flat.length > shown.length ? ` (first ${shown.length} of ${flat.length})` : "";
  return wideFigure(
    `Decision latency by percentile${more}`,
    curveChart("chart-comparison-curve", label, curves, 1100, 360),
  );
}
