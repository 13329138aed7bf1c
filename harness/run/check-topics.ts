// `npm run check -- --from-topics --bootstrap ... --ns NS --sut NAME`: judge a namespace whose orders were produced
// by anything (k6 through the gateway, a replay, Kafka's console producer), with no run folder and no history.
// Sent = what is on <ns>.orders, S(p) = what is on <ns>.stock, decisions from <ns>.decisions (record
// timestamps as "seen"); the same streaming judge as bench and check, the same result.json and report.html.
import { mkdirSync } from "node:fs";
import { describeConnection, type Connection } from "../../systems-under-test/contract/connection.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { ordersFromTopic, stockFromTopic } from "../checker/topic-orders.ts";
import { environment } from "../report/environment.ts";
import { SCHEMA_VERSION, type RunResult, type SutResult } from "../report/result-schema.ts";
import { renderSummary } from "../report/summary.ts";
import { writeRunOutputs, type WrittenFiles } from "../report/write.ts";
import { InputError } from "../shared/zod-errors.ts";
import { loadManifest, type Manifest } from "../sut/manifest.ts";
import { newRunId } from "./bench.ts";
import { judgedResult, recordFile, SutJudging } from "./judge.ts";
import { probeCluster, withAdmin } from "./kafka.ts";
import { Progress } from "./progress.ts";
import { exitCodeFor, runVerdict, type SutBase } from "./results.ts";

export interface TopicCheckOptions {
  connection: Connection;
  ns: string;
  /** A SUT name or a folder with a sut.json: its claims, expected violations and confirm step. */
  sut: string;
  outDir: string;
  runId?: string;
  /** How long to wait for owed orders' decisions at most (default 30 s). */
  deadlineMs?: number;
  /** A run's reservation TTL override (--set sut.reservation_ttl_ms=...); default the manifest's. */
  reservationTtlMs?: number;
  progress?: Progress;
  command?: string;
}

export interface TopicCheckOutcome {
  result: RunResult;
  exitCode: number;
  summary: string;
  files: WrittenFiles;
}

export async function checkFromTopics(o: TopicCheckOptions): Promise<TopicCheckOutcome> {
  const progress = o.progress ?? new Progress();
  const manifest = loadManifest(o.sut);
  const t = topicsFor(o.ns);
  const startedAtMs = Date.now();
  progress.update(`connecting to ${describeConnection(o.connection)} ...`);
  const info = await probeCluster(o.connection, 30_000);
  const topics = new Set(await withAdmin(o.connection, (a) => a.listTopics()));
  const missing = [t.stock, t.orders, t.decisions].filter((x) => !topics.has(x));
  if (missing.length > 0)
    throw new InputError(
      `${missing.join(", ")} not on ${describeConnection(o.connection)}: is --ns the namespace ` +
        `"npm run serve" printed (or your producer wrote to), and --bootstrap its cluster?`,
    );
  progress.update(`reading ${t.stock} ...`);
  const stock = await stockFromTopic(o.connection, o.ns);
  progress.update(`reading ${t.orders} ...`);
  const orders = await ordersFromTopic(o.connection, o.ns, new Set(stock.products.map((p) => p.productId)));
  progress.log(
    `${o.ns}: ${orders.book.size} order record(s), ${stock.products.length} product(s) with stock ` +
      `${stock.products.reduce((a, p) => a + p.initial + p.restocked, 0)}`,
  );
  const sut = await judgeTopics(o, manifest, orders, stock, startedAtMs, progress);
  progress.done();
  const verdict = runVerdict([sut]);
  const result: RunResult = {
    schemaVersion: SCHEMA_VERSION,
    runId: o.runId ?? newRunId(),
    startedAt: new Date(startedAtMs).toISOString(),
    finishedAt: new Date().toISOString(),
    // No scenario or seed: the orders are whatever the topic holds.
    seed: 0,
    scenario: { name: "from-topics", orders: t.orders, stock: t.stock },
    kafka: { brokers: info.brokers, bootstrap: o.connection.brokers.join(","), embedded: false },
    verdict,
    suts: [sut],
    environment: environment(),
    command: o.command,
    checkedAt: new Date().toISOString(),
  };
  const files = writeRunOutputs(result, o.outDir);
  return { result, exitCode: exitCodeFor(verdict), summary: renderSummary(result), files };
}

async function judgeTopics(
  o: TopicCheckOptions,
  manifest: Manifest,
  orders: Awaited<ReturnType<typeof ordersFromTopic>>,
  stock: Awaited<ReturnType<typeof stockFromTopic>>,
  startedAtMs: number,
  progress: Progress,
): Promise<SutResult> {
  const base: SutBase = { sut: manifest, ns: o.ns, instances: 0, startedAtMs };
  // Decisions are read after the fact: their record timestamps stand in for "seen".
  const judging = new SutJudging(orders.book, { name: manifest.name, ns: o.ns, confirms: manifest.confirms }, true);
  judging.judge.setStock(stock.products);
  mkdirSync(o.outDir, { recursive: true });
  const file = recordFile(o.outDir, manifest.name);
  try {
    judging.watchTopic(o.connection, file);
    const drain = await judging.drain(Date.now() + (o.deadlineMs ?? 30_000), (d, e) =>
      progress.update(`[${manifest.name}] ${d}/${e} decided`),
    );
    const ev = await judging.evaluate(file, {
      claims: manifest.claims,
      expectedViolations: manifest.expectedViolations,
      reservationTtlMs: o.reservationTtlMs ?? manifest.reservationTtlMs,
      // Judged after the load, with the SUT given the drain to finish: an order still undecided is lost.
      sutRunning: true,
      drain,
    });
    const res = judgedResult(base, ev, {
      faults: [],
      warnings: [
        "orders and stock read from the topics (no run history): every order on the orders topic is owed a decision",
        "decision latency uses the decisions' record timestamps, not the time the checker saw them",
        ...stock.warnings,
        ...orders.warnings,
        ...drain.warnings,
      ],
    });
    res.latencyFrom = orders.latencyFrom;
    return res;
  } finally {
    await judging.stop();
  }
}
