// Load from elsewhere, end to end on the real test broker: serve's core starts the namespace, the stock and the SUT;
// the orders come from Kafka's own console producer (not oversell's driver) reading key<TAB>value lines; a restock
// goes through serve's admin endpoint; then `check --from-topics --ns` judges from the topics alone. A correct SUT
// passes, and naive's oversell is caught.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { request } from "undici";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { DEFAULT_KAFKA_VERSION, ensureKafkaToolsJars } from "../../harness/cluster/jars.ts";
import { spawnChild, tailOfFile } from "../../harness/process/children.ts";
import { resultSchema } from "../../harness/report/result-schema.ts";
import { checkFromTopics } from "../../harness/run/check-topics.ts";
import { Progress } from "../../harness/run/progress.ts";
import { generateStream, validateScenario, type GeneratedStream } from "../../harness/scenario/index.ts";
import { startServe, type ServeHandle } from "../../harness/serve/serve.ts";
import { loadManifest } from "../../harness/sut/manifest.ts";
import { testConnection, uniqueNs } from "../support/kafka.ts";

const tmp = mkdtempSync(join(tmpdir(), "oversell-serve-"));
const quiet = new Progress(process.stderr, true);

// The race for the last unit: 40 products with stock 1, 4 orders each, all at once.
const stream = generateStream(
  validateScenario({
    name: "last-unit-external",
    products: { count: 40, initialStock: 1 },
    demand: { ordersPerProduct: 4 },
    timing: { kind: "burst", windowMs: 100 },
    kafka: { partitions: 4 },
  }),
  7,
);
const RESTOCKED = "p000";

/**
 * key<TAB>value lines as any producer would write them: OrderPlaced with sentAtMs, intendedAtMs on every other order
 * (so latency origins are mixed), and one order of quantity 0 that breaks the contract.
 */
function payload(s: GeneratedStream, file: string): { orders: number; stated: number } {
  const t0 = Date.now();
  let stated = 0;
  const lines = s.orders.map((o, i) => {
    const body: Record<string, unknown> = { ...o.body, sentAtMs: t0 + o.offsetMs };
    if (i % 2 === 0) {
      body.intendedAtMs = t0 + o.offsetMs;
      stated++;
    }
    return `${o.key}\t${JSON.stringify(body)}`;
  });
  lines.push(`zero-qty\t${JSON.stringify({ ...s.orders[0]!.body, orderId: "zero-qty", quantity: 0, sentAtMs: t0 })}`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return { orders: lines.length, stated };
}

/** Kafka's console producer (kafka-tools jar) reading the file on stdin; reaped like every child. */
async function consoleProduce(bootstrap: string, topic: string, file: string, logFile: string): Promise<void> {
  const tools = await ensureKafkaToolsJars(DEFAULT_KAFKA_VERSION);
  const script =
    'exec java -Xmx256m -cp "$1/*" org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$2" --topic "$3" ' +
    '--property parse.key=true --property "key.separator=$(printf "\\t")" < "$4"';
  const child = spawnChild("sh", ["-c", script, "sh", tools, bootstrap, topic, file], { logFile });
  const code = await child.exited;
  if (code !== 0) throw new Error(`ConsoleProducer exited ${code}:\n${tailOfFile(logFile)}`);
}

describe("serve + an external producer + check --from-topics --ns", () => {
  const served: ServeHandle[] = [];
  afterAll(async () => {
    for (const s of served) await s.stop();
  });

  for (const sut of ["keyed-transactional", "naive"] as const) {
    it(`${sut}: judged from the topics alone (${sut === "naive" ? "oversell caught" : "passes"})`, async () => {
      const ns = uniqueNs(`serve-${sut}`);
      const dir = join(tmp, sut);
      const serve = await startServe({
        manifest: loadManifest(sut),
        stream,
        connection: testConnection(),
        ns,
        instances: 2,
        dir,
      });
      served.push(serve);

      // A restock through the admin endpoint, before the orders: S(p) counts it.
      const restock = await request(`${serve.adminUrl}/admin/restock`, {
        method: "POST",
        body: JSON.stringify({ productId: RESTOCKED, quantity: 2 }),
      });
      expect(restock.statusCode).toBe(200);
      await restock.body.dump();
      const bad = await request(`${serve.adminUrl}/admin/restock`, { method: "POST", body: '{"productId":"p001"}' });
      expect(bad.statusCode).toBe(400);
      await bad.body.dump();

      const file = join(dir, "orders.tsv");
      const sent = payload(stream, file);
      await consoleProduce(serve.bootstrap, topicsFor(ns).orders, file, join(dir, "console-producer.log"));

      const out = join(dir, "check");
      const outcome = await checkFromTopics({
        connection: testConnection(),
        ns,
        sut,
        outDir: out,
        deadlineMs: 90_000,
        progress: quiet,
      });
      const r = outcome.result.suts[0]!;
      console.log(
        `${sut} from topics: ${r.verdict} (${r.verdictReason ?? "no violation"}); ` +
          `sold ${r.units?.sold}/${r.units?.stock}, decided ${r.orders.decided}/${r.orders.sent}`,
      );
      expect(resultSchema.parse(JSON.parse(JSON.stringify(outcome.result)))).toBeTruthy();
      expect(existsSync(join(out, "result.json"))).toBe(true);
      expect(existsSync(join(out, "report.html"))).toBe(true);
      expect(r.orders.sent).toBe(sent.orders);
      expect(r.orders.decided).toBe(sent.orders);
      expect(r.orders.invalid).toBe(1);
      expect(r.units?.stock).toBe(40 + 2);
      expect(r.latencyFrom).toEqual({ intended: sent.stated, recordTimestamp: sent.orders - sent.stated });
      expect(r.violations.lost!.count).toBe(0);
      expect(r.violations.phantom!.count).toBe(0);
      expect(r.violations["invalid-accepted"]!.count).toBe(0);
      if (sut === "naive") {
        expect(r.verdict).toBe("fail");
        expect(r.violations.oversell!.count).toBeGreaterThan(0);
        expect(r.matchesExpectation).toBe(true);
      } else {
        expect(r.verdict).toBe("pass");
        expect(r.violations.oversell!.count).toBe(0);
        expect(r.units?.sold).toBeLessThanOrEqual(42);
      }
      expect(outcome.exitCode).toBe(0);
      await serve.stop();
      expect(serve.running()).toEqual([]);
    });
  }
});
