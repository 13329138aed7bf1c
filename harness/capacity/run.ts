// `npm run capacity`: per SUT, full judged bench runs of the steady scenario at rising open-loop rates on one
// broker (each on fresh namespaces), then a bisection, to find the highest rate it sustains; and Kafka's own
// producer on the same broker as the ceiling every SUT is drawn against. Writes capacity.json and capacity.html.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, relative } from "node:path";
import type { Connection } from "../../systems-under-test/contract/connection.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { BROKER_PROFILES, EmbeddedCluster } from "../cluster/embedded.ts";
import { DEFAULT_KAFKA_VERSION, ensureKafkaToolsJars } from "../cluster/jars.ts";
import { producerPerformance } from "../kafka/tools.ts";
import { createContractTopics, deleteRunTopics, probeCluster } from "../run/kafka.ts";
import { newRunId, runBench } from "../run/bench.ts";
import { Progress } from "../run/progress.ts";
import { BUILTIN_SCENARIOS, generateStream, meanOrderValueBytes, validateScenario } from "../scenario/index.ts";
import type { Scenario } from "../scenario/schema.ts";
import { loadManifest } from "../sut/manifest.ts";
import { profileOverrides, settingsEnv, type SettingOverrides } from "../sut/settings.ts";
import { CpuSampler } from "./cpu.ts";
import { renderCapacityHtml } from "./html.ts";
import {
  CAPACITY_SCHEMA_VERSION,
  capacitySchema,
  type CapacityReport,
  type CapacityStep,
  type SutCapacity,
} from "./schema.ts";
import { judgeStep, nextRate, summarize, type SearchPlan, type StepRule } from "./search.ts";
import { renderCapacitySummary } from "./summary.ts";

/** The sut.json profile (and broker profile) capacity runs with: what a user sizing for load would choose. */
export const CAPACITY_PROFILE = "throughput";
/** ProducerPerformance commits a transaction this often for the transactional ceiling (as the issue asks). */
const TRANSACTION_MS = 100;

export interface CapacityOptions {
  suts: string[];
  /** Settings over each SUT's throughput profile (--set), by SUT name, as OVERSELL_SETTING_* names. */
  settings?: Record<string, SettingOverrides>;
  /** An external cluster; without it an embedded one is started with the throughput profile. */
  connection?: Connection;
  kafkaVersion?: string;
  sloP99Us: number;
  fromPerSec: number;
  maxPerSec: number;
  quick: boolean;
  outDir: string;
  command?: string;
  /** Records per ProducerPerformance run (default: 200,000 quick, 1,000,000 full); tests take few. */
  ceilingRecords?: number;
  /** Seconds of load per step (default: 5 quick, 15 full); tests take fewer. */
  stepSeconds?: number;
  /** Seconds of load before each step's measured part (default: 5 quick, 10 full): judged, but not measured. */
  warmupSeconds?: number;
  /** Permanent progress lines (each step's outcome). */
  log: (line: string) => void;
  /** The live line of the bench run under way (its own log lines land here too). */
  status?: Progress;
}

/** Quick: short steps, a coarse bisection (about 10 min for two SUTs on 2 cores); full: longer steps, finer. */
export function capacityPlan(
  o: Pick<CapacityOptions, "quick" | "fromPerSec" | "maxPerSec" | "stepSeconds" | "warmupSeconds">,
) {
  const plan: SearchPlan = {
    fromPerSec: o.fromPerSec,
    maxPerSec: o.maxPerSec,
    factor: 2,
    resolution: o.quick ? 0.25 : 0.1,
    maxBisect: o.quick ? 2 : 4,
  };
  return {
    plan,
    stepSeconds: o.stepSeconds ?? (o.quick ? 5 : 15),
    // A SUT's first seconds are start-up (JIT, group joins, a transactional producer per partition): at 5 s steps
    // without a warm-up, keyed-transactional's p50 was 1.5-2.4 s at every rate.
    warmupSeconds: o.warmupSeconds ?? (o.quick ? 5 : 10),
    drainSeconds: o.quick ? 30 : 60,
  };
}

/**
 * The steady scenario at one rate, with stock that never runs out (rejections would not measure the SUT): the
 * warm-up, then the measured seconds, one open-loop load.
 */
