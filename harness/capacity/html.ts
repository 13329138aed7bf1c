// capacity.html: self-contained (no script, nothing fetched), drawn with the report's SVG charts: latency
// against offered rate for every SUT (log scales), with the SLO and Kafka's own producer ceilings drawn in,
// the table of the terminal summary, and each SUT's steps.
import { lineChart, logAxis, type Axis, type LineSeries } from "../report/html-charts.ts";
import { html, join, type Html } from "../report/html-markup.ts";
import { page, PALETTE } from "../report/html.ts";
import type { CapacityReport, CapacityStep, SutCapacity } from "./schema.ts";
import { CAPACITY_HEADER, capacityRows } from "./summary.ts";

const rate = (n: number) => (n >= 1000 ? `${Number((n / 1000).toPrecision(3))}k` : String(Math.round(n)));
const axisMs = (ms: number) =>
  ms >= 1000 ? `${Number((ms / 1000).toPrecision(3))} s` : `${Number(ms.toPrecision(3))} ms`;
const msOf = (us: number) =>
  us / 1000 >= 100 ? Math.round(us / 1000).toLocaleString("en-US") : (us / 1000).toFixed(1);

function stepTip(name: string, s: CapacityStep): string {
  const state = s.harnessBound ? "harness-bound" : s.sustained ? "sustained" : "not sustained";
  return (
    `${name} at ${s.offeredPerSec}/s: ${state}; decided ${Math.round(s.decidedPerSec)}/s, p50 ${msOf(s.p50Us)} ms, ` +
    `p99 ${msOf(s.p99Us)} ms${s.reasons.length ? ` — ${s.reasons.join("; ")}` : ""}`
  );
}

interface Bounds {
  xLo: number;
  xHi: number;
  yLo: number;
  yHi: number;
}

function bounds(r: CapacityReport, suts: SutCapacity[]): Bounds {
  const steps = suts.flatMap((s) => s.steps);
  const rates = steps.map((s) => s.offeredPerSec);
  const c = r.ceiling;
  const ceilings = [c.producerPerSec, c.transactionalProducerPerSec].filter((x): x is number => x !== undefined);
  const lat = steps
    .flatMap((s) => [s.p50Us, s.p99Us])
    .filter((x) => x > 0)
    .map((us) => us / 1000);
  return {
    xLo: Math.min(...rates, r.search.fromPerSec) / 1.5,
    xHi: Math.max(...rates, ...ceilings, r.search.fromPerSec) * 1.5,
    yLo: Math.min(...lat, r.rule.sloP99Us / 1000) / 1.5,
    yHi: Math.max(...lat, r.rule.sloP99Us / 1000) * 1.5,
  };
}

/** Vertical and horizontal reference lines (ceilings, SLO) as two-point series across the whole plot. */
function references(r: CapacityReport, x: Axis, y: Axis): LineSeries[] {
  const b = { xLo: x.min, xHi: x.max, yLo: y.min, yHi: y.max };
  const out: LineSeries[] = [];
  const c = r.ceiling;
  const vertical = (name: string, x: number | undefined, color: string, dash: string) => {
    if (x === undefined) return;
    out.push({
      name,
      color,
      dash,
      width: 1.5,
      points: [
        { x, y: b.yLo },
        { x, y: b.yHi },
      ],
    });
  };
  vertical(`Kafka producer ceiling ${rate(c.producerPerSec ?? 0)}/s`, c.producerPerSec, "#57606a", "6 4");
  vertical(
    `transactional producer ceiling ${rate(c.transactionalProducerPerSec ?? 0)}/s`,
    c.transactionalProducerPerSec,
    "#bc4c00",
    "6 4",
  );
  const slo = r.rule.sloP99Us / 1000;
  out.push({
    name: `SLO p99 ${axisMs(slo)}`,
    color: "#cf222e",
    dash: "2 3",
    width: 1.5,
    points: [
      { x: b.xLo, y: slo },
      { x: b.xHi, y: slo },
    ],
  });
  return out;
}

