// `npm run bench`: one run = one cluster, one generated order stream, every selected SUT in turn
// (each in its own namespace), judged by the checker, written to the run folder.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describeConnection, type Connection } from "../../systems-under-test/contract/connection.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { evaluate, findOrdersInTopic, startDecisionWatch, type CheckInput, type DecisionWatch, type FaultWindow } from "../checker/index.ts";
import type { Invariant } from "../sut/manifest.ts";
import { EmbeddedCluster } from "../cluster/embedded.ts";
import { readHistory, sutHistory } from "../history/read.ts";
import { HistoryWriter } from "../history/writer.ts";
import { OrderGateway } from "../load/gateway.ts";
import { startHttpLoad } from "../load/http-driver.ts";
import { startKafkaLoad } from "../load/kafka-driver.ts";
import { idempotentProducer } from "../load/produce.ts";
import { runSchedule } from "../load/schedule.ts";
import type { LoadHandle } from "../load/types.ts";
import { NemesisError, ProxySet, runNemesis, type FaultSpec, type NemesisHandle } from "../nemesis/index.ts";
import { environment } from "../report/environment.ts";
import { SCHEMA_VERSION, type RunResult, type SutResult } from "../report/result-schema.ts";
import { renderSummary } from "../report/summary.ts";
import { writeRunOutputs, type WrittenFiles } from "../report/write.ts";
import { generateStream, type GeneratedStream, type RestockEntry } from "../scenario/generate.ts";
import type { Scenario } from "../scenario/schema.ts";
import { loadManifest, type Manifest } from "../sut/manifest.ts";
import { InstanceGroup } from "../sut/instances.ts";
import { createContractTopics, kafkaClient, probeCluster, sendStock } from "./kafka.ts";
import { Progress } from "./progress.ts";
import { evaluatedResult, exitCodeFor, runVerdict, unknownResult, type SutBase } from "./results.ts";

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
  /** Ctrl-C: record it in the history and leave (children are reaped by children.ts). */
  handleSignals?: boolean;
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
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}T${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${stamp}-${randomBytes(2).toString("hex")}`;
}

/** Ack timeout of a send; after it the order's fate is "unknown" (a late ack still counts). */
const ACK_TIMEOUT_MS = 30_000;
/** How long the decision reader may take to join before the load starts anyway. */
const WATCH_READY_MS = 30_000;

export async function runBench(o: BenchOptions): Promise<BenchOutcome> {
  const runId = o.runId ?? newRunId();
  const runDir = o.outDir ?? join(process.cwd(), "reports", runId);
  mkdirSync(runDir, { recursive: true });
  const progress = o.progress ?? new Progress();
  const history = new HistoryWriter(join(runDir, "history.ndjson"));
  const startedAt = new Date();
  const stream = generateStream(o.scenario, o.seed);
  const driver = o.driver ?? "kafka";
  const wantsProxies = o.faults?.specs.some((f) => f.kind === "network") ?? false;

  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    history.mark({ type: "interrupted", signal: sig });
    history.close();
    progress.done();
    process.stderr.write(`\ninterrupted (${sig}): history so far is in ${join(runDir, "history.ndjson")}\n`);
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  if (o.handleSignals) for (const s of ["SIGINT", "SIGTERM"] as const) process.on(s, onSignal);

  let cluster: EmbeddedCluster | undefined;
  let proxies: ProxySet | undefined;
  try {
    let connection: Connection;
    let kafka: RunResult["kafka"];
    if (o.shared) {
      if (o.connection) throw new Error("runBench: give either connection or shared, not both");
      const c = o.shared.cluster;
      connection = c.connection;
      kafka = { version: c.kafkaVersion, brokers: c.nodes.length, bootstrap: c.bootstrap, embedded: true };
    } else if (o.connection) {
      progress.update(`connecting to ${describeConnection(o.connection)} ...`);
      const info = await probeCluster(o.connection, 30_000);
      connection = o.connection;
      kafka = { brokers: info.brokers, bootstrap: o.connection.brokers.join(","), embedded: false };
    } else {
      proxies = wantsProxies ? await ProxySet.forCluster() : undefined;
      progress.update(`starting embedded Kafka (${o.brokers ?? 1} node${(o.brokers ?? 1) > 1 ? "s" : ""}) ...`);
      cluster = await EmbeddedCluster.start({
        brokers: o.brokers ?? 1,
        kafkaVersion: o.kafkaVersion,
        logFile: join(runDir, "kafka.log"),
        log: (l) => progress.log(l),
        advertisedPort: proxies?.advertisedPort,
      });
      connection = cluster.connection;
      kafka = { version: cluster.kafkaVersion, brokers: cluster.nodes.length, bootstrap: cluster.bootstrap, embedded: true };
      progress.log(`Kafka ${cluster.kafkaVersion} at ${cluster.bootstrap} (log: ${relative(process.cwd(), cluster.logFile) || cluster.logFile})`);
    }
    const replication = Math.min(3, kafka.brokers);

    history.mark({
      type: "run-start", runId, seed: o.seed, scenario: o.scenario as RunResult["scenario"], kafka,
      connection: describeConnection(connection), suts: o.suts, driver, faults: o.faults?.text, command: o.command,
    });
    progress.log(`run ${runId}: scenario ${o.scenario.name} (seed ${o.seed}): ${stream.orders.length} orders on ${stream.productIds.length} products; SUTs: ${o.suts.join(", ")}`);

    const suts: SutResult[] = [];
    for (const item of o.suts) {
      const r = await runOneSut({
        item, o, runId, runDir, connection, cluster: cluster ?? o.shared?.cluster, proxies: proxies ?? o.shared?.proxies,
        stream, history, progress, replication, driver,
      });
      suts.push(r);
      const name = r.name;
      history.mark({ type: "sut-end", sut: name, verdict: r.verdict, verdictReason: r.verdictReason, crashes: r.crashes ?? undefined });
      const mark = r.verdict === "unknown" ? "?" : r.matchesExpectation ? "ok" : "MISMATCH";
      progress.log(`[${name}] verdict ${r.verdict} (expected ${r.expected}) ${mark}${r.verdictReason ? ` — ${r.verdictReason.split("\n")[0]}` : ""}`);
    }

    const verdict = runVerdict(suts);
    const result: RunResult = {
      schemaVersion: SCHEMA_VERSION,
      runId,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      seed: o.seed,
      scenario: o.scenario as RunResult["scenario"],
      kafka,
      verdict,
      suts,
      environment: environment(),
      command: o.command,
      driver,
      faults: o.faults?.text,
    };
    history.mark({ type: "run-end", verdict });
    const files = writeRunOutputs(result, runDir);
    if (files.htmlError) progress.log(`report.html could not be written: ${files.htmlError}`);
    progress.done();
    return { result, exitCode: exitCodeFor(verdict), runDir, files, summary: renderSummary(result) };
  } catch (e) {
    history.mark({ type: "error", message: (e as Error).message });
    throw e;
  } finally {
    progress.done();
    history.close();
    if (o.handleSignals) for (const s of ["SIGINT", "SIGTERM"] as const) process.off(s, onSignal);
    // A shared cluster belongs to the caller; only what this run started is stopped here.
    await cluster?.stop();
    await proxies?.close();
  }
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

async function runOneSut(c: SutContext): Promise<SutResult> {
  const { o, history, progress, stream, connection } = c;
  const startedAtMs = Date.now();
  let manifest: Manifest;
  try {
    manifest = loadManifest(c.item);
  } catch (e) {
    const name = c.item.replace(/[^a-z0-9-]/g, "-").slice(0, 40) || "sut";
    const fake = { name, description: "", command: ["?"], instances: 0, confirms: false, claims: [], expectedViolations: [], env: {}, startTimeoutSec: 0, dir: "" } as Manifest;
    return unknownResult({ manifest: fake, ns: `oversell.${c.runId}.${name}`, instances: 0, startedAtMs }, `manifest: ${(e as Error).message}`);
  }
  const name = manifest.name;
  const expectedOverride = o.expectedViolations?.[name];
  if (expectedOverride) manifest = { ...manifest, expectedViolations: [...expectedOverride] };
  const ns = `oversell.${c.runId}.${name}`;
  const topics = topicsFor(ns);
  const instances = o.instances ?? manifest.instances;
  const b: SutBase = { manifest, ns, instances, startedAtMs };
  const logDir = join(c.runDir, "logs");
  const group = new InstanceGroup({ manifest, ns, connection, logDir, env: o.settings?.[name] });
  const logs = Array.from({ length: instances }, (_, i) => relative(c.runDir, group.logFile(i)));
  let watch: DecisionWatch | undefined;
  let gateway: OrderGateway | undefined;
  let load: LoadHandle | undefined;
  let nemesis: NemesisHandle | undefined;
  const stockProducer = idempotentProducer(kafkaClient(connection, "oversell-stock"));
  let ticker: NodeJS.Timeout | undefined;
  const say = (line: string) => progress.log(`[${name}] ${line}`);
  try {
    if (manifest.build) {
      progress.update(`[${name}] building (${manifest.build.join(" ")}) ...`);
      InstanceGroup.build(manifest);
    }
    progress.update(`[${name}] topics and stock ...`);
    await createContractTopics(connection, ns, o.scenario.kafka.partitions, c.replication);
    await stockProducer.connect();
    history.mark({
      type: "sut-start", sut: name, ns, instances, confirms: manifest.confirms, claims: manifest.claims,
      expectedViolations: manifest.expectedViolations, description: manifest.description,
      reservationTtlMs: manifest.reservationTtlMs, partitions: o.scenario.kafka.partitions,
    });
    try {
      await sendStock(stockProducer, ns, "StockSet", stream.initialStock);
      history.mark({ type: "stock", sut: name, event: "StockSet", items: stream.initialStock, status: "acked" });
    } catch (e) {
      history.mark({ type: "stock", sut: name, event: "StockSet", items: stream.initialStock, status: "failed", error: (e as Error).message });
      throw e;
    }

    progress.update(`[${name}] starting ${instances} instance(s) ...`);
    try {
      await group.startAll(instances);
    } catch (e) {
      const msg = (e as Error).message;
      say(`did not start:\n${msg}`);
      return unknownResult(b, `did not start: ${firstLine(msg)}`, { logs });
    }
    say(`${instances} instance(s) ready`);

    watch = startDecisionWatch({ connection, ns, confirms: manifest.confirms });
    if (!(await watch.waitReady(WATCH_READY_MS))) say(`decision reader not assigned after ${WATCH_READY_MS / 1000} s; starting the load anyway`);
    if (c.driver === "http") gateway = await OrderGateway.start({ connection, ns, confirms: manifest.confirms });

    // The open-loop clock starts a moment from now so the first batch is not late by construction.
    const t0 = Date.now() + 300;
    history.mark({ type: "load-start", sut: name, loadStartMs: t0, orders: stream.orders.length, driver: c.driver });
    const callbacks = {
      onSent: (g: GeneratedStream["orders"][number], intendedAtMs: number, sentAtMs: number) =>
        history.write({
          type: "sent", sut: name, seq: g.seq, orderId: g.orderId, productId: g.productId, quantity: g.quantity, valid: g.valid,
          kind: g.kind, invalidKind: g.invalidKind, duplicateSend: g.duplicateSend, intendedAtMs, sentAtMs,
        }),
      onAck: (g: GeneratedStream["orders"][number], a: { partition?: number; offset?: string; ackAtMs: number }) =>
        history.write({ type: "ack", sut: name, seq: g.seq, orderId: g.orderId, partition: a.partition, offset: a.offset, ackAtMs: a.ackAtMs }),
      onError: (g: GeneratedStream["orders"][number], e: { status: "failed" | "unknown"; error: string; atMs: number }) =>
        history.write({ type: "send-error", sut: name, seq: g.seq, orderId: g.orderId, status: e.status, error: e.error, atMs: e.atMs }),
    };
    load = c.driver === "http"
      ? await startHttpLoad({
          url: gateway!.url, orders: stream.orders, t0, ackTimeoutMs: ACK_TIMEOUT_MS, ...callbacks,
          // Every accepted order is long-polled until the drain deadline at the latest.
          decisions: { timeoutMs: stream.durationMs + o.scenario.drainTimeoutMs },
        })
      : await startKafkaLoad({ connection, ns, orders: stream.orders, t0, ackTimeoutMs: ACK_TIMEOUT_MS, ...callbacks });
    const restocks = runRestocks(stream.restocks, t0, async (due) => {
      const intendedAtMs = t0 + due[0]!.offsetMs;
      const items = due.map((r) => ({ productId: r.productId, quantity: r.quantity }));
      try {
        await sendStock(stockProducer, ns, "StockAdded", items);
        history.write({ type: "stock", sut: name, event: "StockAdded", items, intendedAtMs, status: "acked" });
      } catch (err) {
        history.mark({ type: "stock", sut: name, event: "StockAdded", items, intendedAtMs, status: "failed", error: (err as Error).message });
      }
    });
    if (o.faults && o.faults.specs.length > 0) {
      nemesis = runNemesis(o.faults.specs, {
        instances: group, cluster: c.cluster, proxies: c.proxies, topic: topics.orders,
        loadStartMs: t0, loadDurationMs: Math.max(stream.durationMs, 1000),
        record: (ev) => history.mark({ type: ev.type, sut: name, kind: ev.kind, target: ev.target, atMs: ev.atMs, detail: ev.detail }),
        log: (l) => say(l),
      });
    }

    const loadHandle = load;
    ticker = setInterval(() => {
      const s = loadHandle.stats;
      const el = (Math.max(0, Date.now() - t0) / 1000).toFixed(1);
      progress.update(`[${name}] load ${el} s: sent ${s.sent}/${s.planned}, acked ${s.acked}${s.failed + s.unknown ? `, errors ${s.failed + s.unknown}` : ""}, decisions seen ${watch!.seen()}`);
    }, 250);
    ticker.unref();
    const loadStats = await load.done;
    await restocks;
    history.mark({ type: "load-end", sut: name, sent: loadStats.sent, acked: loadStats.acked, failed: loadStats.failed, unknown: loadStats.unknown });
    say(`load done: ${loadStats.sent} sent, ${loadStats.acked} acked${loadStats.failed ? `, ${loadStats.failed} refused` : ""}${loadStats.unknown ? `, ${loadStats.unknown} unknown` : ""}; max send delay ${loadStats.maxSendDelayMs} ms`);

    let faults: FaultWindow[] = [];
    const warnings: string[] = [];
    if (nemesis) {
      progress.update(`[${name}] waiting for faults to heal ...`);
      try {
        faults = await nemesis.healed();
      } catch (e) {
        faults = e instanceof NemesisError ? e.windows : [];
        warnings.push((e as Error).message);
        say((e as Error).message);
      }
    }
    clearInterval(ticker);

    // The checker reads the history as written, so bench and `npm run check` judge the same input.
    history.flush();
    const h = sutHistory(readHistory(history.file).events, name, stream)!;
    const unknownIds = h.orders.filter((x) => x.status === "unknown").map((x) => x.orderId);
    if (unknownIds.length > 0) {
      progress.update(`[${name}] looking for ${unknownIds.length} unacknowledged order(s) in ${topics.orders} ...`);
      const found = await findOrdersInTopic(connection, ns, unknownIds, 20_000);
      for (const x of h.orders) if (x.status === "unknown") x.inTopic = found.has(x.orderId);
    }

    const deadline = Date.now() + o.scenario.drainTimeoutMs;
    const res = await watch.done(deadline, {
      orders: h.orders,
      onProgress: (decided, expected) =>
        progress.update(`[${name}] drain: ${decided}/${expected} decided, ${Math.max(0, Math.round((deadline - Date.now()) / 1000))} s left`),
    });
    const sutRunning = group.running().length > 0;
    history.mark({ type: "drain-end", sut: name, complete: res.drainComplete, undecided: res.undecided.length, sutRunning });
    const crashes = group.crashes().map((x) => ({ instance: `instance-${x.index}`, code: x.code ?? null }));
    if (!res.drainComplete) say(`drain deadline passed with ${res.undecided.length} order(s) undecided`);

    const input: CheckInput = {
      confirms: manifest.confirms,
      claims: manifest.claims as Invariant[],
      products: h.products,
      orders: h.orders,
      decisions: res.decisions,
      malformedDecisions: res.malformedDecisions,
      abortedDecisions: res.abortedDecisions,
      reservationTtlMs: manifest.reservationTtlMs,
      drainEndedAtMs: res.drainEndedAtMs,
      drainComplete: res.drainComplete,
      expectedViolations: manifest.expectedViolations as Invariant[],
      sutRunning,
      faults,
    };
    const ev = evaluate(input);
    const client = await load.clientDecisions?.settle(Date.now() + 5_000); // http driver: the client's view
    const r = evaluatedResult(b, ev, {
      faults, crashes: crashes.length ? crashes : undefined, logs,
      warnings: [...warnings, ...res.warnings].length ? [...warnings, ...res.warnings] : undefined,
    });
    if (client) {
      r.latencyUs.httpDecision = client.latencyUs;
      const { open: _open, ...polls } = client.polls;
      r.httpPolls = polls;
    }
    return r;
  } catch (e) {
    const msg = (e as Error).message;
    history.mark({ type: "error", sut: name, message: msg });
    say(`error: ${msg}`);
    return unknownResult(b, `error: ${firstLine(msg)}`, { logs });
  } finally {
    if (ticker) clearInterval(ticker);
    load?.abort();
    if (nemesis) await nemesis.abort().catch(() => []);
    progress.update(`[${name}] stopping ...`);
    await watch?.stop().catch(() => {});
    await gateway?.close().catch(() => {});
    await group.stopAll(10_000).catch(() => {});
    await stockProducer.disconnect().catch(() => {});
  }
}

/** Restocks at their time, grouped by time (StockAdded for each product). */
async function runRestocks(restocks: RestockEntry[], t0: number, send: (due: RestockEntry[]) => Promise<void>): Promise<void> {
  if (restocks.length === 0) return;
  const pending: Promise<void>[] = [];
  await runSchedule({ items: restocks, t0, fire: (due) => void pending.push(send(due)) });
  await Promise.all(pending);
}
