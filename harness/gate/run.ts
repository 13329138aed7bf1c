// `npm run gate`: every cell of the matrix in turn against ONE embedded broker behind fault proxies
// (network faults need them; a cell's broker fault restarts that broker and heals before its drain).
// Each cell is a normal bench run in its own folder and namespace; the gate judges each against
// its expectation and writes junit.xml, summary.txt and gate.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { EmbeddedCluster } from "../cluster/embedded.ts";
import { parseFaultSpecs, ProxySet } from "../nemesis/index.ts";
import { newRunId, runBench, type BenchOptions } from "../run/bench.ts";
import { withAdmin } from "../run/kafka.ts";
import { Progress } from "../run/progress.ts";
import { generateStream } from "../scenario/generate.ts";
import { validateScenario } from "../scenario/load.ts";
import { InputError } from "../shared/zod-errors.ts";
import { loadManifest } from "../sut/manifest.ts";
import { buildMatrix, expectedVerdict, planRuns, selectCells, type GateCell, type GateRunPlan } from "./matrix.ts";
import { appendHistory, historyRecord } from "./history.ts";
import { gateExitCode, judgeCell, type GateRunResult } from "./outcome.ts";
import { formatDuration, renderGateJunit, renderGateSummary } from "./render.ts";

export interface GateOptions {
  /** The gate folder (every cell's run folder goes inside it). */
  outDir: string;
  /** Comma-separated substrings of cell ids. */
  only?: string;
  repeat: number;
  seed: number;
  kafkaVersion?: string;
  progress: Progress;
  gateId?: string;
  /** Delete each cell's topics after it (keeps the one broker light); default true. */
  deleteTopics?: boolean;
  /** Every cell, not only the CI set (ignored with `only`). */
  full?: boolean;
  /** Each execution is appended here as it ends (gate/history.ts); none when undefined. */
  historyFile?: string;
}

export interface GateOutcome {
  runs: GateRunResult[];
  exitCode: number;
  summary: string;
  files: { junit: string; summary: string; json: string };
  wallMs: number;
}

function folderName(n: number, cell: GateCell, seed: number, repeated: boolean): string {
  const slug = cell.id
    .replace(/\[(.*)\]$/, "-$1")
    .replace(/[^A-Za-z0-9-]+/g, "-")
    .replace(/-+$/, "");
  return `${String(n).padStart(2, "0")}-${slug}${repeated ? `-seed${seed}` : ""}`;
}

export function gateCells(only?: string, full = false): GateCell[] {
  const cells = selectCells(
    buildMatrix((sut) => loadManifest(sut)),
    only,
    full,
  );
  if (cells.length === 0)
    throw new InputError(
      `--only "${only}": no cell matches (cells: ${buildMatrix((s) => loadManifest(s))
        .map((c) => c.id)
        .join(", ")})`,
    );
  return cells;
}

export async function runGate(o: GateOptions): Promise<GateOutcome> {
  const t0 = Date.now();
  const gateId = o.gateId ?? newRunId();
  const cells = gateCells(o.only, o.full);
  const plans = planRuns(cells, o.seed, o.repeat);
  const repeated = o.repeat > 1;
  mkdirSync(o.outDir, { recursive: true });
  const prepared = prepareRuns(plans, repeated);
  o.progress.log(
    `gate ${gateId}: ${cells.length} cell(s)${repeated ? ` × ${o.repeat} seeds` : ""} ` +
      `= ${plans.length} run(s), seed ${o.seed}; folder ${o.outDir}`,
  );
  try {
    const { runs, kafkaLabel } = await runAllCells(o, prepared, gateId, t0);
    const wallMs = Date.now() - t0;
    const summary = renderGateSummary(runs, { gateId, wallMs, kafka: kafkaLabel });
    const exitCode = gateExitCode(runs);
    const head = { gateId, startedAt: new Date(t0).toISOString(), wallMs, exitCode, kafka: kafkaLabel };
    const files = writeGateFiles(o, head, runs, summary);
    return { runs, exitCode, summary, files, wallMs };
  } finally {
    o.progress.done();
  }
}

