// A second opinion on what a SUT committed: Kafka's own Java consumer (read_committed, from the cached broker
// jars) lists the committed records of <ns>.decisions, and they are compared per partition, offset by offset,
// with what the main (kafkajs) reader delivered, as kept in the run record. A difference means one reader is
// wrong and the run cannot be trusted: a harness error, never a silent one.
//
// Each side is compared by (partition, offset, value hash). What the main reader delivered is held in typed
// arrays (16 bytes a record); the Java listing is streamed against it, each partition in offset order.
import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";
import type { Connection } from "../../systems-under-test/contract/connection.ts";
import { cacheRoot, DEFAULT_KAFKA_VERSION, ensureKafkaJars } from "../cluster/jars.ts";
import { spawnChild, tailOfFile } from "../process/children.ts";

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), "java", "CrossCheckReader.java");
const CLASS = "CrossCheckReader";
/** Differences listed with their detail; the rest are counted. */
export const MAX_DIFFERENCE_EXAMPLES = 20;

export type DifferenceKind = "missing" | "extra" | "value";

export interface Difference {
  partition: number;
  offset: string;
  kind: DifferenceKind;
  detail: string;
}

export interface PartitionCheck {
  partition: number;
  /** Records the main reader delivered (decisions and malformed records). */
  main: number;
  /** Committed records the Java consumer listed up to the same offset. */
  java: number;
  /** The offset the main reader had read through (the Java read stops there), if it read the partition. */
  readThrough?: string;
  /** The Java consumer's last stable offset when it started. */
  lastStableOffset?: string;
}

export interface CrossCheckResult {
  reader: string;
  agreed: boolean;
  records: number;
  differences: number;
  examples: Difference[];
  partitions: PartitionCheck[];
  /** The second reader could not do its part (no Java, timeout...): as bad as a disagreement. */
  error?: string;
  listing?: string;
}

/** 64-bit value hash as two uint32 (the first 8 bytes of SHA-256, CR and LF read as spaces). */
export function valueHash(text: string): [number, number] {
  const d = createHash("sha256")
    .update(text.replace(/[\r\n]/g, " "), "utf8")
    .digest();
  return [d.readUInt32BE(0), d.readUInt32BE(4)];
}

const hex8 = (n: number) => n.toString(16).padStart(8, "0");

/** One partition of what the main reader delivered, in offset order; a malformed record has no hash. */
class Column {
  n = 0;
  offsets = new Float64Array(1024);
  hi = new Uint32Array(1024);
  lo = new Uint32Array(1024);
  hashed = new Uint8Array(1024);
  cursor = 0;
  java = 0;

  push(offset: number, hash: [number, number] | undefined): void {
    if (this.n === this.offsets.length) this.grow();
    const i = this.n++;
    this.offsets[i] = offset;
    if (hash) {
      this.hi[i] = hash[0];
      this.lo[i] = hash[1];
      this.hashed[i] = 1;
    }
  }

  private grow(): void {
    const size = this.offsets.length * 2;
    const f = new Float64Array(size);
    f.set(this.offsets);
    this.offsets = f;
    for (const k of ["hi", "lo"] as const) {
      const u = new Uint32Array(size);
      u.set(this[k]);
      this[k] = u;
    }
    const h = new Uint8Array(size);
    h.set(this.hashed);
    this.hashed = h;
  }

  last(): number {
    return this.n === 0 ? -1 : this.offsets[this.n - 1]!;
  }
}

/**
 * The pure comparison: the main reader's records (`main`) against the Java listing (`java`), each partition
 * in offset order. Feed the main side first, then the Java side, then `finish()`.
 */
export class Comparison {
  private readonly columns = new Map<number, Column>();
  private readonly lso = new Map<number, string>();
  differences = 0;
  readonly examples: Difference[] = [];
  records = 0;

  private column(p: number): Column {
    let c = this.columns.get(p);
    if (!c) this.columns.set(p, (c = new Column()));
    return c;
  }

  /** A record the main reader delivered; hash undefined for a malformed one (compared by offset only). */
  main(partition: number, offset: number, hash: [number, number] | undefined): void {
    const c = this.column(partition);
    if (offset <= c.last()) throw new Error(`main reader: partition ${partition} not in offset order at ${offset}`);
    c.push(offset, hash);
  }

  /** Per partition, the highest offset the main reader delivered. */
  lastDelivered(): Map<number, number> {
    return new Map([...this.columns].map(([p, c]) => [p, c.last()]));
  }

