// What a SUT instance learns from the harness, and how it says it is ready.
import { connectionFromEnv, ENV, type Connection } from "./connection.ts";
import { topicsFor, type ContractTopics } from "./topics.ts";

/** Printed on stdout by an instance once its consumers have joined and been assigned. */
export const READY_LINE = "OVERSELL READY";

export interface InstanceContext {
  ns: string;
  instance: string;
  connection: Connection;
  topics: ContractTopics;
  /** OVERSELL_SETTING_<NAME> variables (from the manifest or the command line), lower-cased names. */
  settings: Record<string, string>;
}

export function instanceContext(env: NodeJS.ProcessEnv = process.env): InstanceContext {
  const ns = env[ENV.ns];
  if (!ns) throw new Error(`${ENV.ns} is not set: SUT instances are started by the harness (see its manifest)`);
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith("OVERSELL_SETTING_") && v !== undefined) settings[k.slice(17).toLowerCase()] = v;
  }
  return {
    ns,
    instance: env[ENV.instance] ?? "0",
    connection: connectionFromEnv(env),
    topics: topicsFor(ns),
    settings,
  };
}

export function announceReady(): void {
  process.stdout.write(`${READY_LINE}\n`);
}

/**
 * Runs an instance's main loop: SIGTERM/SIGINT stop it cleanly (exit 0), a fatal error stops it
 * with exit 1 (so the harness sees a crash). Returns shutdown(code) for other fatal paths.
 */
export function runInstance(o: {
  main: () => Promise<void>;
  stop: () => Promise<unknown>;
  log: (line: string) => void;
}): (code: number) => Promise<void> {
  let stopping = false;
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await o.stop().catch((e: Error) => o.log(`stop failed: ${e.message}`));
    process.exit(code);
  };
  process.on("SIGTERM", () => void shutdown(0));
  process.on("SIGINT", () => void shutdown(0));
  o.main().catch((e: Error) => {
    o.log(`fatal: ${e.stack ?? e}`);
    void shutdown(1);
  });
  return shutdown;
}
