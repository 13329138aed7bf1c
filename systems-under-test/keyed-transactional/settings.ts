// Settings from OVERSELL_SETTING_<NAME> (manifest env or the command line).
import type { InstanceContext } from "../contract/index.ts";

export interface Settings {
  /** false = OVERSELL_SETTING_TRANSACTIONS=off: plain produce, offsets committed after (at-least-once, broken on purpose). */
  transactions: boolean;
  /** Most input records handled in one transaction. */
  batchSize: number;
  /** How long a fetch waits for minBytes before returning (the consumer-side linger). */
  lingerMs: number;
  minBytes: number;
  /** Input partitions processed at once per stage (each has its own producer). */
  concurrency: number;
  transactionTimeoutMs: number;
  sessionTimeoutMs: number;
  heartbeatMs: number;
  /** Partitions of the internal topics; default: those of <ns>.orders. */
  partitions?: number;
}

export function readSettings(ctx: InstanceContext): Settings {
  const s = ctx.settings;
  const num = (name: string, dflt: number, min = 1): number => {
    if (s[name] === undefined || s[name] === "") return dflt;
    const v = Number(s[name]);
    if (!Number.isInteger(v) || v < min) throw new Error(`OVERSELL_SETTING_${name.toUpperCase()}=${s[name]}: expected an integer >= ${min}`);
    return v;
  };
  const tx = (s.transactions ?? "on").toLowerCase();
  if (!["on", "off", "true", "false", "1", "0"].includes(tx)) throw new Error(`OVERSELL_SETTING_TRANSACTIONS=${s.transactions}: expected on or off`);
  return {
    transactions: ["on", "true", "1"].includes(tx),
    batchSize: num("batch_size", 200),
    lingerMs: num("linger_ms", 20, 0),
    minBytes: num("min_bytes", 1),
    concurrency: num("concurrency", 4),
    transactionTimeoutMs: num("transaction_timeout_ms", 20_000),
    sessionTimeoutMs: num("session_timeout_ms", 8_000),
    heartbeatMs: num("heartbeat_ms", 1_000),
    partitions: s.partitions ? num("partitions", 4) : undefined,
  };
}
