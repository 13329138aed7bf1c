// The reader's fast paths against the slow ones they stand in for, on synthetic data: the line splitter
// against readline, the hand checks of history and record lines against their zod schemas (the same
// accept / reject and the same value), the examples' pre-filter against a full read, the compact order
// lines against streaming the history again, and the late read_uncommitted reader against an early one.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { Decision } from "../../systems-under-test/contract/events.ts";
import { AbortedTracker } from "../../harness/checker/aborted.ts";
import { OrderBook } from "../../harness/checker/book.ts";
import { checkedLine, DecisionStore, LINES, readStore } from "../../harness/checker/store.ts";
import * as events from "../../harness/history/events.ts";
import { parseLine, readRunHistory, readSutOrders } from "../../harness/history/read.ts";
import { eachLine } from "../../harness/shared/lines.ts";
import { InputError } from "../../harness/shared/zod-errors.ts";
import { BUILTIN_SCENARIOS, generateStream, validateScenario } from "../../harness/scenario/index.ts";

/** mulberry32: the same cases on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("eachLine", () => {
  async function viaReadline(text: string): Promise<string[]> {
    const out: string[] = [];
    for await (const l of createInterface({ input: Readable.from([text]), crlfDelay: Infinity })) out.push(l);
    return out;
  }

  it("gives readline's lines for any mix of \\n, \\r\\n and \\r, however the text is cut into chunks", async () => {
    const r = rng(7);
    const pieces = ["a", "bc", "é", "😀", "\n", "\r", "\r\n", " ", '{"x":1}', ""];
    for (let c = 0; c < 300; c++) {
      let text = "";
      const len = Math.floor(r() * 30);
      for (let i = 0; i < len; i++) text += pieces[Math.floor(r() * pieces.length)];
      const chunks: string[] = [];
      for (let i = 0; i < text.length;) {
        const n = 1 + Math.floor(r() * 5);
        chunks.push(text.slice(i, i + n));
        i += n;
      }
      const got: [string, number][] = [];
      const count = await eachLine(Readable.from(chunks), (l, n) => got.push([l, n]));
      const want = await viaReadline(text);
      expect(
        got.map(([l]) => l),
        JSON.stringify(text),
      ).toEqual(want);
      expect(got.map(([, n]) => n)).toEqual(want.map((_, i) => i + 1));
      expect(count).toBe(want.length);
    }
  });
});

type Pairs = [string, string][];
const obj = (pairs: Pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;

/** Raw JSON values that break a schema in every way a field can be broken. */
const ODD_VALUES = [
  '"x"',
  '""',
  '"a\\"b"',
  '"\\u0041"',
  "0",
  "-0",
  "-1",
  "1.5",
  "1e400",
  "9007199254740993",
  "true",
  "false",
  "null",
  "[]",
  "{}",
  '{"seq":1}',
];

/** A valid line's pairs changed at random: a key dropped, added, repeated or spaced, a value swapped. */
function mutate(pairs: Pairs, r: () => number): Pairs {
  const out = pairs.map(([k, v]) => [k, v] as [string, string]);
  const i = Math.floor(r() * out.length);
  switch (Math.floor(r() * 6)) {
    case 0:
      out.splice(i, 1);
      break;
    case 1:
      out.push([["extra", "__proto__", "invalidKind", "duplicateSend", "partition", "offset"][i % 6]!, "1"]);
      break;
    case 2:
      out.push([out[i]![0], ODD_VALUES[Math.floor(r() * ODD_VALUES.length)]!]);
      break;
    case 3:
      out[i]![1] = ODD_VALUES[Math.floor(r() * ODD_VALUES.length)]!;
      break;
    case 4:
      out[i]![1] = ` ${out[i]![1]} `;
      break;
    default:
      out.reverse();
  }
  return out;
}

describe("history lines: the hand check of sent / ack lines agrees with their zod schemas", () => {
  const sent: Pairs = [
    ["t", "1796206861384"],
    ["type", '"sent"'],
    ["sut", '"naive"'],
    ["seq", "12"],
    ["orderId", '"o000012"'],
    ["productId", '"p083"'],
    ["quantity", "2"],
    ["valid", "true"],
    ["kind", '"normal"'],
    ["intendedAtMs", "1796206860416.5"],
    ["sentAtMs", "1796206861374"],
  ];
  const ack: Pairs = [
    ["t", "1796206862353"],
    ["type", '"ack"'],
    ["sut", '"naive"'],
    ["seq", "3"],
    ["orderId", '"o000003"'],
    ["partition", "1"],
    ["offset", '"0"'],
    ["ackAtMs", "1796206862062"],
  ];
  const reference = (line: string) => {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return { ok: false };
    }
    const type = (raw as { type?: unknown } | null)?.type;
    const schema = type === "sent" ? events.sentSchema : type === "ack" ? events.ackSchema : undefined;
    if (!schema) return undefined; // another line type: not what the hand check is about
    const r = schema.safeParse(raw);
    return r.success ? { ok: true, event: r.data } : { ok: false };
  };

  it("same accept / reject and the same event over thousands of mutated lines", () => {
    const r = rng(11);
    let accepted = 0,
      rejected = 0;
    for (let c = 0; c < 6000; c++) {
      let pairs = r() < 0.5 ? sent : ack;
      const rounds = Math.floor(r() * 3);
      for (let k = 0; k < rounds; k++) pairs = mutate(pairs, r);
      const line = obj(pairs);
      const want = reference(line);
      if (!want) continue;
      const got = parseLine(line);
      expect(got.ok, line).toBe(want.ok);
      if (got.ok && want.ok) {
        expect(got.event, line).toEqual(want.event);
        accepted++;
      } else rejected++;
    }
    // Both outcomes are exercised many times.
    expect(accepted).toBeGreaterThan(500);
    expect(rejected).toBeGreaterThan(500);
  });
});

