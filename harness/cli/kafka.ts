// npm run kafka -- start|stop|status [--brokers 3] [--kafka-version X.Y.Z] [--tls]
// `start` leaves the cluster running (detached) for other tools until `stop`.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import { EmbeddedCluster } from "../cluster/embedded.ts";
import { waitForBrokers } from "../cluster/readiness.ts";
import { isAlive, processStartTime } from "../process/proc.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
// OVERSELL_KAFKA_STATE_DIR lets tests keep their cluster apart from a user's.
const STATE_DIR = process.env.OVERSELL_KAFKA_STATE_DIR ?? join(ROOT, ".cache", "kafka");
const STATE = join(STATE_DIR, "state.json");

interface State {
  bootstrap: string;
  kafkaVersion: string;
  workDir: string;
  logFile: string;
  nodes: { nodeId: number; pid: number; start: string }[];
  /** With --tls: the bench flags of the SSL listener and of the MTLS one (client certificate required). */
  tls?: { ssl: string; mtls: string };
}

function tlsFlags(c: EmbeddedCluster): State["tls"] {
  if (!c.tls) return undefined;
  const flags = (conn: ReturnType<EmbeddedCluster["tlsConnection"]>) =>
    [
      `--bootstrap ${conn.brokers.join(",")} --ssl`,
      `--ssl-ca ${conn.ssl!.caFile}`,
      ...(conn.ssl!.certFile ? [`--ssl-cert ${conn.ssl!.certFile} --ssl-key ${conn.ssl!.keyFile}`] : []),
    ].join(" ");
  return { ssl: flags(c.tlsConnection()), mtls: flags(c.tlsConnection({ mutual: true })) };
}

function readState(): State | undefined {
  if (!existsSync(STATE)) return undefined;
  return JSON.parse(readFileSync(STATE, "utf8")) as State;
}

function ours(n: State["nodes"][number]): boolean {
  return isAlive(n.pid) && processStartTime(n.pid) === n.start;
}

function brokerCount(v: string): 1 | 3 {
  if (v === "1" || v === "3") return Number(v) as 1 | 3;
  throw new InvalidArgumentError("must be 1 or 3");
}

const program = new Command("kafka")
  .description("a real Apache Kafka on this machine, for as long as you want it")
  .showHelpAfterError();

program
  .command("start")
  .option("--brokers <n>", "1 or 3 nodes", brokerCount, 1 as 1 | 3)
  .option("--kafka-version <v>", "Apache Kafka version from Maven Central")
  .option("--port <port>", "client port of the first node (the others take the next ones)", (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1024 || n > 65533) throw new InvalidArgumentError("a port from 1024 to 65533");
    return n;
  })
  .option("--tls", "also an SSL listener and an MTLS one (client certificate required), with a generated CA")
  .action(async (o: { brokers: 1 | 3; kafkaVersion?: string; port?: number; tls?: boolean }) => {
    const st = readState();
    if (st && st.nodes.some(ours)) {
      console.error(`a cluster is already running at ${st.bootstrap} (npm run kafka -- stop first)`);
      process.exit(2);
    }
    mkdirSync(STATE_DIR, { recursive: true });
    const t0 = Date.now();
    const c = await EmbeddedCluster.start({
      brokers: o.brokers,
      kafkaVersion: o.kafkaVersion,
      detached: true,
      ports: o.port ? Array.from({ length: o.brokers }, (_, i) => o.port! + i) : undefined,
      workDir: join(STATE_DIR, "cluster"),
      logFile: join(STATE_DIR, "kafka.log"),
      log: (l) => console.error(l),
      tls: o.tls ? {} : undefined,
    });
    const state: State = {
      bootstrap: c.bootstrap,
      kafkaVersion: c.kafkaVersion,
      workDir: c.workDir,
      logFile: c.logFile,
      nodes: c.nodes.map((n) => ({ nodeId: n.nodeId, pid: n.pid!, start: processStartTime(n.pid!) ?? "" })),
      tls: tlsFlags(c),
    };
    writeFileSync(STATE, JSON.stringify(state, null, 2));
    console.error(
      `Kafka ${c.kafkaVersion}, ${o.brokers} node(s), ready in ` +
        `${((Date.now() - t0) / 1000).toFixed(1)} s; log: ${c.logFile}`,
    );
    console.log(c.bootstrap);
    // The first line stays the plaintext bootstrap (scripts read it); TLS lines follow.
    if (state.tls) console.log(`tls:  ${state.tls.ssl}\nmtls: ${state.tls.mtls}`);
    process.exit(0);
  });

program.command("stop").action(async () => {
  const st = readState();
  if (!st) {
    console.log("no cluster was started with npm run kafka");
    return;
  }
  const live = st.nodes.filter(ours);
  for (const n of live) process.kill(n.pid, "SIGTERM");
  const deadline = Date.now() + 15_000;
  while (live.some((n) => isAlive(n.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  for (const n of live) if (ours(n)) process.kill(n.pid, "SIGKILL");
  rmSync(STATE, { force: true });
  rmSync(st.workDir, { recursive: true, force: true });
  console.log(`stopped ${live.length} node(s) of the cluster at ${st.bootstrap}`);
});

program.command("status").action(async () => {
  const st = readState();
  const live = st?.nodes.filter(ours) ?? [];
  if (!st || live.length === 0) {
    console.log("not running");
    process.exit(3);
  }
  try {
    await waitForBrokers(
      { brokers: st.bootstrap.split(",") },
      live.map((n) => n.nodeId),
      5000,
    );
    console.log(
      `running: ${st.bootstrap} (Kafka ${st.kafkaVersion}, ` +
        `${live.length}/${st.nodes.length} node(s) up, pids ${live.map((n) => n.pid).join(" ")})`,
    );
    if (st.tls) console.log(`tls:  ${st.tls.ssl}\nmtls: ${st.tls.mtls}`);
  } catch (e) {
    console.log(`processes up but not answering: ${(e as Error).message}`);
    process.exit(1);
  }
});

await program.parseAsync();
