// `npm run bench`: one run = one cluster, one generated order stream, every selected SUT in turn
// (each in its own namespace), judged by the checker, written to the run folder.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describeConnection, type Connection } from "../../systems-under-test/contract/connection.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import type { FaultWindow, Invariant } from "../checker/index.ts";
import { EmbeddedCluster } from "../cluster/embedded.ts";
import { readRunHistory } from "../history/read.ts";
import { HistoryWriter } from "../history/writer.ts";
import { OrderGateway } from "../load/gateway.ts";
import { startHttpLoad } from "../load/http-driver.ts";
import { startKafkaLoad } from "../load/kafka-driver.ts";
import { idempotentProducer } from "../load/produce.ts";
import { runSchedule } from "../load/schedule.ts";
import type { LoadCallbacks, LoadHandle } from "../load/types.ts";
import { NemesisError, ProxySet, runNemesis, type FaultSpec, type NemesisHandle } from "../nemesis/index.ts";
import { environment } from "../report/environment.ts";
import { SCHEMA_VERSION, type RunResult, type SutResult } from "../report/result-schema.ts";
import { renderSummary } from "../report/summary.ts";
import { writeRunOutputs, type WrittenFiles } from "../report/write.ts";
import { generateStream, type GeneratedStream, type RestockEntry } from "../scenario/generate.ts";
import type { Scenario } from "../scenario/schema.ts";
import { HARNESS_READS, loadManifest, type Manifest } from "../sut/manifest.ts";
import { numberSetting } from "../sut/settings.ts";
import { InstanceGroup } from "../sut/instances.ts";
import { prepareClient, type SutClient } from "../clients/index.ts";
import { createContractTopics, kafkaClient, probeCluster, sendStock } from "./kafka.ts";
import { Progress } from "./progress.ts";
import { crossCheckFile, judgeStage, recordFile, SutJudging } from "./judge.ts";
import { exitCodeFor, runVerdict, unknownResult, type SutBase } from "./results.ts";

export interface BenchOptions {
  /** SUT names (folders under systems-under-test/) or folders holding a sut.json. */
  suts: string[];
  scenario: Scenario;
  seed: number;
  /** An external cluster; without it an embedded one is started. */
  connection?: Connection;
  /**
   * An embedded cluster the caller started and stops (the gate shares one across many runs), with
   * the fault proxies in front of it if it was started behind them; runBench neither starts nor stops them.
   */
  shared?: { cluster: EmbeddedCluster; proxies?: ProxySet };
  /** Per SUT: expected violations replacing the manifest's (a deliberately broken variant is expected to fail). */
  expectedViolations?: Record<string, Invariant[]>;
  brokers?: 1 | 3;
  kafkaVersion?: string;
  outDir?: string;
  runId?: string;
  driver?: "kafka" | "http";
  /** Instances per SUT (default: each manifest's). */
  instances?: number;
  /** Per SUT: extra instance environment (OVERSELL_SETTING_*). */
  settings?: Record<string, Record<string, string>>;
  faults?: { text: string; specs: FaultSpec[] };
  progress?: Progress;
  /** The command line, for result.json (no secret in it: the password only comes from the environment). */
  command?: string;
  /**
   * How far ahead of now the open-loop clock starts (default 300 ms). capacity gives the producer workers time to
   * connect on a busy machine, so a step's first orders are not a catch-up burst that its latency would carry.
   */
  loadLeadMs?: number;
  /** Ctrl-C: record it in the history and leave (children are reaped by children.ts). */
  handleSignals?: boolean;
  /** After each drain, a second reader (Kafka's Java consumer) lists the committed decisions to compare. */
  crossCheck?: boolean;
}

export interface BenchOutcome {
  result: RunResult;
  exitCode: number;
  runDir: string;
  files: WrittenFiles;
  summary: string;
}

export function newRunId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const stamp =
    `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}` +
    `T${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${stamp}-${randomBytes(2).toString("hex")}`;
}

