// The run folder's record of what the checker read for one SUT: `<sut>.decisions.ndjson.gz`, one line per
// committed decision (with when it was seen), malformed record and aborted decision, the orders found in
// <ns>.orders, and an end line with how the drain ended. `npm run check` re-judges from it with no broker.
// Read back streamed and checked with zod: a truncated or edited file is an error naming the file and line.
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { createGunzip, createGzip, type Gzip } from "node:zlib";
import { z } from "zod";
import type { Decision } from "../../systems-under-test/contract/events.ts";
import { eachLine } from "../shared/lines.ts";
import { InputError } from "../shared/zod-errors.ts";
import { decodeDecisionValue } from "./decode.ts";
import type { DecisionSink } from "./collect.ts";

export const STORE_VERSION = 1;
export const storeFile = (sut: string) => `${sut}.decisions.ndjson.gz`;
/** A record that is read back at once and removed (check --from-topics): not compressed, cheaper both ways. */
export const scratchStoreFile = (sut: string) => `${sut}.decisions.ndjson`;
const gzipped = (file: string) => file.endsWith(".gz");

const headerLine = z.object({
  type: z.literal("header"),
  version: z.literal(STORE_VERSION),
  sut: z.string(),
  ns: z.string(),
  confirms: z.boolean(),
});
const decisionLine = z.object({
  type: z.literal("d"),
  p: z.number().int().nonnegative(),
  o: z.string().regex(/^\d+$/),
  seen: z.number(),
  ts: z.number(),
  e: z.unknown(),
});
const malformedLine = z.object({
  type: z.literal("malformed"),
  p: z.number().int().nonnegative(),
  o: z.string(),
  reason: z.string(),
});
const abortedLine = z.object({ type: z.literal("aborted"), e: z.unknown() });
const inTopicLine = z.object({ type: z.literal("in-topic"), orderIds: z.array(z.string()) });
export const endLine = z.object({
  type: z.literal("end"),
  drainEndedAtMs: z.number(),
  drainComplete: z.boolean(),
  undecided: z.number().int().nonnegative(),
  warnings: z.array(z.string()),
  decisions: z.number().int().nonnegative(),
  malformed: z.number().int().nonnegative(),
});
export type StoreHeader = z.infer<typeof headerLine>;
export type StoreEnd = z.infer<typeof endLine>;
/** Each line type's schema (exported for tests: the hand checks must agree with them). */
export const LINES: Record<string, z.ZodType> = {
  header: headerLine,
  d: decisionLine,
  malformed: malformedLine,
  aborted: abortedLine,
  "in-topic": inTopicLine,
  end: endLine,
};

/**
 * Writes the record as decisions arrive (gzip level 1 when the file name ends in .gz: cheap next to reading
 * them). Also a DecisionSink.
 */
export class DecisionStore implements DecisionSink {
  private readonly gzip?: Gzip;
  private readonly out: WriteStream;
  private buffer: string[] = [];
  private decisions = 0;
  private malformedCount = 0;

  constructor(
    readonly file: string,
    header: Omit<StoreHeader, "type" | "version">,
    private readonly next?: DecisionSink,
  ) {
    this.out = createWriteStream(file);
    if (gzipped(file)) {
      this.gzip = createGzip({ level: 1 });
      this.gzip.pipe(this.out);
    }
    this.line(JSON.stringify({ type: "header", version: STORE_VERSION, ...header }));
  }

  private line(text: string): void {
    this.buffer.push(text);
    if (this.buffer.length >= 4096) this.flush();
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    (this.gzip ?? this.out).write(`${this.buffer.join("\n")}\n`);
    this.buffer = [];
  }

  decision(
    d: Decision,
    partition: number,
    offset: string,
    seenAtMs: number,
    recordTimestampMs: number,
    raw: string,
  ): void {
    this.decisions++;
    // The value is JSON already; in valid JSON a line break can only be whitespace, so a value spread over
    // lines is kept on one with its breaks as spaces (the cross-check hashes values the same way).
    const e = raw.includes("\n") || raw.includes("\r") ? raw.replace(/[\r\n]/g, " ") : raw;
    this.line(`{"type":"d","p":${partition},"o":"${offset}","seen":${seenAtMs},"ts":${recordTimestampMs},"e":${e}}`);
    this.next?.decision(d, partition, offset, seenAtMs, recordTimestampMs, raw);
  }

  malformed(partition: number, offset: string, reason: string): void {
    this.malformedCount++;
    this.line(JSON.stringify({ type: "malformed", p: partition, o: offset, reason }));
    this.next?.malformed(partition, offset, reason);
  }

  inTopic(orderIds: Iterable<string>): void {
    let chunk: string[] = [];
    for (const id of orderIds) {
      chunk.push(id);
      if (chunk.length === 10_000) {
        this.line(JSON.stringify({ type: "in-topic", orderIds: chunk }));
        chunk = [];
      }
    }
    if (chunk.length > 0) this.line(JSON.stringify({ type: "in-topic", orderIds: chunk }));
  }

  /** The aborted decisions and how the drain ended; then the file is complete. */
  async close(end: { aborted: Decision[] } & Omit<StoreEnd, "type" | "decisions" | "malformed">): Promise<void> {
    for (const d of end.aborted) this.line(JSON.stringify({ type: "aborted", e: d }));
    const { aborted: _a, ...rest } = end;
    this.line(JSON.stringify({ type: "end", ...rest, decisions: this.decisions, malformed: this.malformedCount }));
    this.flush();
    (this.gzip ?? this.out).end();
    await once(this.out, "close");
  }

  /** Error paths: close without an end line (the file then reads as incomplete). */
  abandon(): void {
    this.flush();
    (this.gzip ?? this.out).end();
  }
}

