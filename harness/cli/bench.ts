// npm run bench -- [--sut a,b] [--scenario name|file] [--seed N] [--faults spec] [--bootstrap h:p,...]
//   [--brokers 1|3] [--kafka-version X] [--out DIR] [--driver kafka|http] [--instances N]
//   [--set sut.setting=value ...] [--ssl ...] [--sasl-mechanism m --sasl-username u] [--tls]
// Exit: 0 every SUT's verdict matched its expectation, 1 one did not, 2 unknown or error.
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Command } from "commander";
import { EmbeddedCluster } from "../cluster/embedded.ts";
import { z } from "zod";
import { describeConnection } from "../kafka/connection.ts";
import { FAULT_KINDS, parseFaultSpecs, type FaultSpec } from "../nemesis/index.ts";
import { newRunId, runBench, type BenchOptions } from "../run/bench.ts";
import { RUN_ID_PATTERN } from "../run/kafka.ts";
import { Progress } from "../run/progress.ts";
import { DEFAULT_SCENARIO, generateStream, loadScenario, type Scenario } from "../scenario/index.ts";
import { InputError } from "../shared/zod-errors.ts";
import { listSuts, loadManifest, type Manifest } from "../sut/manifest.ts";
import { parseSetFlags } from "../sut/settings.ts";
import {
  addConnectionOptions,
  asFlagError,
  connectionFromFlags,
  FLAG,
  flagIssues,
  parseOrExit,
  usageError,
  exitOnError,
} from "./options.ts";