/** Ack timeout of a send; after it the order's fate is "unknown" (a late ack still counts). */
const ACK_TIMEOUT_MS = 30_000;
/** How long the decision reader may take to join before the load starts anyway. */
const WATCH_READY_MS = 30_000;

export async function runBench(o: BenchOptions): Promise<BenchOutcome> {
  const run = openRun(o);
  const stopSignals = o.handleSignals ? exitOnSignal(run) : () => {};
  // What this run started itself (a shared cluster belongs to the caller): stopped at the end, even half-started.
  const owned: Owned = {};
  try {
    const kafka = await connectKafka(o, run, owned);
    markRunStart(o, run, kafka);
    const suts = await runEachSut(o, run, kafka, owned);
    return finishRun(o, run, kafka.info, suts);
  } catch (e) {
    run.history.mark({ type: "error", message: (e as Error).message });
    throw e;
  } finally {
    run.progress.done();
    run.history.close();
    stopSignals();
    await owned.cluster?.stop();
    await owned.proxies?.close();
  }
}

/** What every SUT of a run shares: its id and folder, the order stream, the history and the progress line. */
interface RunContext {
  runId: string;
  runDir: string;
  progress: Progress;
  history: HistoryWriter;
  startedAt: Date;
  stream: GeneratedStream;
  driver: "kafka" | "http";
}

interface Owned {
  cluster?: EmbeddedCluster;
  proxies?: ProxySet;
}

/** The cluster the run talks to, as result.json describes it. */
interface KafkaSetup {
  connection: Connection;
  info: RunResult["kafka"];
  replication: number;
}

function openRun(o: BenchOptions): RunContext {
  const runId = o.runId ?? newRunId();
  const runDir = o.outDir ?? join(process.cwd(), "reports", runId);
  mkdirSync(runDir, { recursive: true });
  return {
    runId,
    runDir,
    progress: o.progress ?? new Progress(),
    history: new HistoryWriter(join(runDir, "history.ndjson")),
    startedAt: new Date(),
    stream: generateStream(o.scenario, o.seed),
    driver: o.driver ?? "kafka",
  };
}

/** Ctrl-C or SIGTERM: the history records it and the process leaves; returns the un-install. */
function exitOnSignal(run: RunContext): () => void {
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    run.history.mark({ type: "interrupted", signal: sig });
    run.history.close();
    run.progress.done();
    process.stderr.write(`\ninterrupted (${sig}): history so far is in ${join(run.runDir, "history.ndjson")}\n`);
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  for (const s of ["SIGINT", "SIGTERM"] as const) process.on(s, onSignal);
  return () => {
    for (const s of ["SIGINT", "SIGTERM"] as const) process.off(s, onSignal);
  };
}

/** The caller's shared cluster, an external one, or an embedded one started here (behind proxies if needed). */
async function connectKafka(o: BenchOptions, run: RunContext, owned: Owned): Promise<KafkaSetup> {
  const { progress } = run;
  let connection: Connection;
  let info: RunResult["kafka"];
  if (o.shared) {
    if (o.connection) throw new Error("runBench: give either connection or shared, not both");
    const c = o.shared.cluster;
    connection = c.connection;
    info = { version: c.kafkaVersion, brokers: c.nodes.length, bootstrap: c.bootstrap, embedded: true };
  } else if (o.connection) {
    progress.update(`connecting to ${describeConnection(o.connection)} ...`);
    const probed = await probeCluster(o.connection, 30_000);
    connection = o.connection;
    info = { brokers: probed.brokers, bootstrap: o.connection.brokers.join(","), embedded: false };
  } else {
    const wantsProxies = o.faults?.specs.some((f) => f.kind === "network") ?? false;
    owned.proxies = wantsProxies ? await ProxySet.forCluster() : undefined;
    progress.update(`starting embedded Kafka (${o.brokers ?? 1} node${(o.brokers ?? 1) > 1 ? "s" : ""}) ...`);
    const cluster = await EmbeddedCluster.start({
      brokers: o.brokers ?? 1,
      kafkaVersion: o.kafkaVersion,
      logFile: join(run.runDir, "kafka.log"),
      log: (l) => progress.log(l),
      advertisedPort: owned.proxies?.advertisedPort,
    });
    owned.cluster = cluster;
    connection = cluster.connection;
    info = {
      version: cluster.kafkaVersion,
      brokers: cluster.nodes.length,
      bootstrap: cluster.bootstrap,
      embedded: true,
    };
    progress.log(
      `Kafka ${cluster.kafkaVersion} at ${cluster.bootstrap} (log: ` +
        `${relative(process.cwd(), cluster.logFile) || cluster.logFile})`,
    );
  }
  return { connection, info, replication: Math.min(3, info.brokers) };
}