export interface StoreReader {
  decision(d: Decision, partition: number, offset: string, seenAtMs: number, recordTimestampMs: number): void;
  malformed?(partition: number, offset: string, reason: string): void;
  aborted?(d: Decision): void;
  inTopic?(orderIds: string[]): void;
}

function bad(file: string, line: number, why: string): InputError {
  return new InputError(
    `${file}:${line}: ${why} (an edited or damaged run record; ` +
      `re-judge with --from-topics if the topics are still on a broker)`,
  );
}

function decisionOf(file: string, n: number, e: unknown): Decision {
  const r = decodeDecisionValue(e);
  if (!r.ok) throw bad(file, n, `not a decision: ${r.reason}`);
  return r.value;
}

const finite = (v: unknown) => typeof v === "number" && Number.isFinite(v);

function digits(v: unknown): boolean {
  if (typeof v !== "string" || v.length === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** A decision line checked by hand (nearly every line): true only for what decisionLine accepts. */
function plainDecisionLine(r: Record<string, unknown>): boolean {
  return (
    r.type === "d" &&
    Number.isSafeInteger(r.p) &&
    (r.p as number) >= 0 &&
    digits(r.o) &&
    finite(r.seen) &&
    finite(r.ts) &&
    r.e !== undefined // z.unknown() in an object still wants the key
  );
}

/** One parsed line checked: the hand check for a decision line, else its zod schema. Exported for tests. */
export function checkedLine(file: string, n: number, raw: unknown): { type: string } {
  if (typeof raw === "object" && raw !== null && plainDecisionLine(raw as Record<string, unknown>))
    return raw as { type: string };
  const type = (raw as { type?: unknown } | null)?.type;
  const schema = typeof type === "string" ? LINES[type] : undefined;
  if (!schema) throw bad(file, n, `unknown line type ${JSON.stringify(type)}`);
  const r = schema.safeParse(raw);
  if (!r.success)
    throw bad(file, n, r.error.issues.map((i) => `${i.path.join(".") || "line"}: ${i.message}`).join("; "));
  return r.data as { type: string };
}

const DECISION_PREFIX = '{"type":"d",';
const ORDER_ID_KEY = '"orderId"';

/**
 * Whether a decision line, as DecisionStore writes it, can be skipped when only `orderIds` are wanted:
 * no backslash (so every quote delimits a string), and each `"orderId"` in it is a key whose value is a
 * plain string not wanted. Anything else (an escaped, spaced or missing orderId) is parsed.
 */
function notWanted(text: string, orderIds: ReadonlySet<string>): boolean {
  if (!text.startsWith(DECISION_PREFIX) || text.indexOf("\\") >= 0) return false;
  let at = text.indexOf(ORDER_ID_KEY),
    found = false;
  while (at >= 0) {
    const from = at + ORDER_ID_KEY.length + 2;
    if (text.charCodeAt(from - 2) !== 58 /* : */ || text.charCodeAt(from - 1) !== 34 /* " */) return false;
    const to = text.indexOf('"', from);
    if (to < 0 || orderIds.has(text.slice(from, to))) return false;
    found = true;
    at = text.indexOf(ORDER_ID_KEY, to + 1);
  }
  return found;
}

export interface ReadStoreOptions {
  /**
   * Only decisions of these orders are wanted (the report's examples): other decision lines are counted, not
   * parsed. Only for a record already read in full, or written by this process: their lines are not checked.
   */
  orderIds?: ReadonlySet<string>;
}

/** Streams a stored record into `to`; returns its header and end line. */
export async function readStore(
  file: string,
  to: StoreReader,
  opts: ReadStoreOptions = {},
): Promise<{ header: StoreHeader; end: StoreEnd }> {
  const input = gzipped(file) ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  input.setEncoding("utf8");
  const only = opts.orderIds;
  let n = 0,
    header: StoreHeader | undefined,
    end: StoreEnd | undefined,
    decisions = 0;
  const onLine = (text: string, at: number) => {
    n = at;
    if (end) throw bad(file, n, "a line after the end line");
    if (only && notWanted(text, only)) return;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw bad(file, n, "not JSON (truncated?)");
    }
    const line = checkedLine(file, n, raw);
    if (n === 1 && line.type !== "header") throw bad(file, n, "the first line must be the header");
    switch (line.type) {
      case "header":
        header = line as StoreHeader;
        break;
      case "d": {
        const l = line as z.infer<typeof decisionLine>;
        decisions++;
        to.decision(decisionOf(file, n, l.e), l.p, l.o, l.seen, l.ts);
        break;
      }
      case "malformed": {
        const l = line as z.infer<typeof malformedLine>;
        to.malformed?.(l.p, l.o, l.reason);
        break;
      }
      case "aborted":
        to.aborted?.(decisionOf(file, n, (line as z.infer<typeof abortedLine>).e));
        break;
      case "in-topic":
        to.inTopic?.((line as z.infer<typeof inTopicLine>).orderIds);
        break;
      case "end":
        end = line as StoreEnd;
        break;
    }
  };
  try {
    await eachLine(input, onLine);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const msg = (e as Error).message;
    // A run stopped mid-drain (Ctrl-C, kill) leaves the gzip stream unfinished.
    if (/unexpected end of file/i.test(msg))
      throw bad(file, n + 1, "ends early: the run stopped before its drain ended");
    throw bad(file, n + 1, `cannot be read: ${msg}`);
  }
  if (!header) throw bad(file, 1, "empty record");
  if (!end) throw bad(file, n, "ends before its end line (truncated: the run stopped while writing it?)");
  if (!only && end.decisions !== decisions)
    throw bad(file, n, `the end line counts ${end.decisions} decisions, the file holds ${decisions}`);
  return { header, end };
}
