// The HTML report rendered from a synthetic result: content, escaping, graceful gaps, comparison, CLI.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runReportCli } from "../../harness/cli/report.ts";
import { percentileX } from "../../harness/report/html-charts.ts";
import { escapeHtml, html } from "../../harness/report/html-markup.ts";
import { renderComparison, renderReport, writeHtmlReport } from "../../harness/report/html.ts";
import { type RunResult, resultSchema } from "../../harness/report/result-schema.ts";
import { InputError } from "../../harness/shared/zod-errors.ts";
import { buildRunResult, XSS_DETAIL, XSS_PRODUCT } from "./fixture.ts";

const tmp = mkdtempSync(join(tmpdir(), "oversell-report-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function count(haystack: string, needle: string | RegExp): number {
  return typeof needle === "string" ? haystack.split(needle).length - 1 : (haystack.match(needle) ?? []).length;
}

describe("escaping", () => {
  it("escapes the five markup characters and only lets html fragments through", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
    );
    const inner = html`<b>${"<i>"}</b>`;
    expect(html`<p>${inner}${["<u>", 3]}${undefined}</p>`.text).toBe("<p><b>&lt;i&gt;</b>&lt;u&gt;3</p>");
  });

  it("places percentiles on an HdrHistogram-style log axis", () => {
    expect(percentileX(0, 5)).toBe(0);
    expect(percentileX(90, 5)).toBeCloseTo(1);
    expect(percentileX(99.9, 5)).toBeCloseTo(3);
    expect(percentileX(100, 5)).toBe(5);
  });
});