export function stepScenario(
  ratePerSec: number,
  t: { stepSeconds: number; warmupSeconds: number; drainSeconds: number },
): Scenario {
  const base = BUILTIN_SCENARIOS.steady!;
  const products = 200;
  const loadSeconds = t.warmupSeconds + t.stepSeconds;
  // Quantities 1-3 (mean 2): twice the expected units per product is never sold out.
  const initialStock = Math.max(1000, Math.ceil(((ratePerSec * loadSeconds * 2) / products) * 2));
  return validateScenario({
    ...base,
    name: `capacity-${ratePerSec}`,
    products: { count: products, initialStock },
    timing: { kind: "rate", ratePerSec, durationMs: loadSeconds * 1000 },
    ...(t.warmupSeconds > 0 ? { warmupMs: t.warmupSeconds * 1000 } : {}),
    drainTimeoutMs: t.drainSeconds * 1000,
  });
}

/** The open-loop clock of a step starts this far ahead: the producer workers connect first (seconds when busy). */
const LOAD_LEAD_MS = 3000;
/** Every step's topics have the steady scenario's partition count; so has the ceiling's topic. */
const PARTITIONS = stepScenario(1000, { stepSeconds: 1, warmupSeconds: 0, drainSeconds: 1 }).kafka.partitions;

const loadAvg = () => loadavg().map((x) => Math.round(x * 100) / 100);

export async function runCapacity(o: CapacityOptions): Promise<{ report: CapacityReport; files: string[] }> {
  const startedAt = new Date().toISOString();
  const loadAvgStart = loadAvg();
  const { plan, stepSeconds, warmupSeconds, drainSeconds } = capacityPlan(o);
  const rule: StepRule = { sloP99Us: o.sloP99Us, minDecidedShare: 0.95 };
  const runId = newRunId();
  mkdirSync(o.outDir, { recursive: true });
  let cluster: EmbeddedCluster | undefined;
  try {
    let connection: Connection;
    let kafka: CapacityReport["kafka"];
    if (o.connection) {
      await probeCluster(o.connection, 30_000);
      connection = o.connection;
      kafka = { bootstrap: connection.brokers.join(","), embedded: false, partitions: PARTITIONS };
    } else {
      o.status?.update(`starting embedded Kafka (${CAPACITY_PROFILE} profile) ...`);
      cluster = await EmbeddedCluster.start({
        kafkaVersion: o.kafkaVersion,
        logFile: join(o.outDir, "kafka.log"),
        profile: CAPACITY_PROFILE,
        log: o.log,
        // C2 and a 1 GiB heap start slower than the fast-start profile; on a swamped machine, minutes.
        startTimeoutMs: 300_000,
      });
      connection = cluster.connection;
      kafka = { version: cluster.kafkaVersion, bootstrap: cluster.bootstrap, embedded: true, partitions: PARTITIONS };
      o.log(`Kafka ${cluster.kafkaVersion} at ${cluster.bootstrap}, ${CAPACITY_PROFILE} profile`);
    }
    const ceiling = await measureCeiling(connection, o, runId, kafka.version);
    const sampler = new CpuSampler(() => cluster?.pids() ?? []);
    sampler.start();
    const suts: SutCapacity[] = [];
    const profiles: CapacityReport["profile"]["suts"] = {};
    const report = (finished: boolean): CapacityReport => ({
      schemaVersion: CAPACITY_SCHEMA_VERSION,
      kind: "capacity",
      startedAt,
      // A run cut short (Ctrl-C, the session ending) still has the SUTs done so far on disk, without finishedAt.
      ...(finished ? { finishedAt: new Date().toISOString() } : {}),
      command: o.command,
      quick: o.quick,
      rule: {
        sloP99Us: rule.sloP99Us,
        minDecidedShare: rule.minDecidedShare,
        stepSeconds,
        warmupSeconds,
        drainSeconds,
      },
      search: {
        fromPerSec: plan.fromPerSec,
        maxPerSec: plan.maxPerSec,
        factor: plan.factor,
        resolution: plan.resolution,
      },
      kafka,
      ceiling,
      profile: {
        name: CAPACITY_PROFILE,
        broker: cluster
          ? {
              jvm: [...BROKER_PROFILES[CAPACITY_PROFILE].jvm],
              properties: { ...BROKER_PROFILES[CAPACITY_PROFILE].properties },
            }
          : undefined,
        suts: profiles,
      },
      suts,
      machine: { cpus: cpus().length, loadAvgStart, loadAvgEnd: loadAvg() },
    });
    for (const item of o.suts) {
      const manifest = loadManifest(item);
      profiles[manifest.name] = manifest.profiles?.[CAPACITY_PROFILE] ?? {};
      suts.push(
        await searchSut(item, {
          o,
          plan,
          rule,
          timing: { stepSeconds, warmupSeconds, drainSeconds },
          runId,
          connection,
          cluster,
          sampler,
        }),
      );
      writeCapacity(report(false), o.outDir);
    }
    sampler.stop();
    // An external cluster keeps what it is given: the ceiling's and the steps' topics go, at the end only (a step
    // started right after a deletion met "This server does not host this topic-partition" on a busy broker).
    // An embedded cluster is thrown away whole.
    if (o.connection) await deleteRunTopicsOf(connection, runId, o.log);
    const final = report(true);
    return { report: final, files: writeCapacity(final, o.outDir) };
  } finally {
    o.status?.done();
    await cluster?.stop();
  }
}