function markRunStart(o: BenchOptions, run: RunContext, kafka: KafkaSetup): void {
  run.history.mark({
    type: "run-start",
    runId: run.runId,
    seed: o.seed,
    scenario: o.scenario,
    kafka: kafka.info,
    connection: describeConnection(kafka.connection),
    suts: o.suts,
    driver: run.driver,
    faults: o.faults?.text,
    command: o.command,
  });
  run.progress.log(
    `run ${run.runId}: scenario ${o.scenario.name} (seed ${o.seed}): ${run.stream.table.length} ` +
      `orders on ${run.stream.productIds.length} products; SUTs: ${o.suts.join(", ")}`,
  );
}

/** Every selected SUT in turn, on the same cluster and the same orders. */
async function runEachSut(o: BenchOptions, run: RunContext, kafka: KafkaSetup, owned: Owned): Promise<SutResult[]> {
  const suts: SutResult[] = [];
  for (const item of o.suts) {
    const r = await runOneSut({
      item,
      o,
      runId: run.runId,
      runDir: run.runDir,
      connection: kafka.connection,
      cluster: owned.cluster ?? o.shared?.cluster,
      proxies: owned.proxies ?? o.shared?.proxies,
      stream: run.stream,
      history: run.history,
      progress: run.progress,
      replication: kafka.replication,
      driver: run.driver,
    });
    suts.push(r);
    run.history.mark({
      type: "sut-end",
      sut: r.name,
      verdict: r.verdict,
      verdictReason: r.verdictReason,
      crashes: r.crashes ?? undefined,
    });
    const mark = r.verdict === "unknown" ? "?" : r.matchesExpectation ? "ok" : "MISMATCH";
    run.progress.log(
      `[${r.name}] verdict ${r.verdict} (expected ${r.expected}) ` +
        `${mark}${r.verdictReason ? ` — ${r.verdictReason.split("\n")[0]}` : ""}`,
    );
  }
  return suts;
}

/** The run's verdict and result.json, with the report files written next to the history. */
function finishRun(o: BenchOptions, run: RunContext, kafka: RunResult["kafka"], suts: SutResult[]): BenchOutcome {
  const verdict = runVerdict(suts);
  const result: RunResult = {
    schemaVersion: SCHEMA_VERSION,
    runId: run.runId,
    startedAt: run.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    seed: o.seed,
    scenario: o.scenario,
    kafka,
    verdict,
    suts,
    environment: environment(),
    command: o.command,
    driver: run.driver,
    faults: o.faults?.text,
  };
  run.history.mark({ type: "run-end", verdict });
  const files = writeRunOutputs(result, run.runDir);
  if (files.htmlError) run.progress.log(`report.html could not be written: ${files.htmlError}`);
  run.progress.done();
  return { result, exitCode: exitCodeFor(verdict), runDir: run.runDir, files, summary: renderSummary(result) };
}

interface SutContext {
  /** A SUT name or a folder with a sut.json. */
  item: string;
  o: BenchOptions;
  runId: string;
  runDir: string;
  connection: Connection;
  cluster?: EmbeddedCluster;
  proxies?: ProxySet;
  stream: GeneratedStream;
  history: HistoryWriter;
  progress: Progress;
  replication: number;
  driver: "kafka" | "http";
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}

