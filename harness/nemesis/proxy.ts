// A TCP fault proxy on node:net, one per broker: added latency and jitter, connection resets,
// and a blackhole, all switchable while traffic flows. Clients must reach the broker only
// through it, so the broker advertises the proxy's port (see ProxySet.advertisedPort).
import { connect, createServer, type Server, type Socket } from "node:net";

export interface ProxyOptions {
  targetPort: number;
  targetHost?: string;
  /** Port to listen on (127.0.0.1); a free one by default. */
  listenPort?: number;
  name?: string;
}

export interface ProxyStats {
  accepted: number;
  open: number;
  bytesToTarget: number;
  bytesFromTarget: number;
  resets: number;
}

interface Chunk {
  buf: Buffer;
  due: number;
}

/**
 * One direction of one connection. Chunks wait in a FIFO until their due time; a chunk's due time
 * is never earlier than the one before it, so jitter never reorders bytes within a connection.
 */
class Pipe {
  private queue: Chunk[] = [];
  private lastDue = 0;
  private timer: NodeJS.Timeout | undefined;
  private srcEnded = false;

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly proxy: FaultProxy,
    private readonly count: (n: number) => void,
  ) {
    src.on("data", (buf: Buffer) => this.push(buf));
    src.on("end", () => {
      this.srcEnded = true;
      this.pump();
    });
    // Backpressure: stop reading when the other side cannot keep up.
    dst.on("drain", () => {
      if (!this.proxy.blackholed) src.resume();
    });
  }

  private push(buf: Buffer): void {
    const now = Date.now();
    const due = Math.max(now + this.proxy.delayMs(), this.lastDue);
    this.lastDue = due;
    this.queue.push({ buf, due });
    this.pump();
  }

  /** Writes every chunk that is due, unless the proxy is blackholed (then the pipe stalls). */
  pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.proxy.blackholed || this.dst.destroyed) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0]!.due <= now) {
      const { buf } = this.queue.shift()!;
      this.count(buf.length);
      if (!this.dst.write(buf)) this.src.pause();
    }
    if (this.queue.length > 0) {
      this.timer = setTimeout(() => this.pump(), this.queue[0]!.due - now);
    } else if (this.srcEnded && !this.dst.writableEnded) {
      this.dst.end();
    }
  }

  /** Bytes still waiting for their due time. */
  pending(): boolean {
    return this.queue.length > 0;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
  }
}

interface Conn {
  client: Socket;
  upstream?: Socket;
  pipes: Pipe[];
  /** Accepted while blackholed: never connected upstream, its bytes were dropped. */
  dropped: boolean;
}