/** capacity.json (checked against its schema first), capacity.html; returns the paths. */
export function writeCapacity(report: CapacityReport, outDir: string): string[] {
  const checked = capacitySchema.parse(report);
  const json = join(outDir, "capacity.json");
  const page = join(outDir, "capacity.html");
  writeFileSync(json, JSON.stringify(checked, null, 2) + "\n");
  writeFileSync(page, renderCapacityHtml(checked));
  return [json, page];
}

/** Kafka's ProducerPerformance on this broker at the orders' record size: plain (idempotent), then transactional. */
async function measureCeiling(
  connection: Connection,
  o: CapacityOptions,
  runId: string,
  version: string | undefined,
): Promise<CapacityReport["ceiling"]> {
  const recordBytes = meanOrderValueBytes(
    generateStream(stepScenario(1000, { stepSeconds: 2, warmupSeconds: 0, drainSeconds: 1 }), 1),
  );
  const records = o.ceilingRecords ?? (o.quick ? 200_000 : 1_000_000);
  const ceiling: CapacityReport["ceiling"] = { recordBytes, transactionDurationMs: TRANSACTION_MS };
  const ns = `oversell.${runId}-ceiling.producer`;
  try {
    const toolsDir = await ensureKafkaToolsJars(version ?? DEFAULT_KAFKA_VERSION, o.log);
    await createContractTopics(connection, ns, PARTITIONS, 1);
    for (const transactional of [false, true]) {
      const what = transactional ? `transactional (a commit every ${TRANSACTION_MS} ms)` : "acks=all, idempotent";
      o.status?.update(`ceiling: ProducerPerformance ${what}, ${records} × ${recordBytes} B ...`);
      const r = await producerPerformance({
        connection,
        toolsDir,
        topic: topicsFor(ns).orders,
        records,
        recordBytes,
        transaction: transactional ? { id: `${ns}.tx`, durationMs: TRANSACTION_MS } : undefined,
        logFile: join(o.outDir, `ceiling-${transactional ? "transactional" : "producer"}.log`),
      });
      const run = { recordsPerSec: r.recordsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, records };
      if (transactional) {
        ceiling.transactional = run;
        ceiling.transactionalProducerPerSec = r.recordsPerSec;
      } else {
        ceiling.producer = run;
        ceiling.producerPerSec = r.recordsPerSec;
      }
      o.log(
        `ceiling: ProducerPerformance ${what}: ${Math.round(r.recordsPerSec).toLocaleString("en-US")} records/s ` +
          `(p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms; load ${loadAvg().join(" ")})`,
      );
    }
  } catch (e) {
    ceiling.error = (e as Error).message.split("\n")[0];
    o.log(`ceiling: not measured: ${ceiling.error}`);
  }
  return ceiling;
}

interface SearchContext {
  o: CapacityOptions;
  plan: SearchPlan;
  rule: StepRule;
  timing: { stepSeconds: number; warmupSeconds: number; drainSeconds: number };
  runId: string;
  connection: Connection;
  cluster?: EmbeddedCluster;
  sampler: CpuSampler;
}