/** One SUT's run, its parts and what must be stopped at the end. */
interface SutRun {
  c: SutContext;
  manifest: Manifest;
  name: string;
  ns: string;
  b: SutBase;
  group: InstanceGroup;
  logs: string[];
  stockProducer: ReturnType<typeof idempotentProducer>;
  /** Instance environment: the --set overrides, and where the chosen client is. */
  env: Record<string, string>;
  client?: SutClient;
  judging?: SutJudging;
  gateway?: OrderGateway;
  load?: LoadHandle;
  nemesis?: NemesisHandle;
  ticker?: NodeJS.Timeout;
  say(line: string): void;
}

/** The manifest (with the caller's expected violations), or the reason it cannot be read. */
function resolveManifest(c: SutContext): Manifest | { error: string; name: string } {
  try {
    const m = loadManifest(c.item);
    const override = c.o.expectedViolations?.[m.name];
    return override ? { ...m, expectedViolations: [...override] } : m;
  } catch (e) {
    return {
      error: `manifest: ${(e as Error).message}`,
      name: c.item.replace(/[^a-z0-9-]/g, "-").slice(0, 40) || "sut",
    };
  }
}

async function runOneSut(c: SutContext): Promise<SutResult> {
  const startedAtMs = Date.now();
  const manifest = resolveManifest(c);
  if ("error" in manifest) {
    const sut = { name: manifest.name, description: "", confirms: false, claims: [], expectedViolations: [] };
    return unknownResult(
      { sut, ns: `oversell.${c.runId}.${manifest.name}`, instances: 0, startedAtMs },
      manifest.error,
    );
  }
  const r = newSutRun(c, manifest, startedAtMs);
  try {
    await prepareSut(r);
    const failed = await startInstances(r);
    if (failed) return failed;
    await startJudging(r);
    const { faults, warnings } = await runLoad(r);
    return await judgeAfterLoad(r, faults, warnings);
  } catch (e) {
    const msg = (e as Error).message;
    c.history.mark({ type: "error", sut: r.name, message: msg });
    r.say(`error: ${msg}`);
    return unknownResult(r.b, `error: ${firstLine(msg)}`, { logs: r.logs });
  } finally {
    await stopSut(r);
  }
}

function newSutRun(c: SutContext, declared: Manifest, startedAtMs: number): SutRun {
  const name = declared.name;
  // The harness reads the same declared settings the SUT does (with this run's --set overrides).
  const overrides = c.o.settings?.[name];
  const manifest: Manifest = {
    ...declared,
    reservationTtlMs: numberSetting(declared, HARNESS_READS.reservationTtlMs, overrides) ?? declared.reservationTtlMs,
    sessionTimeoutMs: numberSetting(declared, HARNESS_READS.sessionTimeoutMs, overrides) ?? declared.sessionTimeoutMs,
  };
  const ns = `oversell.${c.runId}.${name}`;
  const instances = c.o.instances ?? manifest.instances;
  const env = { ...c.o.settings?.[name] };
  const group = new InstanceGroup({ manifest, ns, connection: c.connection, logDir: join(c.runDir, "logs"), env });
  return {
    c,
    manifest,
    name,
    ns,
    group,
    env,
    b: { sut: manifest, ns, instances, startedAtMs },
    logs: Array.from({ length: instances }, (_, i) => relative(c.runDir, group.logFile(i))),
    stockProducer: idempotentProducer(kafkaClient(c.connection, "oversell-stock")),
    say: (line) => c.progress.log(`[${name}] ${line}`),
  };
}