describe("decision record lines: the hand check agrees with the zod schema", () => {
  const d: Pairs = [
    ["type", '"d"'],
    ["p", "0"],
    ["o", '"17"'],
    ["seen", "1796206862062"],
    ["ts", "1796206862001"],
    ["e", '{"type":"OrderReserved","orderId":"o1","productId":"p1","quantity":1,"instance":"0"}'],
  ];

  it("same accept / reject and the same fields over thousands of mutated lines", () => {
    const r = rng(5);
    let accepted = 0,
      rejected = 0;
    for (let c = 0; c < 6000; c++) {
      let pairs = d;
      const rounds = Math.floor(r() * 3);
      for (let k = 0; k < rounds; k++) pairs = mutate(pairs, r);
      const raw = JSON.parse(obj(pairs)) as { type?: unknown };
      const schema = typeof raw?.type === "string" ? LINES[raw.type] : undefined;
      const want = schema?.safeParse(raw);
      let got: Record<string, unknown> | undefined, error: unknown;
      try {
        got = checkedLine("f", 1, raw);
      } catch (e) {
        error = e;
      }
      expect(got !== undefined, obj(pairs)).toBe(want?.success === true);
      if (got && want?.success) {
        const w = want.data as Record<string, unknown>;
        for (const k of ["type", "p", "o", "seen", "ts", "e"]) expect(got[k], `${k} of ${obj(pairs)}`).toEqual(w[k]);
        accepted++;
      } else {
        expect(error).toBeInstanceOf(InputError);
        expect((error as Error).message).toMatch(/^f:1: /);
        rejected++;
      }
    }
    expect(accepted).toBeGreaterThan(500);
    expect(rejected).toBeGreaterThan(500);
  });
});

describe("the examples' pre-filter (readStore with orderIds)", () => {
  it("gives exactly the decisions of the wanted orders that a full read gives", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "oversell-fast-")), "x.decisions.ndjson");
    const store = new DecisionStore(file, { sut: "x", ns: "oversell.r.x", confirms: false });
    const base = { type: "OrderReserved", productId: "p", quantity: 1, instance: "0" };
    const raws = [
      JSON.stringify({ ...base, orderId: "o1" }),
      JSON.stringify({ ...base, orderId: "o2" }),
      `{"type":"OrderReserved", "orderId" : "o1","productId":"p","quantity":1,"instance":"0"}`,
      `{"type":"OrderReserved","orderId":"o\\u0031","productId":"p","quantity":1,"instance":"0"}`,
      `{"type":"OrderReserved","meta":{"orderId":"o2"},"orderId":"o1","productId":"p","quantity":1,"instance":"0"}`,
      `{"type":"OrderReserved","orderId":"o2","orderId":"o1","productId":"p","quantity":1,"instance":"0"}`,
      `{"type":"OrderReserved","note":"orderId","orderId":"o3","productId":"p","quantity":1,"instance":"0"}`,
    ];
    raws.forEach((raw, i) => store.decision(JSON.parse(raw) as Decision, 0, String(i), 1, 1, raw));
    await store.close({ aborted: [], drainEndedAtMs: 2, drainComplete: true, undecided: 0, warnings: [] });
    const wanted = new Set(["o1", "o3"]);
    const read = async (orderIds?: Set<string>) => {
      const got: string[] = [];
      await readStore(
        file,
        { decision: (e, _p, o) => void (wanted.has(e.orderId) && got.push(`${o}:${e.orderId}`)) },
        { orderIds },
      );
      return got;
    };
    const full = await read();
    expect(full).toEqual(["0:o1", "2:o1", "3:o1", "4:o1", "5:o1", "6:o3"]);
    expect(await read(wanted)).toEqual(full);
  });
});

