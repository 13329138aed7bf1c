// `npm run check -- <run-dir>`: judge a stored run again. By default offline, from the run folder alone:
// history.ndjson and each SUT's record of what the checker read (<sut>.decisions.ndjson.gz), no broker.
// With fromTopics, the decisions are read again from the broker (the topics must still be there). The
// stream is regenerated from the scenario and seed in the history, so orders that never left are known too.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describeConnection, type Connection } from "../../systems-under-test/contract/connection.ts";
import { readRunHistory, type RunHistory, type SutMeta } from "../history/read.ts";
import type { RunStartEvent } from "../history/events.ts";
import { environment } from "../report/environment.ts";
import { SCHEMA_VERSION, type RunResult, type SutResult } from "../report/result-schema.ts";
import { renderSummary } from "../report/summary.ts";
import { writeRunOutputs } from "../report/write.ts";
import { generateStream, type GeneratedStream } from "../scenario/generate.ts";
import { validateScenario } from "../scenario/load.ts";
import { InputError } from "../shared/zod-errors.ts";
import type { Invariant } from "../checker/types.ts";
import { crossCheckFile, judgeStage, recordFile, scratchRecord, SutJudging, type JudgeStageArgs } from "./judge.ts";
import { probeCluster, withAdmin } from "./kafka.ts";
import { Progress } from "./progress.ts";
import { exitCodeFor, runVerdict, unknownResult, type SutBase } from "./results.ts";

export interface CheckOptions {
  runDir: string;
  /** Read the decisions from the broker again instead of the run folder's records. */
  fromTopics?: boolean;
  /** With fromTopics: overrides the bootstrap stored in the run (with TLS/SASL from flags). */
  connection?: Connection;
  progress?: Progress;
  /** With fromTopics: how long to read each SUT's decisions at most. */
  deadlineMs?: number;
  /** With fromTopics: a second reader (Kafka's Java consumer) must agree on the decisions read. */
  crossCheck?: boolean;
}

export interface CheckOutcome {
  result: RunResult;
  exitCode: number;
  summary: string;
  file: string;
}

/** The bootstrap a stored run used: result.json first, else the history's run-start line. */
export async function storedBootstrap(runDir: string): Promise<string | undefined> {
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
  return (await readRunHistory(hf)).start?.kafka.bootstrap;
}

/** Where decisions come from: the records (offline) or a broker. */
interface Reading {
  connection?: Connection;
  topics?: Set<string>;
  brokers?: number;
}

export async function runCheck(o: CheckOptions): Promise<CheckOutcome> {
  const progress = o.progress ?? new Progress();
  const hf = join(o.runDir, "history.ndjson");
  const { history, start } = await readStoredHistory(o.runDir, hf, progress);
  const reading = o.fromTopics ? await connect(o, start, progress) : {};
  const stream = generateStream(validateScenario(start.scenario, "the scenario in the history"), start.seed);
  const suts: SutResult[] = [];
  for (const meta of history.suts) suts.push(await checkSut(o, hf, meta, stream, reading, progress));
  progress.done();
  return writeCheck(o.runDir, start, suts, reading);
}

async function readStoredHistory(
  runDir: string,
  hf: string,
  progress: Progress,
): Promise<{ history: RunHistory; start: RunStartEvent }> {
  if (!existsSync(hf)) throw new InputError(`${runDir} holds no history.ndjson: not a run folder`);
  // Order lines kept as numbers: each SUT's book is filled from them, without reading the file again.
  const history = await readRunHistory(hf, { orderLines: true });
  if (!history.start) throw new InputError(`${hf} has no run-start line: the run did not get far enough to be judged`);
  if (history.skipped > 0)
    progress.log(`history: ${history.skipped} unreadable line(s) skipped (a torn write from a crash)`);
  return { history, start: history.start };
}

async function connect(o: CheckOptions, start: RunStartEvent, progress: Progress): Promise<Reading> {
  const connection = o.connection ?? { brokers: start.kafka.bootstrap.split(",") };
  progress.update(`connecting to ${describeConnection(connection)} ...`);
  const info = await probeCluster(connection, 30_000).catch((e: Error) => {
    throw new InputError(
      `${e.message}\n--from-topics reads the run's topics from a broker: ` +
        `an external cluster, or a still-running "npm run kafka" cluster (the ` +
        `embedded broker of a bench run stops with it). Use --bootstrap to ` +
        `point elsewhere, or leave out --from-topics to judge from the run folder.`,
    );
  });
  const topics = new Set(await withAdmin(connection, (a) => a.listTopics()));
  return { connection, topics, brokers: info.brokers };
}

