// Installs what the project needs beyond npm: the Kafka broker jars (Maven Central).
// Idempotent and quick when everything is cached. `--quiet` prints only on work done.
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars } from "../harness/cluster/jars.ts";
import { requireJava } from "../harness/cluster/prerequisites.ts";

const quiet = process.argv.includes("--quiet");
const versions = (process.env.OVERSELL_KAFKA_VERSIONS ?? process.env.OVERSELL_KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION).split(",");
try {
  for (const v of versions) {
    requireJava(v);
    const dir = await ensureKafkaJars(v, (l) => console.log(`[setup] ${l}`));
    if (!quiet) console.log(`[setup] Kafka ${v} jars: ${dir}`);
  }
} catch (e) {
  console.error(`[setup] ${(e as Error).message}`);
  process.exit(2);
}