export class FaultProxy {
  latencyMs = 0;
  jitterMs = 0;
  blackholed = false;
  private conns = new Set<Conn>();
  private stats_: ProxyStats = { accepted: 0, open: 0, bytesToTarget: 0, bytesFromTarget: 0, resets: 0 };
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly targetHost: string,
    readonly targetPort: number,
    readonly name: string,
  ) {}

  static async start(opts: ProxyOptions): Promise<FaultProxy> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.listenPort ?? 0, "127.0.0.1", () => {
        server.off("error", reject);
        const a = server.address();
        if (a && typeof a === "object") resolve(a.port);
        else reject(new Error("proxy: no listening address"));
      });
    });
    const host = opts.targetHost ?? "127.0.0.1";
    const p = new FaultProxy(
      server,
      port,
      host,
      opts.targetPort,
      opts.name ?? `proxy:${port}->${host}:${opts.targetPort}`,
    );
    server.on("connection", (s) => p.accept(s));
    return p;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Delay for the next chunk: latency plus a uniform random extra in [0, jitter]. */
  delayMs(): number {
    return this.latencyMs + (this.jitterMs > 0 ? Math.random() * this.jitterMs : 0);
  }

  stats(): ProxyStats {
    return { ...this.stats_, open: this.conns.size };
  }

  setLatency(latencyMs: number, jitterMs = this.jitterMs): void {
    if (!(latencyMs >= 0) || !(jitterMs >= 0)) throw new RangeError(`${this.name}: latency and jitter must be >= 0 ms`);
    this.latencyMs = latencyMs;
    this.jitterMs = jitterMs;
  }

  setJitter(jitterMs: number): void {
    this.setLatency(this.latencyMs, jitterMs);
  }

  /**
   * On: new connections are accepted, never connected upstream, and what they send is dropped;
   * open connections stall (nothing read, nothing forwarded: the kernel buffers fill, as TCP
   * retransmits would during a partition). Off: stalled connections carry on where they stopped;
   * connections accepted during the blackhole are closed (their bytes are gone), so clients reconnect.
   */
  blackhole(on: boolean): void {
    if (this.blackholed === on) return;
    this.blackholed = on;
    for (const c of [...this.conns]) {
      if (on) {
        c.client.pause();
        c.upstream?.pause();
      } else if (c.dropped) {
        this.drop(c, false);
      } else {
        c.client.resume();
        c.upstream?.resume();
        for (const p of c.pipes) p.pump();
      }
    }
  }

  /** Destroys every open connection with a TCP RST on both sides; returns how many. */
  reset(): number {
    const n = this.conns.size;
    for (const c of [...this.conns]) this.drop(c, true);
    this.stats_.resets += n;
    return n;
  }

  /** Back to a plain pipe: no latency, no jitter, no blackhole. */
  heal(): void {
    this.setLatency(0, 0);
    this.blackhole(false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const done = new Promise<void>((r) => this.server.close(() => r()));
    for (const c of [...this.conns]) this.drop(c, false);
    await done;
  }

  private accept(client: Socket): void {
    this.stats_.accepted++;
    const c: Conn = { client, pipes: [], dropped: this.blackholed };
    this.conns.add(c);
    client.on("error", () => this.drop(c, true));
    client.on("close", () => this.closed_(c, 0));
    if (c.dropped) {
      client.on("data", () => {}); // read and discard
      client.resume();
      return;
    }
    const upstream = connect({ host: this.targetHost, port: this.targetPort, allowHalfOpen: true });
    c.upstream = upstream;
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    // A refused or reset upstream is shown to the client as a reset, like a dead broker would.
    upstream.on("error", () => this.drop(c, true));
    upstream.on("close", () => this.closed_(c, 1));
    c.pipes.push(
      new Pipe(client, upstream, this, (n) => (this.stats_.bytesToTarget += n)),
      new Pipe(upstream, client, this, (n) => (this.stats_.bytesFromTarget += n)),
    );
    client.resume();
  }

  /** One side closed cleanly: let bytes still delayed towards the other side arrive first. */
  private closed_(c: Conn, side: 0 | 1): void {
    if (c.pipes[side]?.pending()) return; // that pipe ends the other side once flushed, which then closes
    this.drop(c, false);
  }

  private drop(c: Conn, rst: boolean): void {
    if (!this.conns.delete(c)) return;
    for (const p of c.pipes) p.stop();
    for (const s of [c.client, c.upstream]) {
      if (!s || s.destroyed) continue;
      if (rst) s.resetAndDestroy();
      else s.destroy();
    }
  }
}

/** A fault proxy in front of every broker of a cluster, controlled together. */
export class ProxySet {
  private readonly proxies = new Map<number, FaultProxy>();

  private constructor(private readonly host: string) {}

  /**
   * An empty set whose `advertisedPort` is the EmbeddedCluster.start option of the same name:
   * `const proxies = await ProxySet.forCluster(); await EmbeddedCluster.start({ advertisedPort: proxies.advertisedPort
   * })`.
   */
  static async forCluster(opts: { targetHost?: string } = {}): Promise<ProxySet> {
    return new ProxySet(opts.targetHost ?? "127.0.0.1");
  }

  /** Starts a proxy for node `nodeId` forwarding to its real port; returns the port to advertise. */
  readonly advertisedPort = async (nodeId: number, realPort: number): Promise<number> => {
    const old = this.proxies.get(nodeId);
    if (old && old.targetPort === realPort) return old.port;
    await old?.close();
    const p = await FaultProxy.start({ targetHost: this.host, targetPort: realPort, name: `broker-${nodeId} proxy` });
    this.proxies.set(nodeId, p);
    return p.port;
  };

  get(nodeId: number): FaultProxy | undefined {
    return this.proxies.get(nodeId);
  }

  all(): FaultProxy[] {
    return [...this.proxies.values()];
  }

  get size(): number {
    return this.proxies.size;
  }

  setLatency(latencyMs: number, jitterMs = 0): void {
    for (const p of this.all()) p.setLatency(latencyMs, jitterMs);
  }

  setJitter(jitterMs: number): void {
    for (const p of this.all()) p.setJitter(jitterMs);
  }

  blackhole(on: boolean): void {
    for (const p of this.all()) p.blackhole(on);
  }

  reset(): number {
    return this.all().reduce((n, p) => n + p.reset(), 0);
  }

  heal(): void {
    for (const p of this.all()) p.heal();
  }

  stats(): Record<number, ProxyStats> {
    return Object.fromEntries([...this.proxies].map(([id, p]) => [id, p.stats()]));
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((p) => p.close()));
    this.proxies.clear();
  }
}
