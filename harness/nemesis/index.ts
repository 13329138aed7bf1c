// The nemesis: runs a fault schedule against SUT instances, brokers and the network, and heals
// every fault before healed() resolves, so an order missing at the end is lost, not just slow.
import { readFileSync } from "node:fs";
import { kafkaClient, TIMEOUTS } from "../kafka/client.ts";
import type { Connection } from "../kafka/connection.ts";
import type { FaultWindow } from "../checker/types.ts";
import type { EmbeddedCluster } from "../cluster/embedded.ts";
import { InputError } from "../shared/zod-errors.ts";
import type { InstanceGroup } from "../sut/instances.ts";
import {
  DEFAULT_SESSION_TIMEOUT_MS,
  describeFault,
  resolveFaults,
  type FaultSpec,
  type ResolvedFault,
} from "./faults.ts";
import type { ProxySet } from "./proxy.ts";

export * from "./faults.ts";
export { FaultProxy, ProxySet, type ProxyStats } from "./proxy.ts";

export interface NemesisEvent {
  type: "fault-start" | "fault-end";
  kind: ResolvedFault["kind"];
  /** instance-<i>, broker-<id>, all-brokers */
  target: string;
  /** ms since the epoch */
  atMs: number;
  detail: string;
}

export interface NemesisContext {
  instances: InstanceGroup;
  /** Embedded clusters only: broker faults need it. */
  cluster?: EmbeddedCluster;
  /** Proxies in front of every broker: network faults need them. */
  proxies?: ProxySet;
  /** Topic whose busiest partition's leader a `broker#leader` fault kills, e.g. `<ns>.orders`. */
  topic?: string;
  /** ms since the epoch when the load started: `at` is relative to it. */
  loadStartMs: number;
  /** For defaults of specs without at/duration (see resolveFaults); 60 s if not given. */
  loadDurationMs?: number;
  /** History hook: called when each fault starts and when it has healed. */
  record: (event: NemesisEvent) => void;
  log?: (line: string) => void;
  /** The SUT consumers' session timeout (default pause = this + 4 s), from its sut.json; else 10 s. */
  sessionTimeoutMs?: number;
  /** How long a restarted broker may take to be back in every ISR of `topic` (default 60 s). */
  brokerRejoinTimeoutMs?: number;
}

export interface NemesisHandle {
  /** The resolved schedule. */
  readonly faults: ResolvedFault[];
  /**
   * Resolves once every fault has run and healed (faults not started yet start now), with the
   * fault windows in ms since the epoch. Rejects with a NemesisError (carrying the windows) if a
   * fault could not be injected or healed.
   */
  healed(): Promise<FaultWindow[]>;
  /** Emergency stop: faults not started are skipped, running ones heal now. Same result as healed(). */
  abort(): Promise<FaultWindow[]>;
}

export class NemesisError extends Error {
  constructor(
    message: string,
    readonly windows: FaultWindow[],
  ) {
    super(message);
  }
}

/** Something that can be woken up early (healed() for pending starts, abort() for durations). */
class Gate {
  private waiters = new Set<() => void>();
  opened = false;
  open(): void {
    this.opened = true;
    for (const w of this.waiters) w();
    this.waiters.clear();
  }
  /** Sleeps until `untilMs` (epoch) or until the gate opens. */
  async sleepUntil(untilMs: number): Promise<void> {
    // Loop: a timer may fire a millisecond before Date.now() reaches the deadline.
    while (!this.opened && Date.now() < untilMs) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, Math.max(1, untilMs - Date.now()));
        this.waiters.add(done);
      });
    }
  }
}

interface Injected {
  target: string;
  detail: string;
  /** Undo the fault; returns a detail for the fault-end event. */
  heal: () => Promise<string>;
}

/** Validates the schedule against what the context offers, then starts the timers. */
export function runNemesis(specs: (FaultSpec | ResolvedFault)[], ctx: NemesisContext): NemesisHandle {
  const session = ctx.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  const faults = resolveFaults(specs, { loadDurationMs: ctx.loadDurationMs ?? 60_000, sessionTimeoutMs: session });
  checkContext(faults, ctx);
  const run: ScheduleRun = {
    ctx,
    session,
    log: ctx.log ?? (() => {}),
    hurry: new Gate(),
    abortGate: new Gate(),
    windows: [],
    errors: [],
    claimedIndices: new Set<number>(),
  };
  const all = Promise.all(faults.map((f) => runFault(f, run)));
  const finish = async (): Promise<FaultWindow[]> => {
    await all;
    const sorted = [...run.windows].sort((a, b) => a.at - b.at);
    if (run.errors.length > 0)
      throw new NemesisError(
        `nemesis: ${run.errors.length} fault(s) failed:\n  - ${run.errors.join("\n  - ")}`,
        sorted,
      );
    return sorted;
  };
  return {
    faults,
    healed() {
      run.hurry.open();
      return finish();
    },
    abort() {
      run.abortGate.open();
      run.hurry.open();
      return finish();
    },
  };
}