/** Build, topics, the sut-start line and the initial stock. */
async function prepareSut(r: SutRun): Promise<void> {
  const { c, manifest, name } = r;
  if (manifest.build) {
    c.progress.update(`[${name}] building (${manifest.build.join(" ")}) ...`);
    InstanceGroup.build(manifest);
  }
  const prepared = await prepareClient(manifest, c.o.settings?.[name], (l) => c.progress.log(`[${name}] ${l}`));
  if (prepared) {
    Object.assign(r.env, prepared.env);
    r.client = prepared.client;
    r.say(`client: ${prepared.client.name} ${prepared.client.version}`);
  }
  c.progress.update(`[${name}] topics and stock ...`);
  await createContractTopics(c.connection, r.ns, c.o.scenario.kafka.partitions, c.replication);
  await r.stockProducer.connect();
  c.history.mark({
    type: "sut-start",
    sut: name,
    ns: r.ns,
    instances: r.b.instances,
    confirms: manifest.confirms,
    claims: manifest.claims,
    expectedViolations: manifest.expectedViolations,
    description: manifest.description,
    reservationTtlMs: manifest.reservationTtlMs,
    partitions: c.o.scenario.kafka.partitions,
    client: r.client,
  });
  const items = c.stream.initialStock;
  try {
    await sendStock(r.stockProducer, r.ns, c.o.scenario.kafka.partitions, "StockSet", items);
    c.history.mark({ type: "stock", sut: name, event: "StockSet", items, status: "acked" });
  } catch (e) {
    c.history.mark({
      type: "stock",
      sut: name,
      event: "StockSet",
      items,
      status: "failed",
      error: (e as Error).message,
    });
    throw e;
  }
}

/** The SUT's instances; a result (unknown) if they did not start. */
async function startInstances(r: SutRun): Promise<SutResult | undefined> {
  r.c.progress.update(`[${r.name}] starting ${r.b.instances} instance(s) ...`);
  try {
    await r.group.startAll(r.b.instances);
  } catch (e) {
    const msg = (e as Error).message;
    r.say(`did not start:\n${msg}`);
    return unknownResult(r.b, `did not start: ${firstLine(msg)}`, { logs: r.logs });
  }
  r.say(`${r.b.instances} instance(s) ready`);
  return undefined;
}

/** The decision reader starts before the load, so "seen" is when a decision became visible. */
async function startJudging(r: SutRun): Promise<void> {
  r.judging = new SutJudging(r.c.stream, { name: r.name, ns: r.ns, confirms: r.manifest.confirms });
  const watch = r.judging.watchTopic(r.c.connection, recordFile(r.c.runDir, r.name));
  if (!(await watch.waitReady(WATCH_READY_MS)))
    r.say(`decision reader not assigned after ${WATCH_READY_MS / 1000} s; starting the load anyway`);
}

/** History lines of each order: written as the driver reports, nothing kept here. */
function historyCallbacks(history: HistoryWriter, sut: string): LoadCallbacks {
  return {
    onSent: (g, intendedAtMs, sentAtMs) =>
      history.write({
        type: "sent",
        sut,
        seq: g.seq,
        orderId: g.orderId,
        productId: g.productId,
        quantity: g.quantity,
        valid: g.valid,
        kind: g.kind,
        invalidKind: g.invalidKind,
        duplicateSend: g.duplicateSend,
        intendedAtMs,
        sentAtMs,
      }),
    onAck: (g, a) =>
      history.write({
        type: "ack",
        sut,
        seq: g.seq,
        orderId: g.orderId,
        partition: a.partition,
        offset: a.offset,
        ackAtMs: a.ackAtMs,
      }),
    onError: (g, e) =>
      history.write({
        type: "send-error",
        sut,
        seq: g.seq,
        orderId: g.orderId,
        status: e.status,
        error: e.error,
        atMs: e.atMs,
      }),
  };
}