function baseOf(meta: SutMeta): SutBase {
  const s = meta.start;
  return {
    sut: {
      name: meta.sut,
      description: s.description ?? "",
      confirms: s.confirms,
      claims: s.claims as Invariant[],
      expectedViolations: s.expectedViolations as Invariant[],
    },
    ns: s.ns,
    instances: s.instances,
    startedAtMs: Date.now(),
  };
}

async function checkSut(
  o: CheckOptions,
  hf: string,
  meta: SutMeta,
  stream: GeneratedStream,
  reading: Reading,
  progress: Progress,
): Promise<SutResult> {
  const b = baseOf(meta),
    s = meta.start;
  if (!meta.loadStart) return unknownResult(b, meta.end?.verdictReason ?? "no load was run for this SUT");
  const args: Omit<JudgeStageArgs, "source"> = {
    base: b,
    historyFile: hf,
    meta,
    reservationTtlMs: s.reservationTtlMs,
    warmupMs: stream.scenario.warmupMs,
    faults: meta.faults,
    crashes: () => meta.end?.crashes,
    warnings: [],
  };
  if (!reading.connection) {
    const file = recordFile(o.runDir, meta.sut);
    if (!existsSync(file))
      return unknownResult(
        b,
        `${file} is missing (a run from before records were kept, or cut short): re-judge with --from-topics`,
      );
    progress.update(`[${meta.sut}] judging from ${file} ...`);
    const res = await judgeStage(new SutJudging(stream, { name: meta.sut, ns: s.ns, confirms: s.confirms }), {
      ...args,
      source: { kind: "record", file },
    });
    if (s.client) res.client = s.client;
    return res;
  }
  if (!reading.topics?.has(`${s.ns}.decisions`))
    return unknownResult(
      b,
      `${s.ns}.decisions is not on ${describeConnection(reading.connection)} (deleted, or another cluster)`,
    );
  const res = await fromTopics(o, args, meta, stream, reading.connection, progress);
  if (s.client) res.client = s.client;
  return res;
}

/** Decisions read again from the broker, long after the fact: record timestamps stand in for "seen". */
async function fromTopics(
  o: CheckOptions,
  args: Omit<JudgeStageArgs, "source">,
  meta: SutMeta,
  stream: GeneratedStream,
  connection: Connection,
  progress: Progress,
): Promise<SutResult> {
  const s = meta.start;
  progress.update(`[${meta.sut}] reading ${s.ns}.decisions ...`);
  const judging = new SutJudging(stream, { name: meta.sut, ns: s.ns, confirms: s.confirms }, true);
  const scratch = scratchRecord(meta.sut);
  try {
    judging.watchTopic(connection, scratch.file);
    return await judgeStage(judging, {
      ...args,
      warnings: [
        "decision latency in a re-check uses record timestamps (producer time), not the time the harness saw them",
      ],
      source: {
        kind: "live",
        connection,
        file: scratch.file,
        deadlineMs: Date.now() + (o.deadlineMs ?? 30_000),
        // A harness killed mid-load loses its last buffered history lines: "unsent" orders may have reached the broker.
        cutShort: !meta.end,
        onProgress: (d, e) => progress.update(`[${meta.sut}] ${d}/${e} decided`),
        afterDrain: () => meta.drainEnd?.sutRunning ?? false,
        // `stuck` is measured at the original drain's end, as in the run itself.
        drainEndedAtMs: meta.drainEnd?.t,
        crossCheck: o.crossCheck
          ? {
              listingFile: crossCheckFile(o.runDir, meta.sut, "check."),
              onStart: () => progress.update(`[${meta.sut}] cross-check: reading with Kafka's Java consumer ...`),
            }
          : undefined,
        // The run is over: once every owed order is decided and the end taken at the start is read, nothing
        // later belongs to it, so no quiet period is waited for.
        quietMs: 0,
      },
    });
  } finally {
    await judging.stop();
    scratch.remove();
  }
}

function writeCheck(runDir: string, start: RunStartEvent, suts: SutResult[], reading: Reading): CheckOutcome {
  const verdict = runVerdict(suts);
  const kafka = reading.connection
    ? {
        ...start.kafka,
        brokers: reading.brokers ?? start.kafka.brokers,
        bootstrap: reading.connection.brokers.join(","),
      }
    : start.kafka;
  const result: RunResult = {
    schemaVersion: SCHEMA_VERSION,
    runId: start.runId,
    startedAt: new Date(start.t).toISOString(),
    seed: start.seed,
    scenario: start.scenario,
    kafka,
    verdict,
    suts,
    environment: environment(),
    command: ["npm run check --", ...process.argv.slice(2)].join(" "),
    driver: start.driver,
    faults: start.faults,
    checkedAt: new Date().toISOString(),
  };
  const files = writeRunOutputs(result, runDir, "check.json");
  return { result, exitCode: exitCodeFor(verdict), summary: renderSummary(result), file: files.result };
}