const program = addConnectionOptions(
  new Command("bench")
    .description("run every selected SUT on one generated order stream against a real Kafka and judge it")
    .usage(
      "[--sut a,b] [--scenario name|file] [--seed N] [--faults spec] [--bootstrap h:p,...] " +
        "[--brokers 1|3] [--out DIR] [--driver kafka|http] [--instances N] [--set sut.setting=value]",
    )
    .option("--sut <names>", `comma-separated SUTs (default: all: ${listSuts().join(", ")})`)
    .option("--scenario <name|file>", "built-in scenario or a JSON/YAML file", DEFAULT_SCENARIO)
    .option("--seed <n>", "seed of the generated stream (default: the scenario's)")
    .option("--faults <spec>", `faults to inject (${FAULT_KINDS.join(", ")}; e.g. crash@2s:3s,network:latency=200ms)`)
    .option("--brokers <n>", "embedded cluster nodes: 1 or 3")
    .option("--kafka-version <v>", "embedded Kafka version (Maven Central)")
    .option("--tls", "embedded cluster with an SSL listener; every client (load, SUTs, checker) uses it")
    .option("--out <dir>", "run folder (default reports/<runId>)")
    .option("--run-id <id>", "run id (default: UTC timestamp + random suffix)")
    .option("--driver <kind>", "kafka (produce directly) or http (through the order gateway)", "kafka")
    .option("--instances <n>", "instances per SUT (default: each manifest's)")
    .option(
      "--set <sut.setting=value>",
      "a SUT setting (OVERSELL_SETTING_<SETTING>); repeatable",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--cross-check", "after each drain, a second reader (Kafka's Java consumer) must agree on the decisions")
    .option("--no-progress", "no progress line"),
).allowExcessArguments(false);

const flagsSchema = z.object({
  sut: z
    .string()
    .regex(/^[^,]+(,[^,]+)*$/, "comma-separated SUT names (or folders with a sut.json)")
    .optional(),
  scenario: z.string().min(1),
  seed: FLAG.seed,
  faults: z.string().min(1).optional(),
  bootstrap: z.string().optional(),
  brokers: FLAG.brokers,
  kafkaVersion: FLAG.kafkaVersion,
  tls: z.boolean().optional(),
  out: z.string().min(1).optional(),
  runId: z.string().regex(RUN_ID_PATTERN, "letters, digits, '_' and '-' (no '.')").optional(),
  driver: z.enum(["kafka", "http"], { error: "kafka or http" }),
  instances: FLAG.instances,
  set: FLAG.set,
  progress: z.boolean(),
  crossCheck: z.boolean().optional(),
});

type Flags = z.infer<typeof flagsSchema>;

program.action(async (raw: Record<string, unknown>) => {
  const parsed = flagsSchema.safeParse(raw);
  if (!parsed.success) usageError(program, flagIssues(parsed.error));
  const f = parsed.data;
  try {
    rejectEmbeddedFlagsWithBootstrap(f);
    const connection = connectionFromFlags(raw);
    const { items, manifests } = selectSuts(f.sut);
    const settings = asFlagError(() => parseSetFlags(f.set, manifests));
    const scenario = loadScenario(f.scenario);
    const seed = f.seed ?? scenario.seed ?? 1;
    const faults = f.faults ? faultsFromFlag(f.faults, scenario, seed, f.tls, connection !== undefined) : undefined;
    if (connection) process.stderr.write(`Kafka: ${describeConnection(connection)}\n`);
    await runAndExit(f, { suts: items, scenario, seed, connection, settings, faults });
  } catch (e) {
    exitOnError(program, e);
  }
});

/** --brokers, --kafka-version and --tls shape the embedded cluster: with --bootstrap there is none. */
function rejectEmbeddedFlagsWithBootstrap(f: Flags): void {
  if (f.bootstrap && (f.brokers !== undefined || f.kafkaVersion || f.tls)) {
    const flag = f.brokers !== undefined ? "brokers" : f.kafkaVersion ? "kafka-version" : "tls";
    const tlsHint = flag === "tls" ? " (for a TLS cluster of your own, use --ssl)" : "";
    usageError(program, `--${flag} is for the embedded cluster${tlsHint}; it conflicts with --bootstrap`);
  }
}

/** The SUTs to run and their manifests: an unknown name or a bad manifest exits 2 before anything starts. */
function selectSuts(sut: string | undefined): { items: string[]; manifests: Manifest[] } {
  const items = sut ? [...new Set(sut.split(",").map((x) => x.trim()))] : listSuts();
  if (items.length === 0) throw new InputError("no SUT found under systems-under-test/ (each needs a sut.json)");
  // A folder with a sut.json is a SUT too.
  const manifests = items.map((x) => loadManifest(x));
  const names = manifests.map((m) => m.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new InputError(`--sut: two SUTs are named "${dup}"`);
  return { items, manifests };
}

/** --faults, parsed against the load's length; broker and network faults need the embedded cluster. */
function faultsFromFlag(
  text: string,
  scenario: Scenario,
  seed: number,
  tls: boolean | undefined,
  external: boolean,
): { text: string; specs: FaultSpec[] } {
  const loadMs = Math.max(generateStream(scenario, seed).durationMs, 1000);
  const specs = parseFaultSpecs(text, loadMs);
  const needsEmbedded = specs.find((s) => s.kind === "broker" || s.kind === "network");
  if (tls && specs.some((s) => s.kind === "network"))
    throw new InputError("--faults network: the fault proxies carry plaintext only; drop --tls");
  if (needsEmbedded && external)
    throw new InputError(
      `--faults ${needsEmbedded.kind}: needs the embedded cluster ` +
        `(the harness cannot restart or proxy the brokers of --bootstrap)`,
    );
  return { text, specs };
}

/** The run itself, its summary on stdout, and the exit code of its verdict. */
async function runAndExit(
  f: Flags,
  run: Pick<BenchOptions, "suts" | "scenario" | "seed" | "connection" | "settings" | "faults">,
): Promise<never> {
  const t0 = Date.now();
  const progress = new Progress(process.stderr, !f.progress);
  const runId = f.runId ?? newRunId();
  const outDir = f.out ?? resolve("reports", runId);
  const tlsCluster = f.tls
    ? await startTlsCluster(f.brokers, f.kafkaVersion, join(outDir, "kafka.log"), progress)
    : undefined;
  const outcome = await runBench({
    ...run,
    outDir,
    runId,
    driver: f.driver,
    instances: f.instances,
    progress,
    ...(tlsCluster ? { shared: { cluster: tlsCluster } } : { brokers: f.brokers, kafkaVersion: f.kafkaVersion }),
    command: ["npm run bench --", ...process.argv.slice(2)].join(" "),
    handleSignals: true,
    crossCheck: f.crossCheck === true,
  }).finally(() => tlsCluster?.stop());
  process.stdout.write(`\n${outcome.summary}\n\n`);
  process.stdout.write(
    `run folder: ${outcome.runDir} (result.json, history.ndjson, ` +
      `junit.xml, report.html${run.connection ? "" : ", kafka.log"})\n`,
  );
  process.stdout.write(`wall time: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  process.exit(outcome.exitCode);
}

/** `--tls`: the cluster is started here so that its clients default to the SSL listener. */
async function startTlsCluster(
  brokers: 1 | 3 | undefined,
  kafkaVersion: string | undefined,
  logFile: string,
  progress: Progress,
) {
  progress.update("starting embedded Kafka with an SSL listener ...");
  mkdirSync(dirname(logFile), { recursive: true });
  const c = await EmbeddedCluster.start({
    brokers: brokers ?? 1,
    kafkaVersion,
    logFile,
    log: (l) => progress.log(l),
    tls: { clients: "tls" },
  });
  progress.log(`Kafka ${c.kafkaVersion}: clients over TLS at ${c.bootstrap} (CA ${c.tls!.caFile})`);
  return c;
}

await parseOrExit(program);
