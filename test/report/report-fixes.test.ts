// The report on runs it used to draw badly: a burst shorter than a second (one 1 s bucket: empty over-time
// charts), the percentile axis's long labels (overlapping), and a run on an external cluster ("Kafka ?").
import { describe, expect, it } from "vitest";
import { bucketMsFor } from "../../harness/checker/statistics.ts";
import { lineChart, percentileAxis, linearAxis } from "../../harness/report/html-charts.ts";
import { renderReport } from "../../harness/report/html.ts";
import { renderSummary } from "../../harness/report/summary.ts";
import { buildRunResult } from "./fixture.ts";

describe("report fixes", () => {
  it("a run whose activity fits in two seconds gets 10 ms buckets, a longer one keeps 1 s", () => {
    expect(bucketMsFor(5)).toBe(10);
    expect(bucketMsFor(1_999)).toBe(10);
    expect(bucketMsFor(20_000)).toBe(1000);
  });

  it("a short burst's over-time charts draw curves, with counts per second", () => {
    const result = buildRunResult({ hostile: false });
    const s = result.suts[0]!;
    s.seriesBucketMs = 10;
    s.series = [
      { tSec: 0, offered: 18, acked: 0, decided: 0, p50Us: 40_000, p99Us: 60_000, maxUs: 61_000 },
      { tSec: 0.05, offered: 0, acked: 18, decided: 5 },
      { tSec: 0.12, offered: 0, acked: 0, decided: 13 },
    ];
    const page = renderReport(result);
    const chart = /<svg class="chart" id="chart-sut-0-naive-throughput"[\s\S]*?<\/svg>/.exec(page)![0];
    const decided = /data-series="decided"><path class="series-line" d="([^"]+)"/.exec(chart)![1]!;
    expect(decided.split("L").length).toBeGreaterThan(5); // zero-filled 10 ms buckets in between: a curve
    expect(chart).toContain("each point: 0.01 s");
    expect(chart).toContain("offered 1,800/s"); // 18 in 10 ms
  });

  it("percentile axis labels do not run into each other on a narrow chart", () => {
    const svg = lineChart({
      id: "c",
      label: "curve",
      x: percentileAxis(6),
      y: linearAxis(0, 10, "ms", String),
      series: [{ name: "a", color: "#000", points: [{ x: 0, y: 1 }] }],
      width: 540,
    }).text;
    const labels = [...svg.matchAll(/<g class="tick x">.*?<\/g>/g)].map((m) => />([^<]+)<\/text>/.exec(m[0])?.[1]);
    expect(labels).toHaveLength(7); // every tick is drawn
    expect(labels.at(-1)).toBe("99.9999%"); // the last label is kept
    expect(labels).toContain("0%");
    expect(labels.filter(Boolean).length).toBeLessThan(7); // a crowded one is left out
  });

  it("the terminal summary names an external cluster by its address, never 'Kafka ?'", () => {
    const result = buildRunResult();
    result.kafka = { brokers: 3, bootstrap: "10.1.1.1:9092,10.1.1.2:9092", embedded: false };
    const text = renderSummary(result);
    expect(text).toContain("Kafka at 10.1.1.1:9092,10.1.1.2:9092 (external, 3 brokers)");
    expect(text).not.toContain("Kafka ?");
  });
});