/** Every fault can be injected with what the context offers (proxies, an embedded cluster, a topic). */
function checkContext(faults: ResolvedFault[], ctx: NemesisContext): void {
  for (const f of faults) {
    if (f.kind === "network" && (!ctx.proxies || ctx.proxies.size === 0)) {
      throw new InputError(
        "network faults need a fault proxy in front of every broker: start the embedded cluster with " +
          "ProxySet.forCluster() as advertisedPort (not possible with an external --bootstrap cluster)",
      );
    }
    if (f.kind === "broker") {
      if (!ctx.cluster)
        throw new InputError(
          "broker faults need the embedded cluster (the harness cannot restart brokers of an external cluster)",
        );
      if (typeof f.target === "number") ctx.cluster.node(f.target); // throws naming the known nodes
      if (f.mode !== "roll" && f.target === "leader" && ctx.cluster.nodes.length > 1 && !ctx.topic) {
        throw new InputError(
          "a broker#leader fault on several nodes needs ctx.topic (e.g. <ns>.orders) to find the partition leader",
        );
      }
    }
  }
}

/** The running schedule: its gates and what its faults have left behind. */
interface ScheduleRun {
  ctx: NemesisContext;
  session: number;
  log: (line: string) => void;
  /** healed(): start pending faults now. */
  hurry: Gate;
  /** abort(): skip pending, cut durations. */
  abortGate: Gate;
  windows: FaultWindow[];
  errors: string[];
  /** Instance indices taken by scale faults. */
  claimedIndices: Set<number>;
}

/** One fault: wait for its time, inject, hold for its duration, heal, record its window. */
async function runFault(f: ResolvedFault, run: ScheduleRun): Promise<void> {
  const { ctx, log } = run;
  await run.hurry.sleepUntil(ctx.loadStartMs + f.at);
  if (run.abortGate.opened) return;
  const startedAt = Date.now();
  let inj: Injected;
  try {
    inj = await inject(f, ctx, run.session, run.claimedIndices, log);
  } catch (e) {
    run.errors.push(`${describeFault(f)}: could not inject: ${(e as Error).message}`);
    log(`nemesis: ${describeFault(f)} could not be injected: ${(e as Error).message}`);
    return;
  }
  ctx.record({ type: "fault-start", kind: f.kind, target: inj.target, atMs: startedAt, detail: inj.detail });
  log(`nemesis: ${f.kind} ${inj.target} started: ${inj.detail}`);
  await run.abortGate.sleepUntil(startedAt + f.duration);
  let detail: string;
  try {
    detail = await inj.heal();
  } catch (e) {
    detail = `heal failed: ${(e as Error).message}`;
    run.errors.push(`${describeFault(f)}: ${detail}`);
  }
  const until = Date.now();
  ctx.record({ type: "fault-end", kind: f.kind, target: inj.target, atMs: until, detail });
  log(`nemesis: ${f.kind} ${inj.target} ended: ${detail}`);
  run.windows.push({ kind: f.kind, target: inj.target, at: startedAt, until });
}

async function inject(
  f: ResolvedFault,
  ctx: NemesisContext,
  session: number,
  claimed: Set<number>,
  log: (l: string) => void,
): Promise<Injected> {
  switch (f.kind) {
    case "crash":
      return crashInstance(ctx.instances, f.target, f.duration);
    case "pause":
      return pauseInstance(ctx.instances, f.target, f.duration, session);
    case "scale":
      return addInstance(ctx.instances, claimed, f.duration);
    case "broker":
      if (f.mode === "roll") return rollBrokers(ctx.cluster!, ctx, f.duration, log);
      return stopBroker(f, ctx, log);
    case "network":
      return disturbNetwork(f, ctx.proxies!);
  }
}

async function crashInstance(inst: InstanceGroup, i: number, durationMs: number): Promise<Injected> {
  requireRunning(inst, i);
  const pid = inst.child(i)!.pid;
  await inst.kill(i);
  return {
    target: `instance-${i}`,
    detail: `SIGKILL pid ${pid}; restart in ${durationMs} ms`,
    heal: async () => {
      await inst.start(i);
      return `restarted as pid ${inst.child(i)?.pid}, ready`;
    },
  };
}