/** Validates every cell before a broker starts: a typo in the table must not cost a cluster start. */
function prepareRuns(plans: GateRunPlan[], repeated: boolean): PreparedRun[] {
  return plans.map((p, i) => {
    const scenario = validateScenario(p.cell.scenario, `gate scenario of ${p.cell.id}`);
    const loadMs = Math.max(generateStream(scenario, p.seed).durationMs, 1000);
    const faults = p.cell.faults ? { text: p.cell.faults, specs: parseFaultSpecs(p.cell.faults, loadMs) } : undefined;
    return { ...p, scenario, faults, n: i + 1, folder: folderName(i + 1, p.cell, p.seed, repeated) };
  });
}

/** One embedded cluster per broker count: the one-broker cells first, then the three-broker ones. */
async function runAllCells(
  o: GateOptions,
  prepared: PreparedRun[],
  gateId: string,
  t0: number,
): Promise<{ runs: GateRunResult[]; kafkaLabel: string }> {
  const runs: GateRunResult[] = [];
  const kafkaLabels: string[] = [];
  for (const brokers of [1, 3] as const) {
    const group = prepared.filter((p) => p.cell.brokers === brokers);
    if (group.length === 0) continue;
    await withGateCluster(o, brokers, async (cluster, proxies, kafkaLabel) => {
      kafkaLabels.push(kafkaLabel);
      for (const p of group) runs.push(await runCell(o, p, prepared.length, gateId, cluster, proxies, t0));
    });
  }
  return { runs, kafkaLabel: kafkaLabels.join("; ") };
}

interface GateHead {
  gateId: string;
  startedAt: string;
  wallMs: number;
  exitCode: number;
  kafka: string;
}

/** junit.xml, summary.txt and gate.json in the gate folder. */
function writeGateFiles(o: GateOptions, head: GateHead, runs: GateRunResult[], summary: string): GateOutcome["files"] {
  const files = {
    junit: join(o.outDir, "junit.xml"),
    summary: join(o.outDir, "summary.txt"),
    json: join(o.outDir, "gate.json"),
  };
  writeFileSync(files.junit, renderGateJunit(runs, { gateId: head.gateId, startedAt: head.startedAt }));
  writeFileSync(files.summary, `${summary}\n`);
  writeFileSync(files.json, `${JSON.stringify(gateJson(o, head, runs), null, 2)}\n`);
  return files;
}

function gateJson(o: GateOptions, head: GateHead, runs: GateRunResult[]): object {
  const { gateId, startedAt, wallMs, exitCode, kafka } = head;
  return {
    gateId,
    startedAt,
    wallMs,
    exitCode,
    seed: o.seed,
    repeat: o.repeat,
    only: o.only,
    kafka,
    runs: runs.map((r) => ({
      cell: r.cell.id,
      sut: r.cell.sut,
      variant: r.cell.variant,
      fault: r.cell.fault,
      brokers: r.cell.brokers,
      faults: r.cell.faults,
      scenario: r.cell.scenario.name,
      seed: r.seed,
      repetition: r.repetition,
      expected: r.expected,
      expectedViolations: r.cell.expectedViolations,
      expectationSource: r.cell.expectationSource,
      reason: r.cell.reason,
      verdict: r.verdict,
      match: r.match,
      note: r.note,
      error: r.error,
      runDir: r.runDir,
      wallMs: r.wallMs,
      violations: r.sut
        ? Object.fromEntries(Object.entries(r.sut.violations).map(([k, v]) => [k, v.count]))
        : undefined,
    })),
  };
}

type PreparedRun = GateRunPlan & {
  scenario: ReturnType<typeof validateScenario>;
  faults?: BenchOptions["faults"];
  n: number;
  folder: string;
};

/** Starts an embedded cluster of `brokers` nodes (behind fault proxies), runs `fn`, stops it. */
async function withGateCluster(
  o: GateOptions,
  brokers: 1 | 3,
  fn: (c: EmbeddedCluster, p: ProxySet, label: string) => Promise<void>,
): Promise<void> {
  const proxies = await ProxySet.forCluster();
  let cluster: EmbeddedCluster | undefined;
  const nodes = brokers === 1 ? "1 node" : `${brokers} nodes`;
  try {
    o.progress.update(`starting the embedded cluster (${nodes}, behind fault proxies) ...`);
    cluster = await EmbeddedCluster.start({
      brokers,
      kafkaVersion: o.kafkaVersion,
      logFile: join(o.outDir, brokers === 1 ? "kafka.log" : `kafka-${brokers}-brokers.log`),
      log: (l) => o.progress.log(l),
      advertisedPort: proxies.advertisedPort,
    });
    const label =
      `Kafka ${cluster.kafkaVersion}, ${brokers === 1 ? "1 broker" : `${brokers} brokers`} ` +
      `at ${cluster.bootstrap} (through fault proxies)`;
    o.progress.log(label);
    await fn(cluster, proxies, label);
  } finally {
    await cluster?.stop();
    await proxies.close();
  }
}