  /** A committed record the Java consumer listed; hash undefined for a null value. */
  java(partition: number, offset: number, hash: [number, number] | undefined): void {
    const c = this.column(partition);
    c.java++;
    this.records++;
    while (c.cursor < c.n && c.offsets[c.cursor]! < offset) this.extra(partition, c, c.cursor++);
    if (c.cursor < c.n && c.offsets[c.cursor] === offset) {
      const i = c.cursor++;
      if (!c.hashed[i] || !hash) return;
      if (c.hi[i] !== hash[0] || c.lo[i] !== hash[1])
        this.differ(
          partition,
          offset,
          "value",
          `value hash ${hex8(c.hi[i]!)}${hex8(c.lo[i]!)} (main) vs ` + `${hex8(hash[0])}${hex8(hash[1])} (Java)`,
        );
      return;
    }
    this.differ(partition, offset, "missing", "committed (Java consumer), not delivered by the main reader");
  }

  lastStable(partition: number, offset: string): void {
    this.lso.set(partition, offset);
    this.column(partition);
  }

  private extra(partition: number, c: Column, i: number): void {
    this.differ(
      partition,
      c.offsets[i]!,
      "extra",
      "delivered by the main reader, not a committed record for the Java consumer (an aborted record?)",
    );
  }

  private differ(partition: number, offset: number, kind: DifferenceKind, detail: string): void {
    this.differences++;
    if (this.examples.length < MAX_DIFFERENCE_EXAMPLES)
      this.examples.push({ partition, offset: String(offset), kind, detail });
  }

  /** Main records the Java listing never reached are extra; returns the per-partition counts. */
  finish(readThrough: Map<number, bigint>): PartitionCheck[] {
    const out: PartitionCheck[] = [];
    for (const [p, c] of [...this.columns].sort((a, b) => a[0] - b[0])) {
      while (c.cursor < c.n) this.extra(p, c, c.cursor++);
      const rt = readThrough.get(p);
      out.push({
        partition: p,
        main: c.n,
        java: c.java,
        ...(rt !== undefined ? { readThrough: String(rt) } : {}),
        ...(this.lso.has(p) ? { lastStableOffset: this.lso.get(p)! } : {}),
      });
    }
    return out;
  }
}

