// The broker's runtime classpath, resolved from Maven Central once per version and cached.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PrerequisiteError, requireMaven } from "./prerequisites.ts";

export const DEFAULT_KAFKA_VERSION = "4.1.1";
const POM = join(dirname(fileURLToPath(import.meta.url)), "maven", "pom.xml");

export function cacheRoot(): string {
  return process.env.OVERSELL_CACHE ?? join(homedir(), ".cache", "oversell");
}

export function jarDir(version: string): string {
  return join(cacheRoot(), `kafka-${version}`, "libs");
}

export function isKafka3(version: string): boolean {
  return version.startsWith("3.");
}

/** Kafka's command-line tools (ProducerPerformance, ConsumerPerformance) with their runtime classpath. */
export function toolsJarDir(version: string): string {
  return join(cacheRoot(), `kafka-${version}`, "tools");
}

/** Returns the folder of jars for this Kafka version, downloading them if missing. */
export async function ensureKafkaJars(version: string, log: (line: string) => void = () => {}): Promise<string> {
  return ensureJars(version, jarDir(version), "broker", log);
}

/** Returns the folder of Kafka's tools jars (kafka-tools and its runtime deps), downloading them if missing. */
export async function ensureKafkaToolsJars(version: string, log: (line: string) => void = () => {}): Promise<string> {
  return ensureJars(version, toolsJarDir(version), "tools", log);
}

async function ensureJars(
  version: string,
  dir: string,
  what: "broker" | "tools",
  log: (line: string) => void,
): Promise<string> {
  if (!/^\d+\.\d+\.\d+$/.test(version))
    throw new PrerequisiteError(`Kafka version "${version}" is not of the form X.Y.Z`);
  const marker = join(dir, ".complete");
  if (existsSync(marker)) return dir;
  requireMaven();
  log(`resolving Apache Kafka ${version} ${what} jars from Maven Central (first use only) ...`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  const args = [
    "-B",
    "-q",
    "-f",
    POM,
    "dependency:copy-dependencies",
    "-DincludeScope=runtime",
    `-DoutputDirectory=${tmp}`,
    `-Dkafka.version=${version}`,
  ];
  if (isKafka3(version)) args.push("-Dkafka3=true");
  if (what === "tools") args.push("-Dtools=true");
  const output: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const p = spawn("mvn", args, { stdio: ["ignore", "pipe", "pipe"] });
    p.stdout.on("data", (d: Buffer) => output.push(d.toString()));
    p.stderr.on("data", (d: Buffer) => output.push(d.toString()));
    p.on("error", reject);
    p.on("close", (c) => resolve(c ?? 1));
  });
  if (code !== 0 || !existsSync(tmp) || readdirSync(tmp).length === 0) {
    rmSync(tmp, { recursive: true, force: true });
    const tail = output.join("").trim().split("\n").slice(-15).join("\n");
    const hint = /Could not transfer|Unknown host|Connection refused|timed out|could not resolve/i.test(tail)
      ? "Maven Central looks unreachable from here (check network or a proxy in ~/.m2/settings.xml)."
      : /Could not find artifact|was not found/i.test(tail)
        ? `Maven Central does not serve kafka_2.13:${version}; pick a released version.`
        : "Maven failed.";
    throw new PrerequisiteError(`could not fetch the Kafka ${version} jars. ${hint}\n${tail}`);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  writeFileSync(marker, new Date().toISOString());
  log(`cached ${readdirSync(dir).length - 1} jars in ${dir}`);
  return dir;
}