describe("run report", () => {
  const result = buildRunResult();
  const file = writeHtmlReport(result, join(tmp, "run1"));
  const page = readFileSync(file, "utf8");

  it("writes runDir/report.html and returns its path", () => {
    expect(file).toBe(join(tmp, "run1", "report.html"));
    expect(page.startsWith("<!DOCTYPE html>")).toBe(true);
  });

  it("is self-contained: no script, no external reference, a CSP that forbids fetching", () => {
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/<link\b/i);
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(page).toContain(`http-equiv="Content-Security-Policy" content="default-src 'none'`);
  });

  it("shows the run verdict and one card per SUT against its expectation", () => {
    expect(page).toMatch(/id="run-verdict"[^>]*>\s*<span class="big">PASS<\/span>/);
    expect(count(page, /class="sut-card /g)).toBe(3);
    const naiveCard = page.slice(page.indexOf('data-sut="naive"'), page.indexOf('data-sut="keyed-transactional"'));
    expect(naiveCard).toContain('fail — <span class="expect o-as-expected">expected fail ✓</span>');
    expect(naiveCard).toContain("caught as expected: <b>oversell</b> ×12");
  });

  it("marks a SUT that did not behave as expected", () => {
    const r = buildRunResult({ hostile: false });
    r.suts[1]!.verdict = "fail";
    r.suts[1]!.violations.oversell = { count: 2, examples: [{ id: "sku-0001", detail: "sold 2 of 1" }] };
    r.verdict = "fail";
    const p = renderReport(r);
    expect(p).toContain('class="sut-card o-unexpected"');
    expect(p).toContain("not as expected: keyed-transactional");
    expect(p).toContain("claims broken: <b>oversell</b> ×2");
    expect(p).toMatch(
      new RegExp(
        String.raw`data-check="oversell"><td><code>oversell<\/code><\/td>` +
          String.raw`<td class="num">2<\/td><td><span class="st st-bad">VIOLATED`,
      ),
    );
  });

  it("shows unknown verdicts with their reason", () => {
    const p = renderReport(buildRunResult({ sagaVerdict: "unknown" }));
    expect(p).toContain('class="sut-card o-unknown"');
    expect(p).toContain("drain deadline passed with 41 acknowledged orders undecided");
    expect(p).toMatch(/id="run-verdict"[^>]*>\s*<span class="big">UNKNOWN/);
  });

  it("has an invariant table per SUT with every check and expandable examples", () => {
    for (const key of ["sut-0-naive", "sut-1-keyed-transactional", "sut-2-saga"]) {
      const start = page.indexOf(`id="${key}-invariants"`);
      expect(start).toBeGreaterThan(0);
      const table = page.slice(start, page.indexOf("</table>", start));
      expect(count(table, /<tr class="check /g)).toBe(10);
    }
    const naive = page.slice(page.indexOf('id="sut-0-naive-invariants"'));
    const oversellRow = naive.slice(
      naive.indexOf('data-check="oversell"'),
      naive.indexOf("</tr>", naive.indexOf('data-check="oversell"')),
    );
    expect(oversellRow).toContain("caught ✓ (expected)");
    expect(oversellRow).toContain('<details class="examples"><summary>3 examples of 12</summary>');
    // the orderIds and their events, as text
    expect(oversellRow).toContain("o-7-0-0a");
    expect(oversellRow).toContain("&quot;type&quot;:&quot;OrderReserved&quot;");
  });

  it("draws units vs stock (oversold first, capped), the percentile curve and both time charts for each SUT", () => {
    for (const key of ["sut-0-naive", "sut-1-keyed-transactional", "sut-2-saga"]) {
      for (const chart of ["units", "curve", "latency", "throughput"])
        expect(page).toContain(`id="chart-${key}-${chart}"`);
    }
    expect(page).toContain('id="chart-overview-curve"');
    const units = page.slice(
      page.indexOf('id="chart-sut-0-naive-units"'),
      page.indexOf("</svg>", page.indexOf('id="chart-sut-0-naive-units"')),
    );
    const rows = units.match(/<g class="units-row[^"]*"/g) ?? [];
    expect(rows.length).toBe(30);
    expect(rows.slice(0, 12).every((r) => r.includes("oversold"))).toBe(true);
    expect(rows.slice(12).some((r) => r.includes("oversold"))).toBe(false);
    expect(page).toContain("12 oversold; 30 of 60 drawn, oversold first");
    // the percentile axis reads like HdrHistogram plots
    const curve = page.slice(page.indexOf('id="chart-sut-0-naive-curve"'));
    for (const label of [">0%<", ">90%<", ">99%<", ">99.9%<", ">99.99%<"])
      expect(curve.slice(0, curve.indexOf("</svg>"))).toContain(label);
    const few = renderReport(result, { maxProducts: 5 });
    const u5 = few.slice(
      few.indexOf('id="chart-sut-0-naive-units"'),
      few.indexOf("</svg>", few.indexOf('id="chart-sut-0-naive-units"')),
    );
    expect(count(u5, /<g class="units-row/g)).toBe(5);
  });

  it("shades fault windows on every time chart, at their offset from the SUT's load start", () => {
    for (const key of ["sut-0-naive", "sut-1-keyed-transactional"]) {
      for (const chart of ["latency", "throughput"]) {
        const start = page.indexOf(`id="chart-${key}-${chart}"`);
        const svg = page.slice(start, page.indexOf("</svg>", start));
        expect(count(svg, '<g class="fault-band">')).toBe(1);
        expect(svg).toContain("crash instance-1: 12 s → 17 s");
      }
    }
    const saga = page.slice(page.indexOf('id="chart-sut-2-saga-throughput"'));
    expect(count(saga.slice(0, saga.indexOf("</svg>")), '<g class="fault-band">')).toBe(2);
  });

  it("shows what is needed to reproduce the run", () => {
    const env = page.slice(page.indexOf('id="environment"'));
    for (const s of [
      "last-unit",
      "<code>7</code>",
      "4.1.1",
      "2 cores",
      "23.4 GiB",
      "kafkajs@2.2.4",
      "hdr-histogram-js@3.0.1",
      "v20.20.2",
      "npm run bench -- --scenario last-unit",
    ]) {
      expect(env).toContain(s);
    }
  });

  it("renders hostile product ids, details and events as text", () => {
    const escaped = escapeHtml(XSS_PRODUCT);
    expect(escaped).toBe("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;");
    expect(page).not.toContain(XSS_PRODUCT);
    expect(page).not.toContain("<img");
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toContain(XSS_DETAIL);
    expect(page).toContain(`<title>${escaped}: stock`);
    // the example's id and detail
    expect(page).toContain(`<code class="ex-id">${escaped}</code>`);
    expect(page).toContain(escapeHtml(XSS_DETAIL));
    // in JSON of the events: quotes escaped as well
    expect(page).toContain(escapeHtml(JSON.stringify(XSS_PRODUCT)));
  });

  it("degrades gracefully when optional fields are missing", () => {
    const r: RunResult = JSON.parse(JSON.stringify(buildRunResult({ hostile: false })));
    delete r.environment;
    delete r.command;
    delete r.finishedAt;
    delete r.kafka.version;
    r.kafka.embedded = false;
    for (const s of r.suts) {
      delete s.series;
      delete s.products;
      delete s.units;
      delete s.startedAtMs;
      delete s.seriesStartMs;
      delete s.durationMs;
      delete s.expectedViolations;
      delete s.latencyUs.decision.curve;
    }
    r.suts[2]!.series = buildRunResult().suts[2]!.series;
    const p = renderReport(resultSchema.parse(r));
    expect(p).toContain("No time series in result.json");
    expect(p).toContain("No per-product data in result.json");
    expect(p).toContain("The command line was not recorded.");
    expect(p).toContain("machine not recorded");
    expect(p).toContain("Kafka external, version unknown (1 broker)");
    expect(p).toContain("no curve recorded: drawn from p50/p90/p99/p99.9/max");
    // series without a load start: drawn, but the faults cannot be placed on it
    expect(p).toContain('id="chart-sut-2-saga-throughput"');
    expect(p).toContain("Fault windows are not shaded");
    expect(p).not.toContain('<g class="fault-band">');
    // the naive SUT's expected violations are unknown without expectedViolations
    expect(p).toContain('<span class="muted">?</span>');
  });
});

describe("comparison page", () => {
  const a = buildRunResult();
  const b = buildRunResult({ runId: "20261126T080000-cd34", scenario: "hot-products", seed: 11 });
  b.suts = b.suts.slice(0, 2);

  it("lists both runs and puts SUTs × runs side by side", () => {
    const p = renderComparison([a, b], { links: ["run1/report.html", undefined] });
    expect(p).toContain("20261125T121500-ab12");
    expect(p).toContain("20261126T080000-cd34");
    expect(count(p, /<tr class="run" data-run=/g)).toBe(2);
    expect(p).toContain('<a href="run1/report.html">');
    const matrix = p.slice(
      p.indexOf('id="comparison-matrix"'),
      p.indexOf("</table>", p.indexOf('id="comparison-matrix"')),
    );
    expect(count(matrix, /<th scope="row">/g)).toBe(3);
    expect(matrix).toContain("last-unit · seed 7");
    expect(matrix).toContain("hot-products · seed 11");
    expect(matrix).toContain("not run");
    expect(matrix).toContain("oversell 12");
    const table = p.slice(
      p.indexOf('id="comparison-table"'),
      p.indexOf("</table>", p.indexOf('id="comparison-table"')),
    );
    expect(count(table, /<tr class="pair">/g)).toBe(5);
    expect(table).toContain("p50 ms");
    expect(p).toContain('id="chart-comparison-curve"');
    expect(p).not.toMatch(/<script/i);
  });
});

describe("npm run report", () => {
  const write = (name: string, r: RunResult) => {
    const dir = join(tmp, "reports", name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "result.json"), JSON.stringify(r));
    return dir;
  };
  const d1 = write("20261125T121500-ab12", buildRunResult());
  const d2 = write("20261126T080000-cd34", buildRunResult({ runId: "20261126T080000-cd34", scenario: "steady" }));

  it("regenerates one run's report.html", () => {
    expect(runReportCli([d1])).toBe(join(d1, "report.html"));
    expect(readFileSync(join(d1, "report.html"), "utf8")).toContain('id="chart-sut-0-naive-curve"');
  });

  it("writes a comparison next to the first run, or to --out", () => {
    const file = runReportCli([d1, d2]);
    expect(file.startsWith(join(tmp, "reports", "comparison-"))).toBe(true);
    expect(readdirSync(join(tmp, "reports")).some((f) => /^comparison-\d{8}T\d{6}\.html$/.test(f))).toBe(true);
    const p = readFileSync(file, "utf8");
    expect(p).toContain("20261126T080000-cd34");
    expect(p).toContain('<a href="20261125T121500-ab12/report.html">');
    const out = join(tmp, "elsewhere", "cmp.html");
    expect(runReportCli([d1, join(d2, "result.json"), "--out", out])).toBe(out);
    expect(existsSync(out)).toBe(true);
  });

  it("says which field of an invalid result.json is wrong", () => {
    const bad = buildRunResult() as unknown as { suts: { verdict: string }[] };
    bad.suts[0]!.verdict = "maybe";
    const dir = write("bad", bad as unknown as RunResult);
    expect(() => runReportCli([dir])).toThrow(InputError);
    expect(() => runReportCli([dir])).toThrow(/suts\.0\.verdict/);
    expect(() => runReportCli([join(tmp, "nope")])).toThrow(/does not exist/);
  });
});
