// Plain SVG charts, drawn here (no browser script, no dependency): line charts with shaded fault windows
// and hover tooltips (<title>), and horizontal bars. Every label goes through the `html` tag.
import { html, type Html, join } from "./html-markup.ts";

export interface Tick {
  v: number;
  label: string;
}

export interface Axis {
  min: number;
  max: number;
  ticks: Tick[];
  title: string;
  /** log10 positions; values <= 0 sit at min. */
  log?: boolean;
}

export interface LineSeries {
  name: string;
  color: string;
  /** y undefined: a gap in the line. */
  points: { x: number; y: number | undefined }[];
  width?: number;
  dash?: string;
  /** Small dots with a tooltip on every point (for short series such as a percentile curve). */
  markers?: (p: { x: number; y: number }) => string;
}

export interface Band {
  from: number;
  to: number;
  label: string;
  title: string;
}

export interface LineChartSpec {
  id: string;
  label: string;
  x: Axis;
  y: Axis;
  series: LineSeries[];
  bands?: Band[];
  /** Hover columns: a tooltip for each x (e.g. each second). */
  hover?: { x: number; text: string }[];
  width?: number;
  height?: number;
}

const M = { l: 74, r: 18, t: 30, b: 44 };

function scale(a: Axis, from: number, to: number): (v: number) => number {
  const f = (v: number) => (a.log ? Math.log10(Math.max(v, a.min)) : v);
  const lo = f(a.min);
  const hi = f(a.max);
  const span = hi - lo || 1;
  return (v) => from + ((f(Math.min(Math.max(v, a.min), a.max)) - lo) / span) * (to - from);
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** The fault-window colour of the legend swatch (the bands themselves are styled by the stylesheet). */
const BAND_FILL = html`fill="#f2b8b5" fill-opacity="0.55"`;

/** stroke, stroke-width, then `extra`, then a dash pattern if there is one. */
function lineStroke(color: string, width: number, dash: string | undefined, extra: Html = html``): Html {
  return html`stroke="${color}" stroke-width="${width}"${extra}${dash ? html` stroke-dasharray="${dash}"` : ""}`;
}

/** Legend: swatches in rows at the top of the chart, wrapping at maxX; returns its extra height. */
function legend(
  items: { name: string; color: string; dash?: string; band?: boolean }[],
  x0: number,
  maxX: number,
): { g: Html; extra: number } {
  let x = x0;
  let y = 0;
  const parts: Html[] = [];
  for (const it of items) {
    const w = 23 + Math.max(it.name.length, 3) * 6.6 + 16;
    if (x > x0 && x + w - 16 > maxX) {
      x = x0;
      y += 18;
    }
    const swatch = it.band
      ? html`<rect class="fault-band-swatch" x="${x}" y="${y + 6}" width="18" height="12" ${BAND_FILL}/>`
      : html`<line x1="${x}" y1="${y + 12}" x2="${x + 18}" y2="${y + 12}" ${lineStroke(it.color, 3, it.dash)}/>`;
    parts.push(html`<g class="legend-item">${swatch}<text x="${x + 23}" y="${y + 16}">${it.name}</text></g>`);
    x += w;
  }
  return { g: html`<g class="legend">${parts}</g>`, extra: y };
}

/** Where a chart's plot area sits in its viewBox, and the scales that map values into it. */
interface Frame {
  W: number;
  H: number;
  /** Top of the plot area (below the legend). */
  T: number;
  px: (v: number) => number;
  py: (v: number) => number;
}

const SVG_NS = html`xmlns="http://www.w3.org/2000/svg"`;

export function lineChart(s: LineChartSpec): Html {
  const W = s.width ?? 1100;
  const items: { name: string; color: string; dash?: string; band?: boolean }[] = s.series.map((se) => ({
    name: se.name,
    color: se.color,
    dash: se.dash,
  }));
  const bands = (s.bands ?? []).filter((b) => b.to >= s.x.min && b.from <= s.x.max);
  if (bands.length > 0) items.push({ name: "fault window", color: "", band: true });
  const leg = legend(items, M.l, W - M.r);
  const T = M.t + leg.extra;
  const H = (s.height ?? 300) + leg.extra;
  const f: Frame = { W, H, T, px: scale(s.x, M.l, W - M.r), py: scale(s.y, H - M.b, T) };
  const axes = join([
    html`<g class="axes"><line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}"/>`,
    html`<line x1="${M.l}" x2="${M.l}" y1="${T}" y2="${H - M.b}"/></g>`,
  ]);
  const yTitleAt = html`transform="translate(14 ${(T + H - M.b) / 2}) rotate(-90)"`;
  return html`<svg class="chart" id="${s.id}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${s.label}" ${SVG_NS}>
<g class="grid">${yGrid(s.y, f)}</g>${faultBandsLayer(bands, s.x, f)}${axes}${xTicks(s.x, f)}
${s.series.map((se) => seriesLine(se, f))}${hoverColumns(s.hover, f)}${leg.g}
<text class="axis-title" x="${(M.l + W - M.r) / 2}" y="${H - 6}" text-anchor="middle">${s.x.title}</text>
<text class="axis-title" ${yTitleAt} text-anchor="middle">${s.y.title}</text>
</svg>`;
}

function yGrid(y: Axis, f: Frame): Html[] {
  return y.ticks.map((t) => {
    const at = r1(f.py(t.v));
    return join([
      html`<g class="tick y"><line x1="${M.l}" x2="${f.W - M.r}" y1="${at}" y2="${at}"/>`,
      html`<text x="${M.l - 6}" y="${at + 4}" text-anchor="end">${t.label}</text></g>`,
    ]);
  });
}

function xTicks(x: Axis, f: Frame): Html[] {
  const base = f.H - M.b;
  // A label at the right edge would be cut off: anchor it at its end. A label that would overlap the next one
  // shown is left out (its tick stays), so long labels ("99.999%", "99.9999%") never run into each other.
  const anchor = (t: Tick) => (f.px(t.v) > f.W - M.r - 24 ? "end" : "middle");
  const shown = xLabelsShown(x.ticks, f.px, anchor);
  return x.ticks.map((t, i) => {
    const at = r1(f.px(t.v));
    const label = shown[i] ? html`<text x="${at}" y="${base + 18}" text-anchor="${anchor(t)}">${t.label}</text>` : "";
    return join([
      html`<g class="tick x"><line x1="${at}" x2="${at}" y1="${base}" y2="${base + 5}"/>`,
      label,
      html`</g>`,
    ]);
  });
}

function faultBandsLayer(bands: Band[], x: Axis, f: Frame): Html[] {
  return bands.map((b) => {
    const x1 = r1(f.px(Math.max(b.from, x.min)));
    const x2 = r1(Math.max(f.px(Math.min(b.to, x.max)), x1 + 2));
    return join([
      html`<g class="fault-band"><title>${b.title}</title>`,
      html`<rect x="${x1}" y="${f.T}" width="${r1(x2 - x1)}" height="${f.H - M.b - f.T}"/>`,
      html`<text x="${x1 + 3}" y="${f.T + 12}">${b.label}</text></g>`,
    ]);
  });
}

/** One series as a path with gaps where y is missing, plus its hover markers if it has them. */
function seriesLine(se: LineSeries, f: Frame): Html {
  let d = "";
  let pen = false;
  for (const p of se.points) {
    if (p.y === undefined || !Number.isFinite(p.y)) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${r1(f.px(p.x))},${r1(f.py(p.y))}`;
    pen = true;
  }
  const markers = se.markers;
  const marks = markers
    ? se.points
        .filter((p): p is { x: number; y: number } => p.y !== undefined && Number.isFinite(p.y))
        .map((p) =>
          join([
            html`<circle cx="${r1(f.px(p.x))}" cy="${r1(f.py(p.y))}" r="2.6" fill="${se.color}">`,
            html`<title>${markers(p)}</title></circle>`,
          ]),
        )
    : [];
  const stroke = lineStroke(se.color, se.width ?? 2, se.dash, html` stroke-linejoin="round"`);
  const path = html`<path class="series-line" d="${d}" fill="none" ${stroke}/>`;
  return html`<g class="series" data-series="${se.name}">${path}${marks}</g>`;
}

/** Invisible columns, one per hover point, each as wide as halfway to its neighbours. */
function hoverColumns(hover: LineChartSpec["hover"], f: Frame): Html {
  if (!hover || hover.length === 0) return html``;
  const xs = hover.map((h) => f.px(h.x));
  const cols = hover.map((h, i) => {
    const left = i === 0 ? M.l : (xs[i - 1]! + xs[i]!) / 2;
    const right = i === xs.length - 1 ? f.W - M.r : (xs[i]! + xs[i + 1]!) / 2;
    return html`<rect x="${r1(left)}" y="${f.T}" width="${r1(Math.max(right - left, 0.5))}" height="${
      f.H - M.b - f.T
    }"><title>${h.text}</title></rect>`;
  });
  return html`<g class="hover-cols">${cols}</g>`;
}

