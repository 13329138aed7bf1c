// Installs what the project needs beyond npm: the Kafka broker jars (Maven Central); with --clients, the
// librdkafka client for the SUTs' client=confluent setting (harness/clients/confluent.ts: prebuilt, or built
// from its bundled source where only the package registries are reachable).
// Idempotent and quick when everything is cached. `--quiet` prints only on work done.
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars } from "../harness/cluster/jars.ts";
import { requireJava } from "../harness/cluster/prerequisites.ts";
import { CONFLUENT_PACKAGE, CONFLUENT_VERSION, ensureConfluentClient } from "../harness/clients/confluent.ts";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const quiet = process.argv.includes("--quiet");
const versions = (
  process.env.OVERSELL_KAFKA_VERSIONS ??
  process.env.OVERSELL_KAFKA_VERSION ??
  DEFAULT_KAFKA_VERSION
).split(",");
try {
  for (const v of versions) {
    requireJava(v);
    const dir = await ensureKafkaJars(v, (l) => console.log(`[setup] ${l}`));
    if (!quiet) console.log(`[setup] Kafka ${v} jars: ${dir}`);
  }
  if (process.argv.includes("--browser") || process.env.OVERSELL_SETUP_BROWSER === "1") ensureChromium();
  if (process.argv.includes("--clients") || process.env.OVERSELL_SETUP_CLIENTS === "1") {
    const dir = await ensureConfluentClient((l) => console.log(`[setup] ${l}`));
    if (!quiet) console.log(`[setup] ${CONFLUENT_PACKAGE}@${CONFLUENT_VERSION}: ${dir}`);
  }
} catch (e) {
  console.error(`[setup] ${(e as Error).message}`);
  process.exit(2);
}

/** The report's browser test drives Debian's chromium (no browser download: only the apt registry is reachable). */
function ensureChromium(): void {
  const bin = "/usr/bin/chromium";
  if (existsSync(bin)) {
    if (!quiet) console.log(`[setup] chromium: ${bin}`);
    return;
  }
  const apt = (args: string[]) =>
    execFileSync("apt-get", args, {
      stdio: quiet ? "pipe" : "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  console.log("[setup] installing chromium (apt-get install -y chromium)");
  try {
    try {
      apt(["install", "-y", "chromium"]);
    } catch {
      // A fresh machine has no package lists yet.
      apt(["update"]);
      apt(["install", "-y", "chromium"]);
    }
  } catch (e) {
    throw new Error(
      `could not install chromium with apt-get (${(e as Error).message.split("\n")[0]}); ` +
        `install it by hand ("apt-get install -y chromium", as root) so that ${bin} exists`,
    );
  }
  if (!existsSync(bin)) throw new Error(`apt-get installed chromium but ${bin} is still missing`);
  console.log(`[setup] chromium: ${bin}`);
}
