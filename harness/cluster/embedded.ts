// A real Apache Kafka (KRaft) started from Maven jars: 1 or 3 nodes on free loopback ports.
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { spawnChild, tailOfFile, type Child } from "../process/children.ts";
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars, isKafka3 } from "./jars.ts";
import { log4jConfig, nodeProperties, type NodePorts } from "./node-config.ts";
import { ensureTlsMaterial, type TlsMaterial } from "./tls.ts";
import { freePorts, portIsFree } from "./ports.ts";
import { requireJava } from "./prerequisites.ts";
import { waitForBrokers } from "./readiness.ts";
import type { Connection } from "../../systems-under-test/contract/connection.ts";

export interface EmbeddedOptions {
  brokers?: 1 | 3;
  kafkaVersion?: string;
  /** Folder for node data, configs and logs; a fresh temp folder by default. */
  workDir?: string;
  /** Where all nodes' output goes (one file, node id prefixed per line by Kafka's own pattern). */
  logFile?: string;
  /** Leave the JVMs running after this process exits (`npm run kafka -- start`). */
  detached?: boolean;
  /** Add a SASL_PLAINTEXT listener with these SCRAM users (and PLAIN user oversell/oversell-secret). */
  scramUsers?: { username: string; password: string }[];
  /**
   * Add an SSL listener and an MTLS one (client certificate required), with certificates from the
   * cache (harness/cluster/tls.ts). `clients: "tls"` makes `connection` (readiness, runs) use SSL.
   */
  tls?: { clients?: "plaintext" | "tls" };
  startTimeoutMs?: number;
  log?: (line: string) => void;
  /** Point advertised listeners at other ports (fault proxies); called with each node's real port. */
  advertisedPort?: (nodeId: number, realPort: number) => Promise<number> | number;
  /** Fixed client ports, one per node (default: free ports chosen by the OS). */
  ports?: number[];
  /** Extra server.properties for every node (overrides the defaults and the profile's). */
  brokerProperties?: Record<string, string | number>;
  /** JVM and request-thread tuning (default fast-start). */
  profile?: BrokerProfile;
}

export interface NodeInfo extends NodePorts {
  pid?: number;
  running: boolean;
  saslPort?: number;
  sslPort?: number;
  mtlsPort?: number;
}

const COMMON_JVM_FLAGS = ["-XX:+ExitOnOutOfMemoryError", "-Djava.net.preferIPv4Stack=true", "-Djava.awt.headless=true"];

/**
 * How the broker JVM is tuned. fast-start (bench, tests, gate): C1 only, a small heap and SerialGC start in
 * seconds on 2 cores. throughput (capacity): what a user sizing a broker would choose: C2, a fixed 1 GiB heap,
 * G1 with Kafka's own start-script pause goal, and more request threads.
 */
export const BROKER_PROFILES = {
  "fast-start": {
    jvm: ["-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", ...COMMON_JVM_FLAGS],
    properties: {} as Record<string, string | number>,
  },
  throughput: {
    jvm: [
      "-Xms1g",
      "-Xmx1g",
      "-XX:+UseG1GC",
      "-XX:MaxGCPauseMillis=20",
      "-XX:InitiatingHeapOccupancyPercent=35",
      ...COMMON_JVM_FLAGS,
    ],
    properties: { "num.network.threads": 3, "num.io.threads": 4 } as Record<string, string | number>,
  },
} as const;

export type BrokerProfile = keyof typeof BROKER_PROFILES;

export class BrokerStartError extends Error {}

export class EmbeddedCluster {
  readonly embedded = true;
  private children = new Map<number, Child>();
  private tlsFiles?: TlsMaterial;
  private constructor(
    readonly kafkaVersion: string,
    readonly workDir: string,
    readonly logFile: string,
    readonly nodes: NodeInfo[],
    private readonly jars: string,
    private readonly opts: EmbeddedOptions,
  ) {}

  get profile(): BrokerProfile {
    return this.opts.profile ?? "fast-start";
  }

  get bootstrap(): string {
    return this.connection.brokers.join(",");
  }

  get connection(): Connection {
    if (this.opts.tls?.clients === "tls") return this.tlsConnection();
    return { brokers: this.nodes.map((n) => `127.0.0.1:${n.advertisedPort ?? n.port}`) };
  }

  /** The certificates of a cluster started with `tls` (undefined otherwise). */
  get tls(): TlsMaterial | undefined {
    return this.tlsFiles;
  }