/** The open-loop load, restocks and faults; returns the fault windows once healed. */
async function runLoad(r: SutRun): Promise<{ faults: FaultWindow[]; warnings: string[] }> {
  const { c, name } = r;
  if (c.driver === "http")
    r.gateway = await OrderGateway.start({ connection: c.connection, ns: r.ns, confirms: r.manifest.confirms });
  // The open-loop clock starts a moment after the driver is ready (its producer threads may take seconds to
  // start on a loaded machine), so the first batch is not late by construction.
  const startIn = () => Date.now() + (c.o.loadLeadMs ?? 300);
  const orders = c.stream.table;
  const callbacks = historyCallbacks(c.history, name);
  r.load =
    c.driver === "http"
      ? await startHttpLoad({
          url: r.gateway!.url,
          orders,
          t0: startIn,
          ackTimeoutMs: ACK_TIMEOUT_MS,
          ...callbacks,
          // Every accepted order is long-polled until the drain deadline at the latest.
          decisions: { timeoutMs: c.stream.durationMs + c.o.scenario.drainTimeoutMs },
        })
      : await startKafkaLoad({
          connection: c.connection,
          ns: r.ns,
          orders,
          t0: startIn,
          ackTimeoutMs: ACK_TIMEOUT_MS,
          ...callbacks,
        });
  const t0 = r.load.t0;
  c.history.mark({ type: "load-start", sut: name, loadStartMs: t0, orders: orders.length, driver: c.driver });
  const restocks = scheduleRestocks(r, t0);
  startNemesis(r, t0);
  r.ticker = loadTicker(r, t0);
  const loadStats = await r.load.done;
  await restocks;
  c.history.mark({
    type: "load-end",
    sut: name,
    sent: loadStats.sent,
    acked: loadStats.acked,
    failed: loadStats.failed,
    unknown: loadStats.unknown,
    harnessBound: loadStats.harnessBound || undefined,
    harnessBoundReason: loadStats.harnessBoundReason,
  });
  const errs =
    (loadStats.failed ? `, ${loadStats.failed} refused` : "") +
    (loadStats.unknown ? `, ${loadStats.unknown} unknown` : "");
  r.say(
    `load done: ${loadStats.sent} sent, ${loadStats.acked} acked${errs}; max send delay ${loadStats.maxSendDelayMs} ms`,
  );
  const healed = await healFaults(r);
  clearInterval(r.ticker);
  return healed;
}

function scheduleRestocks(r: SutRun, t0: number): Promise<void> {
  const { c, name } = r;
  return runRestocks(c.stream.restocks, t0, async (due) => {
    const intendedAtMs = t0 + due[0]!.offsetMs;
    const items = due.map((x) => ({ productId: x.productId, quantity: x.quantity }));
    // Stamped before the send: no SUT can have these units earlier (oversell-in-time, harness/checker/in-time.ts).
    const line = { type: "stock", sut: name, event: "StockAdded", items, intendedAtMs, sentAtMs: Date.now() } as const;
    try {
      await sendStock(r.stockProducer, r.ns, c.o.scenario.kafka.partitions, "StockAdded", items);
      c.history.write({ ...line, status: "acked" });
    } catch (err) {
      c.history.mark({ ...line, status: "failed", error: (err as Error).message });
    }
  });
}

function startNemesis(r: SutRun, t0: number): void {
  const { c, name } = r;
  if (!c.o.faults || c.o.faults.specs.length === 0) return;
  r.nemesis = runNemesis(c.o.faults.specs, {
    instances: r.group,
    cluster: c.cluster,
    proxies: c.proxies,
    topic: topicsFor(r.ns).orders,
    loadStartMs: t0,
    loadDurationMs: Math.max(c.stream.durationMs, 1000),
    sessionTimeoutMs: r.manifest.sessionTimeoutMs,
    record: (ev) =>
      c.history.mark({ type: ev.type, sut: name, kind: ev.kind, target: ev.target, atMs: ev.atMs, detail: ev.detail }),
    log: (l) => r.say(l),
  });
}

function loadTicker(r: SutRun, t0: number): NodeJS.Timeout {
  const load = r.load!,
    judging = r.judging!;
  const ticker = setInterval(() => {
    const s = load.stats;
    const el = (Math.max(0, Date.now() - t0) / 1000).toFixed(1);
    const errs = s.failed + s.unknown ? `, errors ${s.failed + s.unknown}` : "";
    r.c.progress.update(
      `[${r.name}] load ${el} s: sent ${s.sent}/${s.planned}, acked ` +
        `${s.acked}${errs}, decisions seen ${judging.judge.decisions}`,
    );
  }, 250);
  ticker.unref();
  return ticker;
}