function curves(name: string, color: string, steps: CapacityStep[]): LineSeries[] {
  const sorted = [...steps].sort((a, b) => a.offeredPerSec - b.offeredPerSec);
  const byPoint = (y: (s: CapacityStep) => number) => (p: { x: number; y: number }) => {
    const s = sorted.find((x) => x.offeredPerSec === p.x && Math.abs(y(x) / 1000 - p.y) < 1e-9);
    return s ? stepTip(name, s) : name;
  };
  const p99: LineSeries = {
    name: `${name} p99`,
    color,
    points: sorted.map((s) => ({ x: s.offeredPerSec, y: s.p99Us > 0 ? s.p99Us / 1000 : undefined })),
    markers: byPoint((s) => s.p99Us),
  };
  const p50: LineSeries = {
    name: `${name} p50`,
    color,
    dash: "5 3",
    width: 1.5,
    points: sorted.map((s) => ({ x: s.offeredPerSec, y: s.p50Us > 0 ? s.p50Us / 1000 : undefined })),
    markers: byPoint((s) => s.p50Us),
  };
  return [p99, p50];
}

function chart(id: string, r: CapacityReport, suts: SutCapacity[], colors: string[], height: number): Html {
  const b = bounds(r, suts);
  const x = logAxis(b.xLo, b.xHi, "offered orders/s (log scale)", rate);
  const y = logAxis(b.yLo, b.yHi, "decision latency (log scale)", axisMs);
  const series = [...suts.flatMap((s, i) => curves(s.name, colors[i]!, s.steps)), ...references(r, x, y)];
  return lineChart({
    id,
    label: `decision latency p50 and p99 against offered rate: ${suts.map((s) => s.name).join(", ")}`,
    x,
    y,
    series,
    height,
  });
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");

/** A table row: cells as text, `num` says which are right-aligned figures. */
function row(tag: "td" | "th", cells: (string | Html)[], num: (i: number) => boolean, cls = ""): Html {
  const cell = (c: string | Html, n: boolean) =>
    tag === "th"
      ? n
        ? html`<th class="num">${c}</th>`
        : html`<th>${c}</th>`
      : n
        ? html`<td class="num">${c}</td>`
        : html`<td>${c}</td>`;
  const tds = cells.map((c, i) => cell(c, num(i)));
  return cls ? html`<tr class="${cls}">${tds}</tr>` : html`<tr>${tds}</tr>`;
}

const STEP_HEADER = ["offered/s", "decided/s", "p50 ms", "p99 ms", "p99.9 ms", "verdict", "step"];
const STEP_TAIL = ["cores SUT / broker / harness", "why", ""];

function stepsTable(s: SutCapacity): Html {
  const numeric = (i: number) => i < 5 || i === 7;
  const rows = [...s.steps]
    .sort((a, b) => a.offeredPerSec - b.offeredPerSec)
    .map((x) => {
      const cls = x.harnessBound ? "c-warn" : x.sustained ? "" : "c-bad";
      const state = x.harnessBound ? "harness-bound" : x.sustained ? "sustained" : "not sustained";
      const cpu = x.cpuCores ? `${x.cpuCores.sut} / ${x.cpuCores.broker} / ${x.cpuCores.harness}` : "—";
      const figures = [int(x.offeredPerSec), int(x.decidedPerSec), msOf(x.p50Us), msOf(x.p99Us), msOf(x.p999Us)];
      const link = html`<a href="${x.runDir}/report.html">report</a>`;
      return row("td", [...figures, x.verdict, state, cpu, x.reasons.join("; "), link], numeric, cls);
    });
  const head = row("th", [...STEP_HEADER, ...STEP_TAIL], numeric);
  return html`<table class="steps"><thead>${head}</thead><tbody>${rows}</tbody></table>`;
}

function summaryTable(r: CapacityReport): Html {
  const numeric = (i: number) => i > 0 && i < CAPACITY_HEADER.length - 1;
  const rows = capacityRows(r).map((cells) => row("td", cells, numeric));
  const head = row("th", CAPACITY_HEADER, numeric);
  return html`<table class="capacity" id="capacity-table"><thead>${head}</thead><tbody>${rows}</tbody></table>`;
}

function settingsList(r: CapacityReport, s: SutCapacity): Html {
  const profile = r.profile.suts[s.name] ?? {};
  const items = Object.entries(profile).map(([k, v]) => html`<code>${k}=${String(v)}</code>`);
  const what = items.length ? join(items, " · ") : "the SUT's defaults (sut.json declares no such profile)";
  return html`<p class="sub">${r.profile.name} profile: ${what}</p>`;
}

function ceilingText(c: CapacityReport["ceiling"]): Html {
  if (c.error) return html`<p class="callout warn">Ceiling not measured: ${c.error}</p>`;
  return html`<p id="ceiling">Ceiling on the same broker, ${c.recordBytes} B records (the orders' size), acks=all:
Kafka's ProducerPerformance <b>${int(c.producerPerSec ?? 0)}</b> records/s; transactional, a commit every
${c.transactionDurationMs} ms: <b>${int(c.transactionalProducerPerSec ?? 0)}</b> records/s.</p>`;
}

function brokerText(r: CapacityReport): Html | string {
  const b = r.profile.broker;
  if (!b) return "";
  const props = Object.entries(b.properties).map(([k, v]) => html`<code>${k}=${String(v)}</code>`);
  const jvm = html`<code>${b.jvm.join(" ")}</code>`;
  return html`<p class="sub">broker (${r.profile.name} profile): ${jvm} ${join(props, " ")}</p>`;
}

function sutSection(r: CapacityReport, s: SutCapacity, color: string): Html {
  const caption = `${s.name}: decision latency against offered rate (dots: steps; hover for details)`;
  return html`<section class="sut-capacity" id="sut-${s.name}"><h2>${s.name}</h2>${settingsList(r, s)}
${s.error ? html`<p class="callout warn">stopped by an error: ${s.error}</p>` : ""}
<figure class="wide"><figcaption>${caption}</figcaption>${chart(`chart-${s.name}`, r, [s], [color], 260)}</figure>
${stepsTable(s)}</section>`;
}

/** The warm-up is judged like the rest of the step; only its latency and throughput are left out. */
const warmupText = (rule: CapacityReport["rule"]) =>
  rule.warmupSeconds ? `${rule.warmupSeconds} s of warm-up (judged, not measured), then ` : "";

export function renderCapacityHtml(r: CapacityReport, generatedAt = new Date()): string {
  const colors = r.suts.map((_, i) => PALETTE[i % PALETTE.length]!);
  const kafka = r.kafka.embedded ? `embedded Kafka ${r.kafka.version ?? ""}` : `Kafka at ${r.kafka.bootstrap}`;
  const load = `load average ${r.machine.loadAvgStart.join(" ")} → ${r.machine.loadAvgEnd.join(" ")}`;
  const sub = `${kafka} · ${r.kafka.partitions} partitions · ${r.machine.cpus} cores, ${load} · started ${r.startedAt}`;
  const overview =
    "Every SUT: p99 (solid) and p50 (dashed) decision latency against offered rate, with the ceilings and the SLO";
  const body = html`<header><h1>oversell <span class="muted">capacity</span></h1>
<p class="sub">${sub}${r.quick ? " · quick" : ""}</p></header>
<p>A step is a full judged bench run of the steady scenario at one open-loop rate, on fresh namespaces:
${warmupText(r.rule)}${r.rule.stepSeconds} s measured. It is <b>sustained</b> when decided/s ≥
${Math.round(r.rule.minDecidedShare * 100)}% of offered, every owed order is decided by the end of the drain,
p99 ≤ ${axisMs(r.rule.sloP99Us / 1000)} and no claimed invariant is broken.
A harness-bound step (the load driver fell behind) does not count against the SUT.</p>
${ceilingText(r.ceiling)}${brokerText(r)}
${summaryTable(r)}
<figure class="wide"><figcaption>${overview}</figcaption>${chart("chart-capacity", r, r.suts, colors, 340)}</figure>
${r.suts.map((s, i) => sutSection(r, s, colors[i]!))}`;
  return page(`oversell capacity — ${r.suts.map((s) => s.name).join(", ")}`, body, generatedAt);
}
