// The fault proxy against a local echo server, then kafkajs through a 1-node cluster behind proxies.
import { connect, createServer, type Server, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedCluster } from "../../harness/cluster/embedded.ts";
import { FaultProxy, ProxySet } from "../../harness/nemesis/proxy.ts";
import { runNemesis, type NemesisEvent } from "../../harness/nemesis/index.ts";
import { InstanceGroup } from "../../harness/sut/instances.ts";
import { loadManifest } from "../../harness/sut/manifest.ts";
import { createTopics, testKafka, uniqueNs, until } from "../support/kafka.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A connected client that collects everything it receives. */
async function client(port: number) {
  const s: Socket = connect({ host: "127.0.0.1", port });
  await new Promise<void>((r, j) => s.once("connect", r).once("error", j));
  let got = Buffer.alloc(0);
  const state = { closed: false, error: undefined as string | undefined };
  s.on("data", (b: Buffer) => (got = Buffer.concat([got, b])));
  s.on("error", (e: NodeJS.ErrnoException) => (state.error = e.code));
  s.on("close", () => (state.closed = true));
  return { s, received: () => got, state };
}

describe("FaultProxy (echo server)", () => {
  let echo: Server;
  let proxy: FaultProxy;
  beforeAll(async () => {
    echo = createServer((s) => s.on("error", () => {}).pipe(s)); // resets reach the echo side too
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    proxy = await FaultProxy.start({ targetPort: (echo.address() as { port: number }).port });
  });
  afterAll(async () => {
    await proxy?.close();
    await new Promise((r) => echo?.close(r));
  });

  it("forwards bytes both ways", async () => {
    const c = await client(proxy.port);
    const data = randomBytes(256 * 1024);
    c.s.write(data);
    await until("echo", () => c.received().length >= data.length || undefined, 10_000, 20);
    expect(c.received().equals(data)).toBe(true);
    expect(proxy.stats().bytesToTarget).toBeGreaterThanOrEqual(data.length);
    expect(proxy.stats().bytesFromTarget).toBeGreaterThanOrEqual(data.length);
    c.s.destroy();
  });

  it("adds latency in each direction and keeps order under jitter", async () => {
    const c = await client(proxy.port);
    proxy.setLatency(150);
    const t0 = performance.now();
    c.s.write("ping");
    await until("delayed echo", () => c.received().length >= 4 || undefined, 10_000, 5);
    // Lower bound only: 150 ms out and 150 ms back, never less (timers never fire early by more than a tick).
    expect(performance.now() - t0).toBeGreaterThanOrEqual(295);

    proxy.setLatency(0, 40);
    const chunks = Array.from({ length: 60 }, (_, i) => Buffer.from(`<${i}>`));
    for (const ch of chunks) {
      c.s.write(ch);
      await new Promise((r) => setImmediate(r)); // separate chunks, each with its own random delay
    }
    const want = Buffer.concat([Buffer.from("ping"), ...chunks]);
    await until("jittered echo", () => c.received().length >= want.length || undefined, 10_000, 10);
    expect(c.received().toString()).toBe(want.toString());
    proxy.heal();
    c.s.destroy();
  });

  it("reset() closes client connections with a RST", async () => {
    const a = await client(proxy.port);
    const b = await client(proxy.port);
    await until("both connections seen", () => proxy.stats().open >= 2 || undefined, 5000, 10);
    expect(proxy.reset()).toBeGreaterThanOrEqual(2);
    await until("clients closed", () => (a.state.closed && b.state.closed) || undefined, 5000, 10);
    expect(a.state.error).toBe("ECONNRESET");
    // The proxy still accepts and forwards afterwards.
    const c = await client(proxy.port);
    c.s.write("again");
    await until("echo after reset", () => c.received().toString() === "again" || undefined, 5000, 10);
    c.s.destroy();
  });

  it("blackhole stalls open connections and drops new ones' bytes, then heals", async () => {
    const old = await client(proxy.port);
    old.s.write("a");
    await until("first echo", () => old.received().length === 1 || undefined, 5000, 10);
    proxy.blackhole(true);
    old.s.write("b");
    const fresh = await client(proxy.port); // accepted although blackholed
    fresh.s.write("c");
    await new Promise((r) => setTimeout(r, 400));
    expect(old.received().toString()).toBe("a");
    expect(fresh.received().length).toBe(0);
    expect(old.state.closed || fresh.state.closed).toBe(false);
    proxy.blackhole(false);
    // The stalled connection carries on with nothing lost; the one whose bytes were dropped is closed.
    await until("stalled echo delivered", () => old.received().toString() === "ab" || undefined, 5000, 10);
    await until("dropped connection closed", () => fresh.state.closed || undefined, 5000, 10);
    expect(fresh.received().length).toBe(0);
    old.s.destroy();
  });
});