async function healFaults(r: SutRun): Promise<{ faults: FaultWindow[]; warnings: string[] }> {
  if (!r.nemesis) return { faults: [], warnings: [] };
  r.c.progress.update(`[${r.name}] waiting for faults to heal ...`);
  try {
    return { faults: await r.nemesis.healed(), warnings: [] };
  } catch (e) {
    r.say((e as Error).message);
    return { faults: e instanceof NemesisError ? e.windows : [], warnings: [(e as Error).message] };
  }
}

/** The judge stage (shared with check): history, look-ups, drain, verdict. */
async function judgeAfterLoad(r: SutRun, faults: FaultWindow[], warnings: string[]): Promise<SutResult> {
  const { c, name } = r;
  // The judge reads the history as written, so bench and `npm run check` judge the same input.
  c.history.flush();
  const meta = (await readRunHistory(c.history.file)).suts.find((m) => m.sut === name)!;
  const deadline = Date.now() + c.o.scenario.drainTimeoutMs;
  const res = await judgeStage(r.judging!, {
    base: r.b,
    historyFile: c.history.file,
    meta,
    reservationTtlMs: r.manifest.reservationTtlMs,
    warmupMs: c.o.scenario.warmupMs,
    faults,
    warnings,
    logs: r.logs,
    crashes: () => r.group.crashes().map((x) => ({ instance: `instance-${x.index}`, code: x.code ?? null })),
    source: {
      kind: "live",
      connection: c.connection,
      file: recordFile(c.runDir, name),
      deadlineMs: deadline,
      onProgress: (decided, expected) =>
        c.progress.update(
          `[${name}] drain: ${decided}/${expected} decided, ` +
            `${Math.max(0, Math.round((deadline - Date.now()) / 1000))} s left`,
        ),
      afterDrain: (d) => {
        const sutRunning = r.group.running().length > 0;
        c.history.mark({ type: "drain-end", sut: name, complete: d.drainComplete, undecided: d.undecided, sutRunning });
        if (!d.drainComplete) r.say(`drain deadline passed with ${d.undecided} order(s) undecided`);
        return sutRunning;
      },
      crossCheck: c.o.crossCheck
        ? {
            listingFile: crossCheckFile(c.runDir, name),
            onStart: () =>
              c.progress.update(`[${name}] cross-check: reading the decisions with Kafka's Java consumer ...`),
          }
        : undefined,
    },
  });
  if (r.client) res.client = r.client;
  const client = await r.load?.clientDecisions?.settle(Date.now() + 5_000); // http driver: the client's view
  if (client) {
    res.latencyUs.httpDecision = client.latencyUs;
    const { open: _open, ...polls } = client.polls;
    res.httpPolls = polls;
  }
  return res;
}

async function stopSut(r: SutRun): Promise<void> {
  if (r.ticker) clearInterval(r.ticker);
  r.load?.abort();
  if (r.nemesis) await r.nemesis.abort().catch(() => []);
  r.c.progress.update(`[${r.name}] stopping ...`);
  await r.judging?.stop();
  await r.gateway?.close().catch(() => {});
  await r.group.stopAll(10_000).catch(() => {});
  await r.stockProducer.disconnect().catch(() => {});
}

/** Restocks at their time, grouped by time (StockAdded for each product). */
async function runRestocks(
  restocks: RestockEntry[],
  t0: number,
  send: (due: RestockEntry[]) => Promise<void>,
): Promise<void> {
  if (restocks.length === 0) return;
  const pending: Promise<void>[] = [];
  await runSchedule({ items: restocks, t0, fire: (due) => void pending.push(send(due)) });
  await Promise.all(pending);
}
