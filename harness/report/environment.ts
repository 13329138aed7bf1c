// Where a run ran: node, machine, client library versions (for result.json).
import { readFileSync } from "node:fs";
import { cpus, platform, release, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLIENTS = ["kafkajs", "undici", "zod", "hdr-histogram-js", "commander", "yaml", "tsx"];

function versionOf(pkg: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version?: string })
      .version;
  } catch {
    return undefined;
  }
}

export function environment(): {
  node: string;
  platform: string;
  cpus: number;
  memoryGiB: number;
  clients: Record<string, string>;
} {
  const clients: Record<string, string> = {};
  for (const c of CLIENTS) {
    const v = versionOf(c);
    if (v) clients[c] = v;
  }
  return {
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpus: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    clients,
  };
}
