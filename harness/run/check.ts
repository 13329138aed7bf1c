// `npm run check -- <run-dir>`: judge a stored run again from its history and the topics the broker
// still holds. The stream is regenerated from the scenario and seed in the history, so orders that
// never left the harness (an interrupted run) are known too.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describeConnection, type Connection } from "../../systems-under-test/contract/connection.ts";
import { collectDecisions, evaluate, findOrdersInTopic, type CheckInput } from "../checker/index.ts";
import { readHistory, runStart, sutHistory, sutsInHistory } from "../history/read.ts";
import { environment } from "../report/environment.ts";
import { SCHEMA_VERSION, type RunResult, type SutResult } from "../report/result-schema.ts";
import { renderSummary } from "../report/summary.ts";
import { writeRunOutputs } from "../report/write.ts";
import { generateStream } from "../scenario/generate.ts";
import { validateScenario } from "../scenario/load.ts";
import { InputError } from "../shared/zod-errors.ts";
import type { Invariant, Manifest } from "../sut/manifest.ts";
import { probeCluster, withAdmin } from "./kafka.ts";
import { Progress } from "./progress.ts";
import { evaluatedResult, exitCodeFor, runVerdict, unknownResult } from "./results.ts";

export interface CheckOptions {
  runDir: string;
  /** Overrides the bootstrap stored in the run (with TLS/SASL from flags). */
  connection?: Connection;
  progress?: Progress;
  /** How long to read each SUT's decisions at most. */
  deadlineMs?: number;
}

export interface CheckOutcome {
  result: RunResult;
  exitCode: number;
  summary: string;
  file: string;
}

/** The bootstrap a stored run used: result.json first, else the history's run-start line. */
export function storedBootstrap(runDir: string): string | undefined {
  const rf = join(runDir, "result.json");
  if (existsSync(rf)) {
    try {
      const r = JSON.parse(readFileSync(rf, "utf8")) as { kafka?: { bootstrap?: string } };
      if (r.kafka?.bootstrap) return r.kafka.bootstrap;
    } catch {
      /* fall back to the history */
    }
  }
  const hf = join(runDir, "history.ndjson");
  if (!existsSync(hf)) return undefined;
  return runStart(readHistory(hf).events)?.kafka.bootstrap;
}

export async function runCheck(o: CheckOptions): Promise<CheckOutcome> {
  const progress = o.progress ?? new Progress();
  const hf = join(o.runDir, "history.ndjson");
  if (!existsSync(hf)) throw new InputError(`${o.runDir} holds no history.ndjson: not a run folder`);
  const { events, skipped } = readHistory(hf);
  const start = runStart(events);
  if (!start) throw new InputError(`${hf} has no run-start line: the run did not get far enough to be judged`);
  if (skipped > 0) progress.log(`history: ${skipped} unreadable line(s) skipped (a torn write from a crash)`);
  const connection = o.connection ?? { brokers: start.kafka.bootstrap.split(",") };
  progress.update(`connecting to ${describeConnection(connection)} ...`);
  const info = await probeCluster(connection, 30_000).catch((e: Error) => {
    throw new InputError(`${e.message}\nThe run's topics must still be on a broker: an external cluster, or a still-running "npm run kafka" cluster (the embedded broker of a bench run stops with it). Use --bootstrap to point elsewhere.`);
  });
  const scenario = validateScenario(start.scenario, "the scenario in the history");
  const stream = generateStream(scenario, start.seed);
  const topics = new Set(await withAdmin(connection, (a) => a.listTopics()));

  const suts: SutResult[] = [];
  for (const name of sutsInHistory(events)) {
    const h = sutHistory(events, name, stream)!;
    const s = h.start;
    const manifest = {
      name, description: s.description ?? "", command: ["?"], instances: s.instances, confirms: s.confirms,
      claims: s.claims as Invariant[], expectedViolations: s.expectedViolations as Invariant[], env: {}, startTimeoutSec: 0,
      reservationTtlMs: s.reservationTtlMs, dir: "",
    } as Manifest;
    const b = { manifest, ns: s.ns, instances: s.instances, startedAtMs: Date.now() };
    if (!h.loadStart) {
      suts.push(unknownResult(b, h.end?.verdictReason ?? "no load was run for this SUT"));
      continue;
    }
    if (!topics.has(`${s.ns}.decisions`)) {
      suts.push(unknownResult(b, `${s.ns}.decisions is not on ${describeConnection(connection)} (deleted, or another cluster)`));
      continue;
    }
    progress.update(`[${name}] reading ${s.ns}.decisions ...`);
    // A harness killed mid-load loses its last buffered history lines: an order the history calls
    // "unsent" may have reached the broker (and been decided). Without its sut-end line, look those up too.
    const cutShort = !h.end;
    const lookup = h.orders.filter((x) => x.status === "unknown" || (cutShort && x.status === "unsent")).map((x) => x.orderId);
    if (lookup.length) {
      const found = await findOrdersInTopic(connection, s.ns, lookup, 20_000);
      for (const x of h.orders) {
        if (x.status === "unknown") x.inTopic = found.has(x.orderId);
        else if (x.status === "unsent" && cutShort && found.has(x.orderId)) {
          x.status = "unknown";
          x.inTopic = true;
        }
      }
    }
    const res = await collectDecisions({
      connection, ns: s.ns, confirms: s.confirms, orders: h.orders, deadlineMs: Date.now() + (o.deadlineMs ?? 30_000),
      onProgress: (d, e) => progress.update(`[${name}] ${d}/${e} decided`),
    });
    // Read long after the fact: the record timestamp (when the SUT wrote it) stands in for "seen".
    const decisions = res.decisions.map((d) => ({ ...d, seenAtMs: d.recordTimestampMs }));
    const input: CheckInput = {
      confirms: s.confirms,
      claims: s.claims as Invariant[],
      products: h.products,
      orders: h.orders,
      decisions,
      malformedDecisions: res.malformedDecisions,
      abortedDecisions: res.abortedDecisions,
      reservationTtlMs: s.reservationTtlMs,
      drainEndedAtMs: h.drainEnd?.t ?? res.drainEndedAtMs,
      drainComplete: res.drainComplete,
      expectedViolations: s.expectedViolations as Invariant[],
      // The SUT is gone now; whether it was running at the end of the original drain decides lost vs unknown.
      sutRunning: h.drainEnd?.sutRunning ?? false,
      faults: h.faults,
    };
    const ev = evaluate(input);
    suts.push(evaluatedResult(b, ev, {
      faults: h.faults,
      crashes: h.end?.crashes,
      warnings: ["decision latency in a re-check uses record timestamps (producer time), not the time the harness saw them", ...res.warnings],
    }));
  }
  progress.done();

  const verdict = runVerdict(suts);
  const result: RunResult = {
    schemaVersion: SCHEMA_VERSION,
    runId: start.runId,
    startedAt: new Date(start.t).toISOString(),
    seed: start.seed,
    scenario: start.scenario,
    kafka: { ...start.kafka, brokers: info.brokers, bootstrap: connection.brokers.join(",") },
    verdict,
    suts,
    environment: environment(),
    command: ["npm run check --", ...process.argv.slice(2)].join(" "),
    driver: start.driver,
    faults: start.faults,
    checkedAt: new Date().toISOString(),
  };
  const files = writeRunOutputs(result, o.runDir, "check.json");
  return { result, exitCode: exitCodeFor(verdict), summary: renderSummary(result), file: files.result };
}
