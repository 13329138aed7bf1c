// Fail early, with a fix, when the machine lacks what an embedded broker needs.
import { spawnSync } from "node:child_process";

export class PrerequisiteError extends Error {}

export function javaMajorVersion(): number {
  const r = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (r.error) {
    throw new PrerequisiteError(
      "Java was not found on PATH. The embedded Kafka broker needs Java 17 or newer " +
        "(Debian: apt-get install openjdk-17-jre-headless), or pass --bootstrap to use an existing cluster.",
    );
  }
  const text = `${r.stderr}${r.stdout}`;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) throw new PrerequisiteError(`could not read the Java version from: ${text.trim().split("\n")[0]}`);
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major;
}

export function requireJava(kafkaVersion: string): void {
  const need = Number(kafkaVersion.split(".")[0]) >= 4 ? 17 : 11;
  const have = javaMajorVersion();
  if (have < need) {
    throw new PrerequisiteError(
      `Kafka ${kafkaVersion} needs Java ${need} or newer; java on PATH is ` +
        `${have}. Install Java ${need}+ or choose another --kafka-version.`,
    );
  }
}

export function requireMaven(): void {
  const r = spawnSync("mvn", ["-v"], { encoding: "utf8" });
  if (r.error) {
    throw new PrerequisiteError(
      "Maven (mvn) was not found on PATH. It fetches the Kafka broker jars from Maven Central on first use " +
        "(Debian: apt-get install maven), or pass --bootstrap to use an existing cluster.",
    );
  }
}
