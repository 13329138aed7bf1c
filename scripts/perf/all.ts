// `npm run perf`: every benchmark in turn, figures to reports/perf/. --quick leaves out the slow ones
// (perf:cluster, perf:suts). Each one is also its own script (npm run perf:checker|load|http|cluster|suts).
// Usage: npm run perf -- [--quick] [--bootstrap h:p]   (--bootstrap: load/http/suts use that cluster)
import { spawnChild } from "../../harness/process/children.ts";
import { hasFlag, PERF_DIR, flagValue } from "./common.ts";
import { perfChecker } from "./checker.ts";
import { perfHttp } from "./http.ts";
import { perfLoad } from "./load.ts";
import { perfSuts } from "./suts.ts";
import { join } from "node:path";

const argv = process.argv.slice(2);
const quick = hasFlag(argv, "quick");
const shared = flagValue(argv, "bootstrap") ? ["--bootstrap", flagValue(argv, "bootstrap")!] : [];
const written: string[] = [];
const failed: string[] = [];

async function step(name: string, fn: () => Promise<string[]>): Promise<void> {
  console.error(`\n=== ${name} ===`);
  const t = Date.now();
  try {
    written.push(...(await fn()));
    console.error(`${name}: ${((Date.now() - t) / 1000).toFixed(0)} s`);
  } catch (e) {
    failed.push(name);
    console.error(`${name} failed: ${(e as Error).stack ?? e}`);
  }
}

await step("perf:checker", () => perfChecker([]));
await step("perf:load", () => perfLoad(shared));
await step("perf:http", () => perfHttp(shared));
if (!quick) {
  // The existing cold-start script runs as it is (its own process: it parses argv and writes on import).
  await step("perf:cluster", async () => {
    const child = spawnChild(process.execPath, ["--import", "tsx", "scripts/perf/cluster-start.ts", "--runs", "3"], {
      logFile: join(PERF_DIR, "cluster-start.out"),
    });
    const code = await child.exited;
    if (code !== 0) throw new Error(`cluster-start exited ${code} (output: ${join(PERF_DIR, "cluster-start.out")})`);
    return [join(PERF_DIR, "cluster-start.json")];
  });
  await step("perf:suts", () => perfSuts(shared));
}
console.log(`\nperf figures written:\n${written.map((f) => `  ${f}`).join("\n")}`);
if (quick) console.log("(--quick: perf:cluster and perf:suts left out)");
if (failed.length) {
  console.log(`failed: ${failed.join(", ")}`);
  process.exit(1);
}