const DECISION_LINE = /^\{"type":"d","p":(\d+),"o":"(\d+)",/;
const MALFORMED_LINE = /^\{"type":"malformed",/;

/** The run record's decisions and malformed records → the main side of the comparison. */
export async function readMainSide(storeFile: string, cmp: Comparison): Promise<void> {
  const lines = createInterface({ input: createReadStream(storeFile).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) {
    const d = DECISION_LINE.exec(line);
    if (d) {
      // The store writes the value last, as read (a multi-line value with its line breaks as spaces).
      const at = line.indexOf(',"e":');
      cmp.main(Number(d[1]), Number(d[2]), valueHash(line.slice(at + 5, -1)));
    } else if (MALFORMED_LINE.test(line)) {
      const m = JSON.parse(line) as { p: number; o: string };
      cmp.main(m.p, Number(m.o), undefined);
    }
  }
}

const parseHash = (h: string): [number, number] | undefined =>
  h === "-" ? undefined : [parseInt(h.slice(0, 8), 16), parseInt(h.slice(8, 16), 16)];

/** The Java listing → the Java side; returns its done line (undefined: the reader died before it). */
export async function readJavaSide(listing: string, cmp: Comparison): Promise<string | undefined> {
  const lines = createInterface({ input: createReadStream(listing).pipe(createGunzip()), crlfDelay: Infinity });
  let done: string | undefined;
  for await (const line of lines) {
    const f = line.split("\t");
    if (f[0] === "r") cmp.java(Number(f[1]), Number(f[2]), parseHash(f[4]!));
    else if (f[0] === "e") cmp.lastStable(Number(f[1]), f[2]!);
    else if (f[0] === "done") done = f.slice(1).join(" ");
  }
  return done;
}

/** The compiled second reader, cached per source text (javac once per machine and version of the file). */
export async function ensureCrossCheckReader(): Promise<string> {
  const source = readFileSync(SOURCE);
  const key = createHash("sha256").update(source).digest("hex").slice(0, 12);
  const dir = join(cacheRoot(), "cross-check", key);
  if (existsSync(join(dir, `${CLASS}.class`))) return dir;
  const jars = await ensureKafkaJars(DEFAULT_KAFKA_VERSION);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const log = join(tmp, "javac.log");
  const child = spawnChild("javac", ["-cp", join(jars, "*"), "-d", tmp, SOURCE], { logFile: log });
  const code = await child.exited;
  if (code !== 0) {
    const why = tailOfFile(log, 10);
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`javac ${SOURCE} failed (exit ${code}): ${why}`);
  }
  rmSync(log, { force: true });
  mkdirSync(dirname(dir), { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

/** The connection as Java client properties (PEM files, no keystores). */
export function javaClientProperties(c: Connection): string {
  const lines = [`bootstrap.servers=${c.brokers.join(",")}`, "client.id=oversell-cross-check"];
  const ssl = c.ssl?.enabled === true;
  const protocol = c.sasl ? (ssl ? "SASL_SSL" : "SASL_PLAINTEXT") : ssl ? "SSL" : "PLAINTEXT";
  lines.push(`security.protocol=${protocol}`);
  const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
  if (ssl && c.ssl?.caFile) lines.push("ssl.truststore.type=PEM", `ssl.truststore.location=${esc(c.ssl.caFile)}`);
  if (ssl && c.ssl?.certFile && c.ssl.keyFile)
    lines.push(
      "ssl.keystore.type=PEM",
      `ssl.keystore.certificate.chain=${esc(readFileSync(c.ssl.certFile, "utf8"))}`,
      `ssl.keystore.key=${esc(readFileSync(c.ssl.keyFile, "utf8"))}`,
    );
  if (ssl && c.ssl?.rejectUnauthorized === false) lines.push("ssl.endpoint.identification.algorithm=");
  if (c.sasl) {
    const q = (v: string) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
    const plain = c.sasl.mechanism === "plain";
    const module = plain
      ? "org.apache.kafka.common.security.plain.PlainLoginModule"
      : "org.apache.kafka.common.security.scram.ScramLoginModule";
    lines.push(
      `sasl.mechanism=${c.sasl.mechanism.toUpperCase()}`,
      `sasl.jaas.config=${esc(`${module} required username=${q(c.sasl.username)} password=${q(c.sasl.password)};`)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export interface CrossCheckOptions {
  connection: Connection;
  topic: string;
  /** The run record the main reader wrote (closed). */
  storeFile: string;
  /** Per partition, the offset the main reader's fetches had passed (DrainOutcome.readThrough). */
  readThrough: Map<number, bigint>;
  /** Where the Java listing is kept (gzip TSV), as evidence. */
  listingFile: string;
  timeoutMs?: number;
}

export const JAVA_READER = `Apache Kafka Java consumer ${DEFAULT_KAFKA_VERSION} (read_committed)`;

/** Runs the second reader and compares. Never throws: a failure is the result's `error`. */
export async function crossCheck(o: CrossCheckOptions): Promise<CrossCheckResult> {
  const cmp = new Comparison();
  const failed = (error: string): CrossCheckResult => ({
    reader: JAVA_READER,
    agreed: false,
    records: cmp.records,
    differences: cmp.differences,
    examples: cmp.examples,
    partitions: [],
    error,
  });
  let scratch: string | undefined;
  try {
    await readMainSide(o.storeFile, cmp);
    // The Java read stops where the main reader stopped (what it delivered, or the offsets it passed).
    const bounds = new Map(o.readThrough);
    for (const [p, last] of cmp.lastDelivered()) if ((bounds.get(p) ?? -1n) < BigInt(last)) bounds.set(p, BigInt(last));
    const classes = await ensureCrossCheckReader();
    const jars = await ensureKafkaJars(DEFAULT_KAFKA_VERSION);
    scratch = mkdtempSync(join(tmpdir(), "oversell-cross-check-"));
    const props = join(scratch, "client.properties");
    writeFileSync(props, javaClientProperties(o.connection), { mode: 0o600 }); // may hold the SASL password
    const boundText = bounds.size === 0 ? "-" : [...bounds].map(([p, off]) => `${p}=${off}`).join(",");
    const timeoutMs = o.timeoutMs ?? 60_000;
    const log = `${o.listingFile}.log`;
    mkdirSync(dirname(o.listingFile), { recursive: true });
    const child = spawnChild(
      "java",
      [
        "-Xmx256m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-cp",
        `${classes}:${join(jars, "*")}`,
        CLASS,
        props,
        o.topic,
        boundText,
        o.listingFile,
        String(timeoutMs),
      ],
      { logFile: log },
    );
    const killer = setTimeout(() => void child.stop(2_000), timeoutMs + 45_000);
    const code = await child.exited.finally(() => clearTimeout(killer));
    if (code !== 0) return failed(`the Java reader exited with ${code}: ${tailOfFile(log, 5)}`);
    const done = await readJavaSide(o.listingFile, cmp);
    if (done === undefined) return failed(`the Java listing ${o.listingFile} has no end line`);
    const partitions = cmp.finish(o.readThrough);
    if (done !== "ok") return { ...failed(`the Java reader did not reach the main reader's end: ${done}`), partitions };
    rmSync(log, { force: true });
    return {
      reader: JAVA_READER,
      agreed: cmp.differences === 0,
      records: cmp.records,
      differences: cmp.differences,
      examples: cmp.examples,
      partitions,
      listing: o.listingFile,
    };
  } catch (e) {
    return failed((e as Error).message);
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/** One line for the verdict's reason. */
export function describeCrossCheck(c: CrossCheckResult): string {
  if (c.error) return `the cross-check reader (${c.reader}) could not check: ${c.error}`;
  if (c.agreed) return `the cross-check reader (${c.reader}) agrees on ${c.records} committed records`;
  return (
    `the cross-check reader (${c.reader}) disagrees with the main reader on ${c.differences} record(s)` +
    " (result.json crossCheck.examples)"
  );
}
