// The terminal summary of a capacity run: the ceiling, then one row per SUT (the same table as capacity.html).
import type { CapacityReport, SutCapacity } from "./schema.ts";

const int = (n: number | undefined) => (n === undefined ? "—" : Math.round(n).toLocaleString("en-US"));
const ms = (us: number | undefined) => (us === undefined ? "—" : `${Math.round(us / 1000).toLocaleString("en-US")} ms`);

/** Max sustainable as a share of the transactional-producer ceiling ("—" without one). Two significant digits
 *  below 0.01, so a slow SUT (40/s against 150,000/s) never reads as 0.000. */
export function ceilingRatio(s: SutCapacity, c: CapacityReport["ceiling"]): string {
  const t = c.transactionalProducerPerSec;
  if (!t) return "—";
  const r = s.maxSustainablePerSec / t;
  return r === 0 || r >= 0.01 ? r.toFixed(3) : String(Number(r.toPrecision(2)));
}

/** "≥ 8,000" when the harness or --max, not the SUT, ended the search. */
export function maxText(s: SutCapacity): string {
  return `${s.limitedBy === "harness" || s.limitedBy === "max" ? "≥ " : ""}${int(s.maxSustainablePerSec)}`;
}

/** Rows of the table both outputs show. */
export function capacityRows(r: CapacityReport): string[][] {
  return r.suts.map((s) => [
    s.name,
    maxText(s),
    ms(s.p99AtMaxUs),
    ceilingRatio(s, r.ceiling),
    s.limitedBy,
    String(s.steps.length),
    violationsText(s),
  ]);
}

export const CAPACITY_HEADER = [
  "SUT",
  "max sustainable/s",
  "p99 at max",
  "÷ tx ceiling",
  "limited by",
  "steps",
  "violations",
];

/** Claimed invariants broken at any rate, with the rate: never averaged away. */
export function violationsText(s: SutCapacity): string {
  const v = s.steps
    .filter((x) => Object.keys(x.violations).some((k) => k !== "lost"))
    .map(
      (x) =>
        `${Object.entries(x.violations)
          .filter(([k]) => k !== "lost")
          .map(([k, n]) => `${k} ${n}`)
          .join(", ")} at ${x.offeredPerSec}/s`,
    );
  return v.length ? v.join("; ") : "none";
}

export function renderCapacitySummary(r: CapacityReport): string {
  const c = r.ceiling;
  const rows = [CAPACITY_HEADER, ...capacityRows(r)];
  const widths = CAPACITY_HEADER.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i === 0 || i === row.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  const kafka = r.kafka.embedded
    ? `embedded Kafka ${r.kafka.version ?? ""} (${r.profile.name} profile)`
    : `Kafka at ${r.kafka.bootstrap}`;
  return [
    `capacity — ${kafka}, ${r.kafka.partitions} partitions; a step is sustained at p99 ≤ ${ms(r.rule.sloP99Us)}, ` +
      `decided ≥ ${Math.round(r.rule.minDecidedShare * 100)}% of offered, nothing owed left undecided, ` +
      `no claim broken ` +
      `(${r.rule.warmupSeconds ? `${r.rule.warmupSeconds} s warm-up + ` : ""}` +
      `${r.rule.stepSeconds} s measured per step${r.quick ? ", quick" : ""})`,
    c.error
      ? `ceiling: not measured (${c.error})`
      : `ceiling: Kafka ProducerPerformance ${int(c.producerPerSec)} records/s (acks=all, ${c.recordBytes} B); ` +
        `transactional (a commit every ${c.transactionDurationMs} ms) ${int(c.transactionalProducerPerSec)} records/s`,
    "",
    line(CAPACITY_HEADER),
    ...capacityRows(r).map(line),
    "",
    `load average ${r.machine.loadAvgStart.join(" ")} → ${r.machine.loadAvgEnd.join(" ")} on ${r.machine.cpus} cores`,
  ].join("\n");
}
