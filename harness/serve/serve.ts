// `npm run serve`: a standalone target for load from anywhere (k6, a replay, any producer). One namespace with its
// contract topics and the scenario's stock, the SUT's instances, the order gateway, and an admin endpoint for
// restocks and faults; it runs until stopped. What happened is judged later from the topics alone
// (`npm run check -- --from-topics --ns ...`, run/check-topics.ts): serve keeps no history.
import { join } from "node:path";
import { describeConnection, type Connection } from "../../systems-under-test/contract/connection.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { EmbeddedCluster } from "../cluster/embedded.ts";
import { OrderGateway } from "../load/gateway.ts";
import { idempotentProducer } from "../load/produce.ts";
import {
  describeFault,
  parseFaultSpecs,
  ProxySet,
  resolveFaults,
  runNemesis,
  type NemesisEvent,
  type NemesisHandle,
  type ResolvedFault,
} from "../nemesis/index.ts";
import { createContractTopics, kafkaClient, probeCluster, sendStock, type StockItem } from "../run/kafka.ts";
import type { GeneratedStream } from "../scenario/generate.ts";
import { InputError } from "../shared/zod-errors.ts";
import { InstanceGroup } from "../sut/instances.ts";
import type { Manifest } from "../sut/manifest.ts";
import { AdminServer } from "./admin.ts";

export interface ServeOptions {
  manifest: Manifest;
  /** The scenario's stream: its initial stock is written, its partitions and duration are used. */
  stream: GeneratedStream;
  /** An external cluster; without it an embedded one (behind fault proxies, so network faults work). */
  connection?: Connection;
  brokers?: 1 | 3;
  kafkaVersion?: string;
  ns: string;
  /** Default: the manifest's. */
  instances?: number;
  /** Instance environment (OVERSELL_SETTING_* from --set). */
  env?: Record<string, string>;
  /** Faults to run from the moment serve is ready (times relative to it; % of the scenario's duration). */
  faults?: string;
  host?: string;
  /** 0 or absent: any free port. */
  gatewayPort?: number;
  adminPort?: number;
  /** Instance logs and kafka.log. */
  dir: string;
  log?: (line: string) => void;
}

export interface ServeHandle {
  ns: string;
  bootstrap: string;
  connection: Connection;
  gatewayUrl: string;
  adminUrl: string;
  /** Fault starts and ends so far. */
  readonly faultEvents: NemesisEvent[];
  restock(items: StockItem[]): Promise<void>;
  /** Starts a fault schedule now (the `--faults` syntax; times from now). */
  fault(text: string): ResolvedFault[];
  running(): number[];
  /** Heals running faults, stops the gateway, the instances and (embedded) the cluster. Idempotent. */
  stop(): Promise<void>;
}

/** Everything started so far, stopped in reverse on stop() or when start-up fails half-way. */
class Parts {
  cluster?: EmbeddedCluster;
  proxies?: ProxySet;
  group?: InstanceGroup;
  gateway?: OrderGateway;
  admin?: AdminServer;
  producer?: ReturnType<typeof idempotentProducer>;
  nemeses: NemesisHandle[] = [];
  private stopping?: Promise<void>;

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.nemeses.map((n) => n.abort().catch(() => [])));
      await this.admin?.close().catch(() => {});
      await this.gateway?.close().catch(() => {});
      await this.group?.stopAll(10_000).catch(() => {});
      await this.producer?.disconnect().catch(() => {});
      await this.cluster?.stop().catch(() => {});
      await this.proxies?.close().catch(() => {});
    })();
    return this.stopping;
  }
}