describe("kafkajs through a 1-node cluster behind a ProxySet", () => {
  let cluster: EmbeddedCluster;
  let proxies: ProxySet;
  beforeAll(async () => {
    proxies = await ProxySet.forCluster();
    cluster = await EmbeddedCluster.start({ brokers: 1, advertisedPort: proxies.advertisedPort });
  });
  afterAll(async () => {
    await cluster?.stop();
    await proxies?.close();
  });

  it("produces and consumes through the proxy, also after reset()", async () => {
    const proxyPort = proxies.get(1)!.port;
    expect(cluster.bootstrap).toBe(`127.0.0.1:${proxyPort}`);
    const ns = uniqueNs("proxy");
    const topic = `${ns}.t`;
    await createTopics(cluster.connection, [topic]);
    const kafka = testKafka("proxy-test", cluster.connection);
    // Metadata names the proxy, so every later connection goes through it too.
    const admin = kafka.admin();
    await admin.connect();
    const md = await admin.describeCluster();
    await admin.disconnect();
    expect(md.brokers.map((b) => b.port)).toEqual([proxyPort]);

    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId: `${ns}.g`, sessionTimeout: 6000, heartbeatInterval: 500 });
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    try {
      await producer.send({ topic, messages: [{ value: "before" }] });
      await until("first message consumed", () => seen.includes("before") || undefined, 60_000);
      const acceptedBefore = proxies.get(1)!.stats().accepted;
      expect(proxies.reset()).toBeGreaterThan(0);
      await producer.send({ topic, messages: [{ value: "after" }] });
      await until("message after reset consumed", () => seen.includes("after") || undefined, 60_000);
      expect(proxies.get(1)!.stats().accepted).toBeGreaterThan(acceptedBefore); // clients reconnected through it
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });

  it("runNemesis applies a network fault to every proxy and heals it", async () => {
    const m = loadManifest(join(import.meta.dirname, "..", "fixtures", "sleeper-sut"));
    const instances = new InstanceGroup({
      manifest: m,
      ns: uniqueNs("net"),
      connection: cluster.connection,
      logDir: mkdtempSync(join(tmpdir(), "oversell-nem-")),
    });
    const events: NemesisEvent[] = [];
    const h = runNemesis([{ kind: "network", mode: "latency", latencyMs: 120, at: 0, duration: 800 }], {
      instances,
      proxies,
      loadStartMs: Date.now(),
      record: (e) => events.push(e),
    });
    await until("fault started", () => events.length >= 1 || undefined, 5000, 10);
    expect(proxies.get(1)!.latencyMs).toBe(120);
    const windows = await h.healed();
    expect(proxies.get(1)!.latencyMs).toBe(0);
    expect(events.map((e) => `${e.type}:${e.kind}:${e.target}`)).toEqual([
      "fault-start:network:all-brokers",
      "fault-end:network:all-brokers",
    ]);
    expect(windows).toHaveLength(1);
    expect(windows[0]!.until).toBeGreaterThan(windows[0]!.at);
    // Without proxies a network fault is refused up front.
    expect(() => runNemesis([{ kind: "network" }], { instances, loadStartMs: Date.now(), record: () => {} })).toThrow(
      /proxy in front of every broker/,
    );
  });

  it("broker fault on 1 node: kill -9, restart behind the same proxy, clients work again", async () => {
    const m = loadManifest(join(import.meta.dirname, "..", "fixtures", "sleeper-sut"));
    const instances = new InstanceGroup({
      manifest: m,
      ns: uniqueNs("b1"),
      connection: cluster.connection,
      logDir: mkdtempSync(join(tmpdir(), "oversell-nem-")),
    });
    expect(() => runNemesis([{ kind: "broker" }], { instances, loadStartMs: Date.now(), record: () => {} })).toThrow(
      /embedded cluster/,
    );
    const oldPid = cluster.node(1).pid;
    const events: NemesisEvent[] = [];
    const h = runNemesis([{ kind: "broker", at: 0, duration: 500 }], {
      instances,
      cluster,
      proxies,
      loadStartMs: Date.now(),
      record: (e) => events.push(e),
    });
    await until("broker killed", () => events.length >= 1 || undefined, 30_000, 20);
    expect(cluster.node(1).running).toBe(false);
    await h.healed();
    expect(events.map((e) => `${e.type}:${e.target}`)).toEqual(["fault-start:broker-1", "fault-end:broker-1"]);
    expect(cluster.node(1).pid).not.toBe(oldPid);
    const topic = `${uniqueNs("b1")}.t`;
    await createTopics(cluster.connection, [topic]); // the restarted broker answers through its proxy
    const producer = testKafka("b1", cluster.connection).producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: "after restart" }] });
    await producer.disconnect();
  });
});