  /** The SSL listener (or, with `mutual`, the MTLS listener and the client certificate). */
  tlsConnection({ mutual = false } = {}): Connection {
    const t = this.tlsFiles;
    if (!t) throw new Error("this cluster was started without tls");
    const brokers = this.nodes.map((n) => `127.0.0.1:${mutual ? n.mtlsPort : n.sslPort}`);
    const client = mutual ? { certFile: t.clientCertFile, keyFile: t.clientKeyFile } : {};
    return { brokers, ssl: { enabled: true, caFile: t.caFile, rejectUnauthorized: true, ...client } };
  }

  /** Bootstrap on the SASL listener (when started with scramUsers). */
  saslBrokers(): string[] {
    return this.nodes.filter((n) => n.saslPort).map((n) => `127.0.0.1:${n.saslPort}`);
  }

  static async start(opts: EmbeddedOptions = {}): Promise<EmbeddedCluster> {
    const version = opts.kafkaVersion ?? process.env.OVERSELL_KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION;
    const count = opts.brokers ?? 1;
    const log = opts.log ?? (() => {});
    requireJava(version);
    const jars = await ensureKafkaJars(version, log);
    const workDir = resolve(
      opts.workDir ?? join(tmpdir(), `oversell-kafka-${process.pid}-${randomBytes(3).toString("hex")}`),
    );
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(workDir, { recursive: true });
    const logFile = resolve(opts.logFile ?? join(workDir, "kafka.log"));
    const nodes: NodeInfo[] = [];
    if (opts.ports && opts.ports.length !== count)
      throw new BrokerStartError(`${count} node(s) need ${count} port(s), got ${opts.ports.length}`);
    for (const p of opts.ports ?? []) {
      if (!(await portIsFree(p)))
        throw new BrokerStartError(
          `port ${p} on 127.0.0.1 is in use (another broker? npm run ` +
            `kafka -- status); choose another port or stop what holds it`,
        );
    }
    const perNode = (opts.ports ? 0 : 1) + 1 + (opts.scramUsers ? 1 : 0) + (opts.tls ? 2 : 0);
    const free = await freePorts(count * perNode, opts.ports);
    const next = (): number => {
      const p = free.shift();
      if (p === undefined) throw new Error("embedded cluster: perNode counts fewer ports than the nodes take");
      return p;
    };
    for (let i = 1; i <= count; i++) {
      const port = opts.ports?.[i - 1] ?? next();
      const controllerPort = next();
      const saslPort = opts.scramUsers ? next() : undefined;
      const sslPort = opts.tls ? next() : undefined;
      const mtlsPort = opts.tls ? next() : undefined;
      nodes.push({ nodeId: i, port, controllerPort, saslPort, sslPort, mtlsPort, running: false });
    }
    if (opts.advertisedPort) for (const n of nodes) n.advertisedPort = await opts.advertisedPort(n.nodeId, n.port);
    const cluster = new EmbeddedCluster(version, workDir, logFile, nodes, jars, opts);
    if (opts.tls) cluster.tlsFiles = ensureTlsMaterial();
    const clusterId = randomBytes(16).toString("base64url").replace(/^-/, "A");
    const logCfg = join(workDir, isKafka3(version) ? "log4j.properties" : "log4j2.xml");
    writeFileSync(logCfg, log4jConfig(isKafka3(version)));
    for (const n of nodes) cluster.format(n, clusterId);
    log(`starting ${count} Kafka ${version} node(s) ...`);
    try {
      await Promise.all(nodes.map((n) => cluster.startNode(n.nodeId, { wait: false })));
      await cluster.waitReady(opts.startTimeoutMs ?? 90_000);
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  private nodeDir(nodeId: number): string {
    return join(this.workDir, `node-${nodeId}`);
  }

  private format(n: NodeInfo, clusterId: string): void {
    const dir = this.nodeDir(n.nodeId);
    mkdirSync(join(dir, "data"), { recursive: true });
    const propsFile = join(dir, "server.properties");
    const t = this.tlsFiles;
    const tls =
      t && n.sslPort && n.mtlsPort
        ? {
            sslPort: n.sslPort,
            mtlsPort: n.mtlsPort,
            keystore: t.brokerKeystore,
            keystorePassword: t.keystorePassword,
            caFile: t.caFile,
          }
        : undefined;
    writeFileSync(
      propsFile,
      nodeProperties({
        node: n,
        all: this.nodes,
        logDir: join(dir, "data"),
        kafkaVersion: this.kafkaVersion,
        saslPort: n.saslPort,
        tls,
        extra: { ...BROKER_PROFILES[this.profile].properties, ...this.opts.brokerProperties },
      }),
    );
    const args = [
      "-Xmx128m",
      ...this.logFlag(),
      "-cp",
      `${this.jars}/*`,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      clusterId,
      "-c",
      propsFile,
    ];
    for (const u of this.opts.scramUsers ?? []) {
      for (const m of ["SCRAM-SHA-256", "SCRAM-SHA-512"])
        args.push("--add-scram", `${m}=[name=${u.username},password=${u.password}]`);
    }
    const r = spawnSync("java", args, { encoding: "utf8" });
    if (r.status !== 0) {
      // The cause is in the exception lines, not the stack frames below them.
      const lines = `${r.stderr}${r.stdout}`
        .trim()
        .split("\n")
        .filter((l) => !/^\s+at |^\s+\.\.\. \d+ more/.test(l));
      throw new BrokerStartError(`formatting the log dir of node ${n.nodeId} failed:\n${lines.slice(-10).join("\n")}`);
    }
  }

  private logFlag(): string[] {
    const f = join(this.workDir, isKafka3(this.kafkaVersion) ? "log4j.properties" : "log4j2.xml");
    return isKafka3(this.kafkaVersion) ? [`-Dlog4j.configuration=file:${f}`] : [`-Dlog4j2.configurationFile=${f}`];
  }

  node(nodeId: number): NodeInfo {
    const n = this.nodes.find((x) => x.nodeId === nodeId);
    if (!n) throw new Error(`no node ${nodeId} in this cluster (nodes: ${this.nodes.map((x) => x.nodeId).join(", ")})`);
    return n;
  }

  async startNode(nodeId: number, { wait = true } = {}): Promise<void> {
    const n = this.node(nodeId);
    if (n.running) return;
    const args = [
      ...BROKER_PROFILES[this.profile].jvm,
      ...this.logFlag(),
      "-cp",
      `${this.jars}/*`,
      "kafka.Kafka",
      join(this.nodeDir(nodeId), "server.properties"),
    ];
    const child = spawnChild("java", args, { logFile: this.logFile, detached: this.opts.detached });
    this.children.set(nodeId, child);
    n.pid = child.pid;
    n.running = true;
    void child.exited.then(() => {
      if (this.children.get(nodeId) === child) n.running = false;
    });
    if (wait) await this.waitReady(this.opts.startTimeoutMs ?? 90_000);
  }

  /** Waits until every running node is a live broker, or throws with the log's tail. */
  async waitReady(timeoutMs: number): Promise<void> {
    const running = this.nodes.filter((n) => n.running);
    const died = () => running.find((n) => this.children.get(n.nodeId)?.exitCode() !== undefined);
    try {
      await waitForBrokers(
        this.connection,
        running.map((n) => n.nodeId),
        timeoutMs,
        () => {
          const d = died();
          if (d) throw new BrokerStartError(`Kafka node ${d.nodeId} exited during start-up`);
        },
      );
    } catch (e) {
      throw new BrokerStartError(
        `${(e as Error).message}\n--- last lines of ${this.logFile} ---\n${tailOfFile(this.logFile, 25)}`,
      );
    }
  }

  /** Controlled shutdown of one node. */
  async stopNode(nodeId: number, graceMs = 20_000): Promise<void> {
    const c = this.children.get(nodeId);
    if (c) await c.stop(graceMs);
    this.node(nodeId).running = false;
  }

  /** kill -9 of one node: no controlled shutdown. */
  async killNode(nodeId: number): Promise<void> {
    const c = this.children.get(nodeId);
    if (!c) return;
    c.signal("SIGKILL");
    await c.exited;
    this.node(nodeId).running = false;
  }

  async restartNode(nodeId: number): Promise<void> {
    await this.stopNode(nodeId);
    await this.startNode(nodeId);
  }

  async stop(): Promise<void> {
    // Stopping every node at once: a lone survivor would wait for a quorum that never returns.
    // With several nodes the controlled shutdown stalls on the vanishing quorum, so the grace is short.
    const graceMs = this.nodes.length > 1 ? 2_000 : 5_000;
    await Promise.all([...this.children.values()].map((c) => c.stop(graceMs)));
    for (const n of this.nodes) n.running = false;
  }

  pids(): number[] {
    return this.nodes.filter((n) => n.running && n.pid).map((n) => n.pid!);
  }
}