/** Which x labels to draw: from the right (the last is kept), each must end before the next one drawn begins. */
function xLabelsShown(ticks: Tick[], px: (v: number) => number, anchor: (t: Tick) => "end" | "middle"): boolean[] {
  const charPx = 7; // the 11-12 px axis font, generously
  const shown = ticks.map(() => false);
  let nextLeft = Infinity;
  for (let i = ticks.length - 1; i >= 0; i--) {
    const t = ticks[i]!;
    const w = t.label.length * charPx;
    const x = px(t.v);
    const [left, right] = anchor(t) === "end" ? [x - w, x] : [x - w / 2, x + w / 2];
    if (right + 4 <= nextLeft) {
      shown[i] = true;
      nextLeft = left;
    }
  }
  return shown;
}

/** 1-2-2.5-5 steps from 0 (or min) to a round max. */
export function linearAxis(min: number, maxRaw: number, title: string, fmt: (v: number) => string, count = 5): Axis {
  const max = maxRaw > min ? maxRaw : min + 1;
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  const step = (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * mag;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: Tick[] = [];
  for (let v = min; v <= top + step / 1e6; v += step)
    ticks.push({ v: Number(v.toPrecision(12)), label: fmt(Number(v.toPrecision(12))) });
  return { min, max: top, ticks, title };
}

/** Decades covering [lo, hi] (both > 0). */
export function logAxis(lo: number, hi: number, title: string, fmt: (v: number) => string): Axis {
  const a = Math.floor(Math.log10(Math.max(lo, 1e-6)));
  let b = Math.ceil(Math.log10(Math.max(hi, lo * 10, 1e-6)));
  if (b <= a) b = a + 1;
  const ticks: Tick[] = [];
  for (let e = a; e <= b; e++) ticks.push({ v: 10 ** e, label: fmt(10 ** e) });
  return { min: 10 ** a, max: 10 ** b, ticks, title, log: true };
}

/** HdrHistogram-style x position of a percentile: log10(1 / (1 - p)); 0% -> 0, 90% -> 1, 99% -> 2 ... */
export function percentileX(percentile: number, cap: number): number {
  if (percentile >= 100) return cap;
  return Math.min(cap, Math.log10(100 / (100 - Math.max(0, percentile))));
}

export function percentileAxis(cap: number): Axis {
  const ticks: Tick[] = [];
  for (let e = 0; e <= cap; e++)
    ticks.push({ v: e, label: e === 0 ? "0%" : `${(100 - 100 / 10 ** e).toFixed(Math.max(0, e - 2))}%` });
  return { min: 0, max: cap, ticks, title: "percentile (log scale: each step is 10× rarer)" };
}

export interface UnitsRow {
  productId: string;
  stock: number;
  sold: number;
  held: number;
}

/** Horizontal bars per product: stock (grey track with a tick), sold, held; oversold rows in red. */
export function unitsChart(id: string, rows: UnitsRow[], width = 540): Html {
  const rowH = 20;
  const top = 30;
  const labelW = 170;
  const numW = 96;
  const H = top + rows.length * rowH + 30;
  const maxV = Math.max(1, ...rows.map((r) => Math.max(r.stock, r.sold + r.held)));
  const x0 = labelW + 8;
  const x1 = width - numW;
  const sx = (v: number) => x0 + (v / maxV) * (x1 - x0);
  const body = rows.map((r, i) => {
    const y = top + i * rowH;
    const over = r.sold + r.held - r.stock;
    const cls = over > 0 ? "units-row oversold" : "units-row";
    const label = r.productId.length > 24 ? `${r.productId.slice(0, 23)}…` : r.productId;
    const tip =
      `${r.productId}: stock ${r.stock}, sold ${r.sold}, held ${r.held}` + (over > 0 ? ` — OVERSOLD by ${over}` : "");
    const heldW = r1(Math.max(sx(r.sold + r.held) - sx(r.sold), 0));
    const overText = over > 0 ? ` +${over}` : "";
    return html`<g class="${cls}"><title>${tip}</title>
<text class="product-label" x="${labelW}" y="${y + 14}" text-anchor="end">${label}</text>
<rect class="stock" x="${x0}" y="${y + 3}" width="${r1(Math.max(sx(r.stock) - x0, 0))}" height="${rowH - 6}"/>
<rect class="sold" x="${x0}" y="${y + 5}" width="${r1(Math.max(sx(r.sold) - x0, 0))}" height="${rowH - 10}"/>
<rect class="held" x="${r1(sx(r.sold))}" y="${y + 5}" width="${heldW}" height="${rowH - 10}"/>
<line class="stock-mark" x1="${r1(sx(r.stock))}" x2="${r1(sx(r.stock))}" y1="${y + 1}" y2="${y + rowH - 1}"/>
<text class="units-num" x="${x1 + 6}" y="${y + 14}">${`${r.sold + r.held}/${r.stock}`}${overText}</text></g>`;
  });
  const ax = linearAxis(0, maxV, "", (v) => String(v), Math.min(5, Math.max(1, maxV)));
  const ticks = ax.ticks
    .filter((t) => t.v <= maxV && Number.isInteger(t.v))
    .map((t) =>
      join([
        html`<g class="tick x"><line x1="${r1(sx(t.v))}" x2="${r1(sx(t.v))}" y1="${top}" y2="${H - 26}"/>`,
        html`<text x="${r1(sx(t.v))}" y="${H - 12}" text-anchor="middle">${t.label}</text></g>`,
      ]),
    );
  const stockLabel = html`<text x="${x0 + 21}" y="18">stock S(p)</text>`;
  const leg = html`<g class="legend"><rect class="stock" x="${x0}" y="8" width="16" height="12"/>${stockLabel}
<rect class="sold" x="${x0 + 100}" y="10" width="16" height="8"/><text x="${x0 + 121}" y="18">sold</text>
<rect class="held" x="${x0 + 160}" y="10" width="16" height="8"/><text x="${x0 + 181}" y="18">held</text>
<rect class="sold over" x="${x0 + 220}" y="10" width="16" height="8"/><text x="${x0 + 241}" y="18">oversold</text></g>`;
  const label = "units sold and held versus stock per product";
  const box = `0 0 ${width} ${H}`;
  return join([
    html`<svg class="chart units-chart" id="${id}" viewBox="${box}" role="img" aria-label="${label}" ${SVG_NS}>`,
    html`${leg}<g class="grid">${ticks}</g>${join(body)}</svg>`,
  ]);
}
