// The run folder's record of what the checker read: written as decisions arrive, read back the same,
// and refused with file and line when truncated or edited.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { Decision } from "../../systems-under-test/contract/events.ts";
import { DecisionStore, readStore } from "../../harness/checker/store.ts";

const d = (orderId: string, type: Decision["type"] = "OrderReserved"): Decision =>
  ({
    type,
    orderId,
    productId: "p1",
    quantity: 1,
    instance: "0",
    ...(type === "OrderRejected" ? { reason: "OUT_OF_STOCK" } : {}),
  }) as Decision;

async function written(): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), "oversell-store-")), "x.decisions.ndjson.gz");
  const s = new DecisionStore(file, { sut: "x", ns: "oversell.r.x", confirms: false });
  s.decision(d("o1"), 0, "0", 100, 99, JSON.stringify(d("o1")));
  // over lines
  s.decision(d("o2", "OrderRejected"), 1, "7", 101, 98, JSON.stringify(d("o2", "OrderRejected"), null, 2));
  s.malformed(1, "8", "not JSON");
  s.inTopic(["o3"]);
  await s.close({ aborted: [d("o4")], drainEndedAtMs: 500, drainComplete: true, undecided: 0, warnings: [] });
  return file;
}

describe("decision record", () => {
  it("reads back what was written, in order", async () => {
    const file = await written();
    const seen: string[] = [];
    const r = await readStore(file, {
      decision: (e, p, o, s, ts) => seen.push(`${e.orderId}:${e.type}@${p}/${o} ${s} ${ts}`),
      malformed: (p, o, why) => seen.push(`bad@${p}/${o} ${why}`),
      aborted: (e) => seen.push(`aborted ${e.orderId}`),
      inTopic: (ids) => seen.push(`found ${ids.join(",")}`),
    });
    expect(seen).toEqual([
      "o1:OrderReserved@0/0 100 99",
      "o2:OrderRejected@1/7 101 98",
      "bad@1/8 not JSON",
      "found o3",
      "aborted o4",
    ]);
    expect(r.end).toMatchObject({ drainEndedAtMs: 500, drainComplete: true, decisions: 2, malformed: 1 });
  });

  it("a truncated record, or an edited decision, is an error naming the file and line", async () => {
    const file = await written();
    const text = gunzipSync(readFileSync(file)).toString("utf8");
    const lines = text.trimEnd().split("\n");
    writeFileSync(file, gzipSync(lines.slice(0, 3).join("\n") + "\n"));
    await expect(readStore(file, { decision: () => {} })).rejects.toThrow(
      /x\.decisions\.ndjson\.gz:3: ends before its end line/,
    );
    writeFileSync(file, gzipSync(text.replace('"quantity":1', '"quantity":"one"')));
    await expect(readStore(file, { decision: () => {} })).rejects.toThrow(
      /x\.decisions\.ndjson\.gz:2: not a decision: quantity/,
    );
    writeFileSync(file, readFileSync(file).subarray(0, 40));
    await expect(readStore(file, { decision: () => {} })).rejects.toThrow(/x\.decisions\.ndjson\.gz:\d+: /);
  });
});
