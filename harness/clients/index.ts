// Which Kafka client a SUT instance runs on. A SUT that declares a `client` setting (keyed-transactional)
// gets the chosen client prepared before it starts (the librdkafka one is installed into the cache on first
// use) and its location in the environment; the result records the client's name and version.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Manifest } from "../sut/manifest.ts";
import { settingValue, type SettingOverrides } from "../sut/settings.ts";
import { CONFLUENT_PACKAGE, CONFLUENT_VERSION, ensureConfluentClient } from "./confluent.ts";

/** The setting a SUT declares to be run on another client. */
export const CLIENT_SETTING = "client";
/** Where an instance finds @confluentinc/kafka-javascript when it is not in node_modules. */
export const CONFLUENT_MODULE_ENV = "OVERSELL_CONFLUENT_MODULE";

export interface SutClient {
  name: string;
  version: string;
}

const ROOT = join(fileURLToPath(import.meta.url), "..", "..", "..");

function installedVersion(pkgDir: string): string {
  try {
    return (JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

/**
 * The client of a SUT with a `client` setting (else undefined), ready to run: for `confluent` the package is
 * found in node_modules or installed into the cache, and `env` tells the instances where it is.
 */
export async function prepareClient(
  m: Pick<Manifest, "name" | "settings">,
  overrides: SettingOverrides | undefined,
  say: (line: string) => void = () => {},
): Promise<{ client: SutClient; env: Record<string, string> } | undefined> {
  if (!m.settings?.[CLIENT_SETTING]) return undefined;
  const name = String(settingValue(m, CLIENT_SETTING, overrides));
  if (name === "kafkajs")
    return { client: { name, version: installedVersion(join(ROOT, "node_modules", "kafkajs")) }, env: {} };
  if (name === "confluent") {
    const local = join(ROOT, "node_modules", CONFLUENT_PACKAGE);
    const dir = existsSync(join(local, "package.json")) ? local : await ensureConfluentClient(say);
    return {
      client: { name: `${CONFLUENT_PACKAGE} (librdkafka)`, version: installedVersion(dir) || CONFLUENT_VERSION },
      env: { [CONFLUENT_MODULE_ENV]: dir },
    };
  }
  return { client: { name, version: "?" }, env: {} };
}