async function pauseInstance(inst: InstanceGroup, i: number, durationMs: number, session: number): Promise<Injected> {
  requireRunning(inst, i);
  const pid = inst.child(i)!.pid;
  inst.pause(i);
  // SIGSTOP takes effect when the target next runs: on a busy box that can be a moment later.
  const stopped = await waitStopped(pid, 3000);
  return {
    target: `instance-${i}`,
    detail:
      `SIGSTOP pid ${pid} for ${durationMs} ms (session timeout ` +
      `${session} ms)${stopped ? "" : ", not seen stopped within 3 s"}`,
    heal: async () => {
      inst.resume(i);
      return `SIGCONT pid ${pid}`;
    },
  };
}

async function addInstance(inst: InstanceGroup, claimed: Set<number>, durationMs: number): Promise<Injected> {
  // Next index never used in this group (and not taken by a concurrent scale fault).
  let i = 0;
  while (inst.child(i) !== undefined || claimed.has(i)) i++;
  claimed.add(i);
  await inst.start(i);
  return {
    target: `instance-${i}`,
    detail: `added instance ${i} (pid ${inst.child(i)?.pid}); remove in ${durationMs} ms`,
    heal: async () => {
      await inst.stop(i);
      return `stopped instance ${i} (SIGTERM)`;
    },
  };
}

/** One broker (by id, or the busiest partition's leader) killed or shut down, restarted at heal. */
async function stopBroker(
  f: Extract<ResolvedFault, { kind: "broker" }>,
  ctx: NemesisContext,
  log: (l: string) => void,
): Promise<Injected> {
  const cluster = ctx.cluster!;
  const nodeId = f.target === "leader" ? await busiestLeader(cluster, ctx.topic, log) : f.target;
  const node = cluster.node(nodeId);
  if (!node.running) throw new Error(`broker ${nodeId} is not running`);
  const pid = node.pid;
  if (f.mode === "kill") await cluster.killNode(nodeId);
  else await cluster.stopNode(nodeId);
  return {
    target: `broker-${nodeId}`,
    detail:
      `${f.mode === "kill" ? "kill -9" : "controlled shutdown of"} broker ${nodeId} (pid ` +
      `${pid})${f.target === "leader" ? ", leader of the busiest partition" : ""}; restart in ${f.duration} ms`,
    heal: async () => {
      await cluster.startNode(nodeId);
      const rejoined =
        cluster.nodes.length > 1 && ctx.topic
          ? await waitInSync(cluster.connection, ctx.topic, nodeId, ctx.brokerRejoinTimeoutMs ?? 60_000)
          : true;
      const lag = rejoined ? "" : ", not yet back in every ISR it replicates";
      return `restarted broker ${nodeId} (pid ${cluster.node(nodeId).pid})${lag}`;
    },
  };
}

/** Latency, a blackhole or connection resets on every broker proxy, until heal. */
function disturbNetwork(f: Extract<ResolvedFault, { kind: "network" }>, proxies: ProxySet): Injected {
  let timer: NodeJS.Timeout | undefined;
  let detail: string;
  switch (f.mode) {
    case "latency":
    case "jitter":
      proxies.setLatency(f.latencyMs, f.jitterMs);
      detail =
        `+${f.latencyMs} ms latency, up to +${f.jitterMs} ms ` +
        `jitter, each direction, ${proxies.size} broker proxies`;
      break;
    case "blackhole":
      proxies.blackhole(true);
      detail = `blackhole on ${proxies.size} broker proxies`;
      break;
    case "reset": {
      const n = proxies.reset();
      timer = setInterval(() => proxies.reset(), f.resetEveryMs);
      detail = `reset ${n} connection(s), again every ${f.resetEveryMs} ms`;
      break;
    }
  }
  return {
    target: "all-brokers",
    detail,
    heal: async () => {
      if (timer) clearInterval(timer);
      proxies.heal();
      return "proxies healed";
    },
  };
}

/**
 * A rolling restart: node by node (by id), a controlled shutdown, `downMs` down, a restart, and back
 * in every ISR of ctx.topic (several nodes) before the next node goes. The first node goes down at
 * injection; heal() rolls the others, so the fault window spans the whole roll.
 */