export async function startServe(o: ServeOptions): Promise<ServeHandle> {
  const log = o.log ?? (() => {});
  const parts = new Parts();
  try {
    const connection = await connect(o, parts, log);
    const partitions = o.stream.scenario.kafka.partitions;
    const probed = await probeCluster(connection, 30_000);
    await createContractTopics(connection, o.ns, partitions, Math.min(3, probed.brokers));
    const producer = (parts.producer = idempotentProducer(kafkaClient(connection, "oversell-serve-stock")));
    await producer.connect();
    await sendStock(producer, o.ns, partitions, "StockSet", o.stream.initialStock);
    log(`${topicsFor(o.ns).stock}: StockSet for ${o.stream.initialStock.length} product(s)`);
    if (o.manifest.build) {
      log(`building ${o.manifest.name} (${o.manifest.build.join(" ")}) ...`);
      InstanceGroup.build(o.manifest);
    }
    const count = o.instances ?? o.manifest.instances;
    const group = (parts.group = new InstanceGroup({
      manifest: o.manifest,
      ns: o.ns,
      connection,
      logDir: join(o.dir, "logs"),
      env: o.env,
    }));
    log(`starting ${count} instance(s) of ${o.manifest.name} ...`);
    await group.startAll(count);
    parts.gateway = await OrderGateway.start({
      connection,
      ns: o.ns,
      confirms: o.manifest.confirms,
      host: o.host,
      port: o.gatewayPort,
    });
    const faultEvents: NemesisEvent[] = [];
    const loadDurationMs = Math.max(o.stream.durationMs, 1000);
    const fault = (text: string): ResolvedFault[] => {
      const specs = parseFaultSpecs(text, loadDurationMs);
      const handle = runNemesis(specs, {
        instances: group,
        cluster: parts.cluster,
        proxies: parts.proxies,
        topic: topicsFor(o.ns).orders,
        loadStartMs: Date.now(),
        loadDurationMs,
        sessionTimeoutMs: o.manifest.sessionTimeoutMs,
        record: (ev) => faultEvents.push(ev),
        log,
      });
      parts.nemeses.push(handle);
      return handle.faults;
    };
    const restock = async (items: StockItem[]) => {
      await sendStock(producer, o.ns, partitions, "StockAdded", items);
      log(`StockAdded: ${items.map((i) => `${i.productId}+${i.quantity}`).join(", ")}`);
    };
    const handle: ServeHandle = {
      ns: o.ns,
      bootstrap: connection.brokers.join(","),
      connection,
      gatewayUrl: parts.gateway.url,
      adminUrl: "",
      faultEvents,
      restock,
      fault,
      running: () => group.running(),
      stop: () => parts.stop(),
    };
    parts.admin = await AdminServer.start({ serve: handle, host: o.host, port: o.adminPort });
    handle.adminUrl = parts.admin.url;
    if (o.faults) log(`faults: ${fault(o.faults).map(describeFault).join(", ")}`);
    return handle;
  } catch (e) {
    await parts.stop();
    throw e;
  }
}

async function connect(o: ServeOptions, parts: Parts, log: (l: string) => void): Promise<Connection> {
  if (o.connection) {
    log(`Kafka: ${describeConnection(o.connection)}`);
    return o.connection;
  }
  parts.proxies = await ProxySet.forCluster();
  parts.cluster = await EmbeddedCluster.start({
    brokers: o.brokers ?? 1,
    kafkaVersion: o.kafkaVersion,
    logFile: join(o.dir, "kafka.log"),
    log,
    advertisedPort: parts.proxies.advertisedPort,
  });
  log(`Kafka ${parts.cluster.kafkaVersion} at ${parts.cluster.bootstrap} (log: ${parts.cluster.logFile})`);
  return parts.cluster.connection;
}

/** Checks a fault text before anything starts: what needs the embedded cluster does not go with --bootstrap. */
export function checkFaultText(text: string, external: boolean, loadDurationMs: number): ResolvedFault[] {
  const faults = resolveFaults(parseFaultSpecs(text, loadDurationMs), { loadDurationMs });
  const needs = faults.find((f) => f.kind === "broker" || f.kind === "network");
  if (needs && external)
    throw new InputError(`--faults ${needs.kind}: needs the embedded cluster (leave out --bootstrap)`);
  return faults;
}
