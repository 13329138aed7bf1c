// Ctrl-C (SIGINT) and kill -9 (SIGKILL) of the harness mid-load: no SUT instance, broker JVM or
// watchdog of the run is left, the history written so far stays, and `check` judges what reached
// Kafka (the runs on the shared test broker keep their topics).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { resultSchema } from "../../harness/report/result-schema.ts";
import { exitCodeFor } from "../../harness/run/results.ts";
import { until } from "../support/kafka.ts";
import { runCli, runProcesses, stopLiveClis } from "./support.ts";

const tmp = mkdtempSync(join(tmpdir(), "oversell-interrupt-"));
afterAll(stopLiveClis);

// 20 orders/s for 30 s: the load is surely still running when the signal comes.
const scenario = join(tmp, "steady-small.json");
writeFileSync(
  scenario,
  JSON.stringify({
    name: "steady-small",
    products: { count: 20, initialStock: 5 },
    demand: {},
    timing: { kind: "rate", ratePerSec: 20, durationMs: 30_000 },
    kafka: { partitions: 2 },
    drainTimeoutMs: 20_000,
  }),
);

function historyLines(file: string): { lines: Record<string, unknown>[]; torn: number } {
  const lines: Record<string, unknown>[] = [];
  let torn = 0;
  for (const l of readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    try {
      lines.push(JSON.parse(l));
    } catch {
      torn++;
    }
  }
  return { lines, torn };
}

describe("the harness interrupted or killed mid-run", () => {
  for (const signal of ["SIGINT", "SIGKILL"] as const) {
    for (const cluster of ["external", "embedded"] as const) {
      it(
        `${signal}, ${cluster} cluster: children reaped, history ` +
          `kept${cluster === "external" ? ", check judges what reached Kafka" : ""}`,
        async () => {
          const runId = `${signal.toLowerCase()}-${cluster}-${Date.now().toString(36)}`;
          const out = join(tmp, runId);
          const hist = join(out, "history.ndjson");
          let seen: { pid: number; what: string }[] = [];
          const args = [
            "--sut",
            "naive",
            "--instances",
            "1",
            "--scenario",
            scenario,
            "--run-id",
            runId,
            "--out",
            out,
            "--no-progress",
          ];
          if (cluster === "external") args.push("--bootstrap", inject("bootstrap"));
          const r = await runCli("bench", args, {
            timeoutMs: 150_000,
            onStart: (child) => {
              void (async () => {
                // Mid-load: some orders acknowledged (on disk), more to come.
                await until(
                  "30 acknowledged orders in the history",
                  () => existsSync(hist) && (readFileSync(hist, "utf8").match(/"type":"ack"/g)?.length ?? 0) >= 30,
                  120_000,
                  100,
                );
                seen = runProcesses(runId, child.pid);
                child.kill(signal);
              })().catch(() => child.kill("SIGINT"));
            },
          });
          if (signal === "SIGINT") {
            expect(r.code, r.stderr).toBe(130);
            expect(r.stderr).toContain(`interrupted (SIGINT): history so far is in ${hist}`);
          } else {
            expect(r.signal).toBe("SIGKILL");
          }
          // Before the signal the scan saw the run's processes: the SUT instance (and the broker JVM).
          expect(seen.filter((p) => p.what.startsWith("SUT")).length, JSON.stringify(seen)).toBe(1);
          expect(seen.filter((p) => p.what.startsWith("JVM")).length, JSON.stringify(seen)).toBe(
            cluster === "embedded" ? 1 : 0,
          );
          // After it, none (a SIGKILLed harness is cleaned up by its watchdog, within a second or so).
          await until("no process of the run left", () => runProcesses(runId, r.pid).length === 0, 20_000, 200);

          const { lines, torn } = historyLines(hist);
          expect(torn).toBeLessThanOrEqual(1);
          expect(lines[0]).toMatchObject({ type: "run-start", runId });
          const acked = new Set(lines.filter((l) => l.type === "ack").map((l) => l.orderId as string));
          expect(acked.size).toBeGreaterThanOrEqual(30);
          expect(lines.some((l) => l.type === "run-end")).toBe(false);
          if (signal === "SIGINT") expect(lines.at(-1)).toMatchObject({ type: "interrupted", signal: "SIGINT" });

          if (cluster === "external") {
            if (signal === "SIGKILL") {
              // kill -9 can take the last buffered order lines with it: drop the sent/ack lines of the last
              // five acknowledged orders, as if they had never reached the disk. They did reach Kafka (and the
              // SUT may have decided them): check must find them there, not call their decisions phantoms.
              const lost = new Set([...acked].slice(-5));
              const kept = readFileSync(hist, "utf8")
                .split("\n")
                .filter((l) => !lost.has(/"orderId":"([^"]+)"/.exec(l)?.[1] ?? "") || !/"type":"(sent|ack)"/.test(l));
              writeFileSync(hist, kept.join("\n"));
            }
            const c = await runCli(
              "check",
              [out, "--from-topics", "--bootstrap", inject("bootstrap"), "--no-progress"],
              {
                timeoutMs: 120_000,
              },
            );
            expect([0, 1, 2], c.stderr).toContain(c.code);
            const checked = resultSchema.parse(JSON.parse(readFileSync(join(out, "check.json"), "utf8")));
            expect(c.code).toBe(exitCodeFor(checked.verdict));
            const s = checked.suts[0]!;
            console.log(
              `${signal}: check exit ${c.code}, verdict ${s.verdict} ` +
                `(${s.verdictReason ?? ""}); sent ${s.orders.sent}, acked ${s.orders.acked}, send ` +
                `outcome unknown ${s.orders.unknown}, decided ${s.orders.decided}, lost ` +
                `${s.violations.lost!.count}, oversell ${s.violations.oversell!.count}`,
            );
            expect(s.name).toBe("naive");
            // What the history says reached the broker, with the decisions the SUT committed before it died.
            expect(s.orders.acked + s.orders.unknown!).toBeGreaterThanOrEqual(acked.size);
            expect(s.orders.sent).toBeGreaterThanOrEqual(acked.size);
            expect(s.violations.phantom!.count, JSON.stringify(s.violations.phantom)).toBe(0);
            expect(s.orders.sent).toBeLessThan(600);
            expect(s.orders.decided).toBeGreaterThan(0);
            expect(s.orders.decided).toBeLessThanOrEqual(s.orders.sent);
            expect(c.stdout).toMatch(/naive\s+(pass|fail|unknown)/);
          } else {
            // The embedded broker died with the run and its record of decisions stops mid-drain:
            // check says so, naming the file, instead of hanging or judging half a record.
            const c = await runCli("check", [out, "--no-progress"], { timeoutMs: 60_000 });
            expect(c.code).toBe(2);
            expect(c.stderr).toMatch(/naive\.decisions\.ndjson\.gz:\d+: (ends early|ends before its end line)/);
            expect(c.stderr).toMatch(/--from-topics/);
            expect(existsSync(join(out, "kafka.log"))).toBe(true);
          }
        },
        240_000,
      );
    }
  }
});