describe("compact order lines", () => {
  it("fill a book exactly as streaming the history again does", async () => {
    const scenario = validateScenario({
      ...BUILTIN_SCENARIOS.steady,
      timing: { kind: "rate", ratePerSec: 200, durationMs: 500 },
    });
    const stream = generateStream(scenario, 3);
    const file = join(mkdtempSync(join(tmpdir(), "oversell-fast-")), "history.ndjson");
    const lines: string[] = [
      JSON.stringify({
        t: 1,
        type: "sut-start",
        sut: "x",
        ns: "oversell.r.x",
        instances: 1,
        confirms: false,
        claims: [],
        expectedViolations: [],
        partitions: 4,
      }),
      JSON.stringify({
        t: 2,
        type: "sut-start",
        sut: "y",
        ns: "oversell.r.y",
        instances: 1,
        confirms: false,
        claims: [],
        expectedViolations: [],
        partitions: 4,
      }),
      JSON.stringify({
        t: 3,
        type: "load-start",
        sut: "x",
        loadStartMs: 1000,
        orders: stream.orders.length,
        driver: "kafka",
      }),
    ];
    const r = rng(9);
    for (const o of stream.orders) {
      for (const sut of ["x", "y"]) {
        if (r() < 0.1) continue;
        const common = { sut, seq: o.seq, orderId: o.orderId };
        lines.push(
          JSON.stringify({
            t: 5,
            type: "sent",
            ...common,
            productId: o.productId,
            quantity: o.quantity,
            valid: true,
            kind: "normal",
            intendedAtMs: 1000 + o.offsetMs,
            sentAtMs: 1000.25 + o.offsetMs + r() * 9,
          }),
        );
        const k = r();
        if (k < 0.6)
          lines.push(
            JSON.stringify({
              t: 6,
              type: "ack",
              ...common,
              partition: o.seq % 4,
              offset: String(o.seq),
              ackAtMs: 1100 + o.offsetMs,
            }),
          );
        else if (k < 0.7)
          lines.push(JSON.stringify({ t: 6, type: "ack", ...common, offset: "-1", ackAtMs: 1101 + o.offsetMs }));
        else if (k < 0.8) lines.push(JSON.stringify({ t: 6, type: "ack", ...common, ackAtMs: 1102 + o.offsetMs }));
        else if (k < 0.9)
          lines.push(
            JSON.stringify({
              t: 6,
              type: "send-error",
              ...common,
              status: k < 0.85 ? "failed" : "unknown",
              error: "e",
              atMs: 1,
            }),
          );
      }
    }
    writeFileSync(file, `${lines.join("\n")}\n`);
    const plain = await readRunHistory(file);
    const kept = await readRunHistory(file, { orderLines: true });
    expect(plain.suts.map((m) => m.orderLines)).toEqual([undefined, undefined]);
    for (const sut of ["x", "y"]) {
      const a = OrderBook.fromStream(stream),
        b = OrderBook.fromStream(stream);
      await readSutOrders(
        file,
        plain.suts.find((m) => m.sut === sut)!,
        a,
      );
      await readSutOrders(
        file,
        kept.suts.find((m) => m.sut === sut)!,
        b,
      );
      for (const col of ["intended", "sentAt", "ackAt", "status", "flags"] as const) expect(b[col]).toEqual(a[col]);
      expect(b.status.some((s) => s !== 0)).toBe(true);
    }
  });
});

describe("AbortedTracker", () => {
  const value = (id: string) =>
    JSON.stringify({ type: "OrderReserved", orderId: id, productId: "p", quantity: 1, instance: "0" });

  it("finds the same aborted records whether the read_uncommitted reader starts first or long after", () => {
    const r = rng(3);
    for (let c = 0; c < 200; c++) {
      // One partition's log: committed records, aborted ones and markers (offsets neither reader hands over).
      const log: ("c" | "a" | "m")[] = Array.from({ length: 1 + Math.floor(r() * 40) }, () => {
        const x = r();
        return x < 0.6 ? "c" : x < 0.85 ? "a" : "m";
      });
      const run = (lateFrom: number) => {
        const t = new AbortedTracker();
        const committed = log.flatMap((k, off) => (k === "c" ? [off] : []));
        const uncommitted = log.flatMap((k, off) => (k !== "m" ? [off] : []));
        let ci = 0,
          ui = 0;
        // Interleave the two readers at random; the uncommitted one only from step `lateFrom`.
        for (let step = 0; ci < committed.length || ui < uncommitted.length; step++) {
          const late = step < lateFrom && ci < committed.length;
          if (ci < committed.length && (late || ui >= uncommitted.length || r() < 0.5)) {
            t.committed(0, committed[ci]!);
            if (r() < 0.3) t.committedPassed(0, committed[ci]!);
            ci++;
          } else if (ui < uncommitted.length && !late) {
            t.uncommittedRecord(0, uncommitted[ui]!, value(`o${uncommitted[ui]}`));
            ui++;
          }
        }
        t.committedPassed(0, log.length - 1);
        return t.aborted.map((d) => d.orderId);
      };
      const want = log.flatMap((k, off) => (k === "a" ? [`o${off}`] : []));
      expect(run(0)).toEqual(want);
      expect(run(1_000_000)).toEqual(want);
    }
  });
});