/** The ramp and bisection of one SUT, each step a judged bench run on fresh namespaces. */
async function searchSut(item: string, c: SearchContext): Promise<SutCapacity> {
  const manifest = loadManifest(item);
  const name = manifest.name;
  const overrides = { ...profileOverrides(manifest, CAPACITY_PROFILE), ...c.o.settings?.[name] };
  const settings = settingsEnv(manifest, overrides);
  const steps: CapacityStep[] = [];
  let error: string | undefined;
  let retried = false;
  for (let next = nextRate(steps, c.plan); next; next = nextRate(steps, c.plan)) {
    const rate = next.rate;
    const attempt = retried ? "-again" : "";
    const stepRunId = `${c.runId}-${name}-${rate}${attempt}`;
    const runDir = join(c.o.outDir, "steps", `${name}-${rate}${attempt}`);
    const { stepSeconds, warmupSeconds } = c.timing;
    c.o.status?.update(
      `[${name}] ${next.phase} step ${steps.length + 1}: ${rate}/s for ${warmupSeconds} + ${stepSeconds} s ...`,
    );
    try {
      const out = await runBench({
        suts: [item],
        scenario: stepScenario(rate, c.timing),
        seed: 1,
        ...(c.cluster ? { shared: { cluster: c.cluster } } : { connection: c.connection }),
        runId: stepRunId,
        outDir: runDir,
        settings: { [name]: overrides },
        progress: c.o.status ?? new Progress(process.stderr, true),
        command: `capacity ${name} ${rate}/s`,
        loadLeadMs: LOAD_LEAD_MS,
      });
      const s = out.result.suts[0]!;
      // A step that could not be judged (a client error on a swamped broker) is tried once more before it counts.
      if (s.verdict === "unknown" && !retried) {
        retried = true;
        c.o.log(`[${name}] ${rate}/s could not be judged (${(s.verdictReason ?? "").split("\n")[0]}); once more`);
        continue;
      }
      retried = false;
      const judged = judgeStep(s, c.rule);
      const from = (s.seriesStartMs ?? Date.now()) + warmupSeconds * 1000;
      const step: CapacityStep = {
        ...judged,
        offeredPerSec: rate,
        loadSeconds: stepSeconds,
        loadAvg1m: loadAvg()[0]!,
        runDir: relative(c.o.outDir, runDir),
        phase: next.phase,
        cpuCores: c.sampler.cores(from, from + stepSeconds * 1000 + Math.min(judged.p99Us / 1000, 30_000)),
      };
      steps.push(step);
      c.o.log(stepLine(name, steps.length, step));
      if (s.verdict === "unknown") {
        error = `${rate}/s could not be judged twice: ${(s.verdictReason ?? "").split("\n")[0]}`;
        break;
      }
    } catch (e) {
      error = (e as Error).message.split("\n")[0];
      c.o.log(`[${name}] ${rate}/s: error: ${error}`);
      break;
    }
  }
  const s = summarize(steps, c.plan);
  c.o.log(
    `[${name}] max sustainable ${s.maxSustainablePerSec}/s` +
      (s.p99AtMaxUs !== undefined ? ` (p99 ${(s.p99AtMaxUs / 1000).toFixed(0)} ms)` : "") +
      `, limited by ${error ? "an error" : s.limitedBy}`,
  );
  return { name, ...s, limitedBy: error ? "error" : s.limitedBy, steps, settings, ...(error ? { error } : {}) };
}

const ms = (us: number) => `${Math.round(us / 1000)} ms`;

function stepLine(name: string, n: number, s: CapacityStep): string {
  const state = s.harnessBound ? "HARNESS-BOUND" : s.sustained ? "sustained" : "not sustained";
  const cpu = s.cpuCores
    ? `; cores sut ${s.cpuCores.sut} broker ${s.cpuCores.broker} harness ${s.cpuCores.harness}`
    : "";
  return (
    `[${name}] step ${n} (${s.phase}) ${s.offeredPerSec}/s: ${state} — decided ${Math.round(s.decidedPerSec)}/s, ` +
    `p50 ${ms(s.p50Us)}, p99 ${ms(s.p99Us)}, verdict ${s.verdict}` +
    (s.reasons.length ? ` (${s.reasons.join("; ")})` : "") +
    `${cpu}; load ${s.loadAvg1m}`
  );
}

export { renderCapacitySummary };

/** Deletes the topics of every step of this capacity run (their run ids start with the capacity run's). */
async function deleteRunTopicsOf(connection: Connection, runId: string, log: (line: string) => void): Promise<void> {
  try {
    const n = await deleteRunTopics(connection, (id) => id.startsWith(runId));
    log(`deleted the ${n} topic(s) of this run's steps`);
  } catch (e) {
    log(`could not delete the steps' topics: ${(e as Error).message.split("\n")[0]}`);
  }
}