async function rollBrokers(
  cluster: EmbeddedCluster,
  ctx: NemesisContext,
  downMs: number,
  log: (l: string) => void,
): Promise<Injected> {
  const ids = cluster.nodes.map((n) => n.nodeId).sort((a, b) => a - b);
  const down = cluster.nodes.filter((n) => !n.running).map((n) => n.nodeId);
  if (down.length) throw new Error(`broker roll: node(s) ${down.join(", ")} not running before the roll`);
  const pids = new Map(ids.map((id) => [id, cluster.node(id).pid]));
  const lagging: number[] = [];
  const bringBack = async (id: number): Promise<void> => {
    await cluster.startNode(id);
    const inSync =
      cluster.nodes.length > 1 && ctx.topic
        ? await waitInSync(cluster.connection, ctx.topic, id, ctx.brokerRejoinTimeoutMs ?? 60_000)
        : true;
    if (!inSync) lagging.push(id);
    log(
      `nemesis: broker roll: node ${id} restarted (pid ` +
        `${cluster.node(id).pid})${inSync ? "" : ", not yet back in every ISR"}`,
    );
  };
  await cluster.stopNode(ids[0]!);
  return {
    target: "all-brokers",
    detail:
      `rolling restart of broker(s) ${ids.join(", ")}: controlled shutdown, ${downMs} ` +
      `ms down, restart, in sync, next; node ${ids[0]} stopped (pid ${pids.get(ids[0]!)})`,
    heal: async () => {
      await bringBack(ids[0]!);
      for (const id of ids.slice(1)) {
        await cluster.stopNode(id);
        await new Promise((r) => setTimeout(r, downMs));
        await bringBack(id);
      }
      const moved = ids.map((id) => `${id}: pid ${pids.get(id)} → ${cluster.node(id).pid}`).join(", ");
      const lag = lagging.length ? `; not yet back in every ISR of ${ctx.topic}: ${lagging.join(", ")}` : "";
      return `rolled every broker (${moved})${lag}`;
    },
  };
}

/** Waits until /proc shows the process stopped (state T); true when /proc is absent (not Linux). */
async function waitStopped(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let state: string | undefined;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    } catch {
      return true;
    }
    if (state === "T" || state === "t") return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

function requireRunning(inst: InstanceGroup, i: number): void {
  const running = inst.running();
  if (!running.includes(i)) {
    throw new Error(`instance ${i} is not running (running: ${running.join(", ") || "none"})`);
  }
}

function admin(conn: Connection) {
  return kafkaClient(conn, "oversell-nemesis", TIMEOUTS.chore).admin();
}

/** Leader of the partition of `topic` with the highest end offset (the busiest so far). */
export async function busiestLeader(
  cluster: EmbeddedCluster,
  topic: string | undefined,
  log: (l: string) => void = () => {},
): Promise<number> {
  if (cluster.nodes.length === 1 || !topic) return cluster.nodes[0]!.nodeId;
  const a = admin(cluster.connection);
  await a.connect();
  try {
    const md = await a.fetchTopicMetadata({ topics: [topic] });
    const offsets = await a.fetchTopicOffsets(topic);
    const high = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    const parts = md.topics[0]?.partitions ?? [];
    if (parts.length === 0) throw new Error(`topic ${topic} has no partitions`);
    const best = [...parts].sort((x, y) => {
      const d = (high.get(y.partitionId) ?? 0n) - (high.get(x.partitionId) ?? 0n);
      return d > 0n ? 1 : d < 0n ? -1 : x.partitionId - y.partitionId;
    })[0]!;
    if (best.leader < 0) throw new Error(`partition ${best.partitionId} of ${topic} has no leader`);
    log(
      `nemesis: busiest partition of ${topic} is ${best.partitionId} (end ` +
        `offset ${high.get(best.partitionId) ?? 0n}), leader broker ${best.leader}`,
    );
    return best.leader;
  } finally {
    await a.disconnect().catch(() => {});
  }
}

/**
 * Waits until `nodeId` is in the ISR of every partition it replicates (`topic` must exist). Brokers apply
 * metadata at slightly different moments, so the answer must hold on 3 polls in a row.
 */
async function waitInSync(conn: Connection, topic: string, nodeId: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let agreeing = 0;
  while (Date.now() < deadline) {
    const a = admin(conn);
    try {
      await a.connect();
      // Every topic, not only `topic`: the SUTs' internal topics and the transaction log too. A
      // broker still catching up there leaves partitions with one in-sync replica, and the next
      // kill (another SUT, the next gate cell) makes them unwritable under min.insync.replicas=2.
      const md = await a.fetchTopicMetadata();
      const parts = md.topics.find((t) => t.name === topic)?.partitions ?? [];
      const all = md.topics.flatMap((t) => t.partitions);
      const inSync = parts.length > 0 && all.every((p) => !p.replicas.includes(nodeId) || p.isr.includes(nodeId));
      agreeing = inSync ? agreeing + 1 : 0;
      if (agreeing >= 3) return true;
    } catch {
      agreeing = 0; // a broker just came back: metadata may fail for a moment
    } finally {
      await a.disconnect().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}
