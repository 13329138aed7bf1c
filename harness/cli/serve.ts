// npm run serve -- --sut NAME [--scenario X] [--seed N] [--bootstrap h:p,...] [--ns NS] [--instances N]
//   [--faults spec] [--set sut.setting=value] [--port P] [--admin-port P] [--brokers 1|3] [--dir DIR]
// A target for load from anywhere: the namespace's topics and stock, the SUT's instances and the order gateway,
// until Ctrl-C. Then `npm run check -- --from-topics --bootstrap ... --ns ... --sut ...` judges what happened.
import { resolve } from "node:path";
import { Command } from "commander";
import { z } from "zod";
import { FAULT_KINDS } from "../nemesis/index.ts";
import { newRunId } from "../run/bench.ts";
import { DEFAULT_SCENARIO, generateStream, loadScenario } from "../scenario/index.ts";
import { checkFaultText, startServe } from "../serve/serve.ts";
import { loadManifest } from "../sut/manifest.ts";
import { parseSetFlags } from "../sut/settings.ts";
import {
  addConnectionOptions,
  connectionFromFlags,
  exitOnError,
  FLAG,
  flagIssues,
  parseOrExit,
  usageError,
} from "./options.ts";

const program = addConnectionOptions(
  new Command("serve")
    .description("serve one SUT behind the order gateway until Ctrl-C, for load from k6 or any producer")
    .usage("--sut NAME [--scenario X] [--seed N] [--bootstrap h:p,...] [--ns NS] [--instances N] [--faults spec]")
    .requiredOption("--sut <name|dir>", "the SUT to serve")
    .option(
      "--scenario <name|file>",
      "whose stock (StockSet) is written and whose partitions are used",
      DEFAULT_SCENARIO,
    )
    .option("--seed <n>", "seed of the scenario (default: the scenario's)")
    .option("--ns <namespace>", "the namespace (default oversell.<runId>.<sut>)")
    .option("--instances <n>", "SUT instances (default: the manifest's)")
    .option("--faults <spec>", `faults from the moment it is ready (${FAULT_KINDS.join(", ")}; e.g. crash@10s:3s)`)
    .option(
      "--set <sut.setting=value>",
      "a SUT setting (OVERSELL_SETTING_<SETTING>); repeatable",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--host <host>", "where the gateway and the admin endpoint listen", "127.0.0.1")
    .option("--port <port>", "the gateway's port (default: any free one)")
    .option("--admin-port <port>", "the admin endpoint's port (default: any free one)")
    .option("--brokers <n>", "embedded cluster nodes: 1 or 3")
    .option("--kafka-version <v>", "embedded Kafka version")
    .option("--dir <dir>", "instance logs and kafka.log (default reports/serve-<runId>)"),
).allowExcessArguments(false);

const flagsSchema = z.object({
  sut: z.string().min(1),
  scenario: z.string().min(1),
  seed: FLAG.seed,
  ns: FLAG.ns.optional(),
  instances: FLAG.instances,
  faults: z.string().min(1).optional(),
  set: FLAG.set,
  host: z.string().min(1),
  port: FLAG.port,
  adminPort: FLAG.port,
  brokers: FLAG.brokers,
  kafkaVersion: FLAG.kafkaVersion,
  dir: z.string().min(1).optional(),
});

program.action(async (raw: Record<string, unknown>) => {
  const parsed = flagsSchema.safeParse(raw);
  if (!parsed.success) usageError(program, flagIssues(parsed.error));
  const f = parsed.data;
  try {
    const connection = connectionFromFlags(raw);
    if (connection && (f.brokers !== undefined || f.kafkaVersion))
      usageError(program, "--brokers and --kafka-version are for the embedded cluster; they conflict with --bootstrap");
    const manifest = loadManifest(f.sut);
    const env = parseSetFlags(f.set, [manifest])[manifest.name];
    const scenario = loadScenario(f.scenario);
    const seed = f.seed ?? scenario.seed ?? 1;
    const stream = generateStream(scenario, seed);
    if (f.faults) checkFaultText(f.faults, connection !== undefined, Math.max(stream.durationMs, 1000));
    const runId = newRunId();
    const ns = f.ns ?? `oversell.${runId}.${manifest.name}`;
    const dir = resolve(f.dir ?? resolve("reports", `serve-${runId}`));
    const say = (l: string) => process.stderr.write(`${l}\n`);
    const serve = await startServe({
      manifest,
      stream,
      connection,
      brokers: f.brokers,
      kafkaVersion: f.kafkaVersion,
      ns,
      instances: f.instances,
      env,
      faults: f.faults,
      host: f.host,
      gatewayPort: f.port,
      adminPort: f.adminPort,
      dir,
      log: say,
    });
    let stopping = false;
    const stop = (sig: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      say(`\n${sig}: stopping (instances, gateway${connection ? "" : ", the embedded broker"}) ...`);
      void serve.stop().then(() => process.exit(0));
    };
    for (const s of ["SIGINT", "SIGTERM"] as const) process.on(s, stop);
    process.stdout.write(
      [
        `serving ${manifest.name} (${serve.running().length} instance(s)); scenario ${scenario.name}, seed ${seed}`,
        `namespace: ${serve.ns}`,
        `bootstrap: ${serve.bootstrap}`,
        `gateway:   ${serve.gatewayUrl}   (POST /orders, GET /orders/:id)`,
        `admin:     ${serve.adminUrl}   (POST /admin/restock, POST /admin/fault, GET /admin/status)`,
        `logs:      ${dir}`,
        "",
        "load it, e.g.:",
        `  npm run k6 -- export --scenario ${f.scenario} --seed ${seed} --target ${serve.gatewayUrl} ` +
          `--admin ${serve.adminUrl} --out load.js && k6 run load.js`,
        connection
          ? "then judge it from the topics (before or after Ctrl-C here: the cluster is yours):"
          : "then judge it from the topics while this still runs (Ctrl-C stops the embedded broker with its topics;" +
            " for a broker that outlives serve: npm run kafka -- start, then serve --bootstrap):",
        `  npm run check -- --from-topics --bootstrap ${serve.bootstrap} --ns ${serve.ns} --sut ${f.sut}`,
        "",
      ].join("\n"),
    );
  } catch (e) {
    exitOnError(program, e);
  }
});

await parseOrExit(program);