/** One run of one cell on the shared cluster, judged against its expectation. */
async function runCell(
  o: GateOptions,
  p: PreparedRun,
  total: number,
  gateId: string,
  cluster: EmbeddedCluster,
  proxies: ProxySet,
  t0: number,
): Promise<GateRunResult> {
  const { cell } = p;
  const tag = `[${p.n}/${total}] ${cell.id} seed ${p.seed}`;
  o.progress.log(
    `${tag}: ${cell.faults ? `faults ${cell.faults}` : "no fault"}, ` +
      `scenario ${p.scenario.name}, expected ${expectedVerdict(cell)}`,
  );
  const runId = `${gateId}c${String(p.n).padStart(2, "0")}`;
  const result = await benchCell(o, p, runId, { cluster, proxies });
  if (o.historyFile) appendHistory(o.historyFile, historyRecord(result, gateId));
  const v = result.sut?.violations;
  const counts = v
    ? ` (oversell ${v.oversell?.count ?? 0}, duplicate ${v.duplicate?.count ?? 0}, lost ${v.lost?.count ?? 0})`
    : "";
  o.progress.log(
    `${tag}: ${result.verdict}${counts}, expected ${result.expected} — ` +
      `${result.match ? "ok" : `MISMATCH: ${(result.error ?? result.note ?? "").split("\n")[0]}`} ` +
      `[${formatDuration(result.wallMs)}, gate ${formatDuration(Date.now() - t0)}]`,
  );
  await afterCell(cluster, proxies, runId, o.deleteTopics ?? true, (l) => o.progress.log(`${tag}: ${l}`));
  return result;
}

/** The cell as a bench run in its own folder, judged against its expectation; an error is a result too. */
async function benchCell(
  o: GateOptions,
  p: PreparedRun,
  runId: string,
  shared: NonNullable<BenchOptions["shared"]>,
): Promise<GateRunResult> {
  const { cell } = p;
  const runDir = join(o.outDir, p.folder);
  const started = Date.now();
  const base = { cell, repetition: p.repetition, seed: p.seed };
  try {
    const outcome = await runBench({
      suts: [cell.sut],
      scenario: p.scenario,
      seed: p.seed,
      shared,
      outDir: runDir,
      runId,
      settings: cell.settings ? { [cell.sut]: cell.settings } : undefined,
      faults: p.faults,
      expectedViolations: { [cell.sut]: cell.expectedViolations },
      progress: o.progress,
      command: `npm run gate -- --only '${cell.id}' --seed ${p.seed}`,
    });
    const sut = outcome.result.suts[0];
    return {
      ...base,
      ...judgeCell(cell, sut),
      sut,
      runDir: relative(o.outDir, runDir) || ".",
      wallMs: Date.now() - started,
    };
  } catch (e) {
    return {
      ...base,
      ...judgeCell(cell, undefined),
      runDir: relative(o.outDir, runDir),
      wallMs: Date.now() - started,
      error: (e as Error).message,
    };
  }
}

/**
 * The next cell must start on a healthy broker whatever this one left behind: proxies healed, the
 * broker running; and this cell's topics deleted so one broker does not accumulate hundreds of partitions.
 */
async function afterCell(
  cluster: EmbeddedCluster,
  proxies: ProxySet,
  runId: string,
  deleteTopics: boolean,
  log: (l: string) => void,
): Promise<void> {
  proxies.heal();
  for (const n of cluster.nodes) {
    if (!n.running) {
      log(`broker ${n.nodeId} was not running after the cell; restarting it`);
      await cluster.startNode(n.nodeId);
    }
  }
  if (!deleteTopics) return;
  try {
    await withAdmin(cluster.connection, async (admin) => {
      const mine = (await admin.listTopics()).filter((t) => t.startsWith(`oversell.${runId}.`));
      if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
    });
  } catch (e) {
    log(`could not delete the cell's topics (${(e as Error).message}); continuing`);
  }
}
