// The fault schedule: a zod schema (scenario files, result.json) and the compact `--faults` syntax.
//
//   faults  := fault ("," fault)*
//   fault   := kind [":" option ("/" option)*] ["#" target] ["@" at [":" duration]]
//   kind    := crash | pause | scale | broker | network
//   option  := network: latency[=ms] | jitter[=ms] | reset[=every] | blackhole, and latency=ms / jitter=ms
//              to set both; broker: kill | stop | roll (every node in turn: controlled shutdown,
//              down for <duration>, restarted and back in sync before the next; no target)
//   target  := instance index (crash, pause) | node id or "leader" (broker)
//   time    := 2s | 500ms | 1.5s | 1m | 30%  (percent of the load duration)
//
// Examples: crash · crash@2s:3s · crash#1@30%:20% · pause,network:blackhole@1s:4s · broker,scale · broker:roll@3s:2s
//           network:latency=200ms/jitter=50ms · broker:stop#leader@5s:10s · network:reset=500ms
import { z } from "zod";
import { formatIssues, InputError } from "../shared/zod-errors.ts";

export const FAULT_KINDS = ["crash", "pause", "scale", "broker", "network"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export const NETWORK_MODES = ["latency", "jitter", "reset", "blackhole"] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];
export const BROKER_MODES = ["kill", "stop", "roll"] as const;
export type BrokerMode = (typeof BROKER_MODES)[number];

const timing = {
  /** ms after the load started */
  at: z.number().int().min(0).optional(),
  /** ms from injection to healing */
  duration: z.number().int().min(0).optional(),
};
const instanceTarget = z.number().int().min(0).max(63).optional();

export const crashFaultSchema = z.object({ kind: z.literal("crash"), target: instanceTarget, ...timing });
export const pauseFaultSchema = z.object({ kind: z.literal("pause"), target: instanceTarget, ...timing });
/** Adds an instance (next unused index), removes it (SIGTERM) after `duration`. */
export const scaleFaultSchema = z.object({ kind: z.literal("scale"), ...timing });
export const brokerFaultSchema = z
  .object({
    kind: z.literal("broker"),
    /** node id, or the leader of the busiest partition of the orders topic */
    target: z.union([z.literal("leader"), z.number().int().min(1)]).optional(),
    /** kill: kill -9 (default); stop: controlled shutdown; roll: every node in turn (duration: each one's down time) */
    mode: z.enum(BROKER_MODES).optional(),
    ...timing,
  })
  .refine((b) => !(b.mode === "roll" && b.target !== undefined), {
    message: "broker:roll restarts every node; it takes no target",
    path: ["target"],
  });
export const networkFaultSchema = z.object({
  kind: z.literal("network"),
  mode: z.enum(NETWORK_MODES).optional(),
  latencyMs: z.number().min(0).max(60_000).optional(),
  jitterMs: z.number().min(0).max(60_000).optional(),
  /** reset mode: connections are reset at the start and then every resetEveryMs until healed */
  resetEveryMs: z.number().int().min(50).optional(),
  ...timing,
});

export const faultSpecSchema = z.discriminatedUnion("kind", [
  crashFaultSchema,
  pauseFaultSchema,
  scaleFaultSchema,
  brokerFaultSchema,
  networkFaultSchema,
]);
export type FaultSpec = z.infer<typeof faultSpecSchema>;
export const faultListSchema = z.array(faultSpecSchema);

/** A fault with every default filled in: what runNemesis executes. */
export type ResolvedFault =
  | { kind: "crash"; target: number; at: number; duration: number }
  | { kind: "pause"; target: number; at: number; duration: number }
  | { kind: "scale"; at: number; duration: number }
  | { kind: "broker"; target: "leader" | number; mode: BrokerMode; at: number; duration: number }
  | {
      kind: "network";
      mode: NetworkMode;
      latencyMs: number;
      jitterMs: number;
      resetEveryMs: number;
      at: number;
      duration: number;
    };

export interface FaultDefaults {
  /** Length of the load phase, ms: default times are fractions of it. */
  loadDurationMs: number;
  /** The SUT's consumer session timeout (sut.json setting session_timeout_ms); a pause lasts this + 4 s. */
  sessionTimeoutMs?: number;
}

export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
/** Faults without `at` share this part of the load, one after another, so each heals before the drain. */
const WINDOW_START = 0.3;
const WINDOW_END = 0.8;

/**
 * Fills in defaults. Faults without `at` split 30%..80% of the load into equal slots, one each,
 * and last 70% of their slot (at least 1 s). A pause lasts sessionTimeout + 4 s whatever the slot:
 * shorter would not make a zombie; if that outlasts the load, the drain waits for healed().
 */
export function resolveFaults(specs: FaultSpec[], d: FaultDefaults): ResolvedFault[] {
  const L = d.loadDurationMs;
  const session = d.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  const unscheduled = specs.filter((s) => s.at === undefined).length;
  const slot = unscheduled > 0 ? (L * (WINDOW_END - WINDOW_START)) / unscheduled : 0;
  let nth = 0;
  return specs.map((s): ResolvedFault => {
    const at = s.at ?? Math.round(L * WINDOW_START + slot * nth++);
    const dflt = Math.max(1000, Math.round(slot > 0 ? slot * 0.7 : L * 0.3));
    const duration = s.duration ?? (s.kind === "pause" ? session + 4000 : dflt);
    switch (s.kind) {
      case "crash":
      case "pause":
        return { kind: s.kind, target: s.target ?? 0, at, duration };
      case "scale":
        return { kind: "scale", at, duration };
      case "broker":
        return { kind: "broker", target: s.target ?? "leader", mode: s.mode ?? "kill", at, duration };
      case "network": {
        const mode = s.mode ?? "latency";
        return {
          kind: "network",
          mode,
          latencyMs: s.latencyMs ?? (mode === "latency" ? 200 : mode === "jitter" ? 50 : 0),
          jitterMs: s.jitterMs ?? (mode === "jitter" ? 300 : 0),
          resetEveryMs: s.resetEveryMs ?? 2000,
          at,
          duration,
        };
      }
    }
  });
}

/** A time: 2s, 500ms, 1.5s, 1m, or 30% (of the load duration). Bare numbers are refused (ms or s?). */
export function parseTime(text: string, loadDurationMs: number | undefined, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|%)$/.exec(text.trim());
  if (!m) throw new Error(`${what} "${text}" is not a time: use e.g. 500ms, 2s, 1.5s, 1m or 30% (of the load)`);
  const v = Number(m[1]);
  switch (m[2]) {
    case "ms":
      return Math.round(v);
    case "s":
      return Math.round(v * 1000);
    case "m":
      return Math.round(v * 60_000);
    default:
      if (loadDurationMs === undefined) throw new Error(`${what} "${text}": a percentage needs the load duration`);
      return Math.round((loadDurationMs * v) / 100);
  }
}

/** Parses the `--faults` text into specs (only what was written); see the grammar at the top. */
export function parseFaultSpecs(text: string, loadDurationMs?: number): FaultSpec[] {
  const parts = text.split(",").map((p) => p.trim());
  if (text.trim() === "" || parts.some((p) => p === "")) {
    throw new InputError(`--faults "${text}": empty fault (faults are separated by ',', e.g. "crash,network:latency")`);
  }
  return parts.map((part) => {
    try {
      return parseOne(part, loadDurationMs);
    } catch (e) {
      throw new InputError(`--faults: bad fault "${part}": ${(e as Error).message}`);
    }
  });
}

/** Parses `--faults` and fills in every default relative to the load duration. */
export function parseFaults(text: string, d: FaultDefaults): ResolvedFault[] {
  return resolveFaults(parseFaultSpecs(text, d.loadDurationMs), d);
}

/** Validates faults from a file (JSON/YAML), with readable errors. */
export function validateFaultSpecs(raw: unknown, where = "faults"): FaultSpec[] {
  const r = faultListSchema.safeParse(raw);
  if (!r.success) throw new InputError(`${where} is not a valid fault list:\n${formatIssues(r.error, where)}`);
  return r.data;
}

/** One fault of --faults: kind[:options]#target@at:duration, each part optional but the kind. */
function parseOne(part: string, load: number | undefined): FaultSpec {
  const { kind, options, timingText, targetText } = splitFault(part);
  const spec: Record<string, unknown> = { kind };
  if (timingText !== undefined) Object.assign(spec, parseTiming(timingText, load));
  if (targetText !== undefined) spec.target = parseTarget(kind, targetText);
  for (const opt of options) applyOption(spec, kind, opt);
  const r = faultSpecSchema.safeParse(spec);
  if (!r.success)
    throw new Error(
      formatIssues(r.error)
        .replace(/^\s*- /gm, "")
        .replace(/\n/g, "; "),
    );
  return r.data;
}

function splitFault(part: string): { kind: string; options: string[]; timingText?: string; targetText?: string } {
  let rest = part;
  let timingText: string | undefined;
  const atIdx = rest.indexOf("@");
  if (atIdx >= 0) {
    timingText = rest.slice(atIdx + 1);
    rest = rest.slice(0, atIdx);
  }
  let targetText: string | undefined;
  const hashIdx = rest.indexOf("#");
  if (hashIdx >= 0) {
    targetText = rest.slice(hashIdx + 1);
    rest = rest.slice(0, hashIdx);
  }
  const colon = rest.indexOf(":");
  const kind = (colon >= 0 ? rest.slice(0, colon) : rest).trim();
  const options = colon >= 0 ? rest.slice(colon + 1).split("/") : [];
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`unknown kind "${kind}" (one of ${FAULT_KINDS.join(", ")})`);
  }
  return { kind, options, timingText, targetText };
}

function parseTiming(timingText: string, load: number | undefined): { at: number; duration?: number } {
  const [atText, durText, extra] = timingText.split(":");
  if (extra !== undefined || !atText)
    throw new Error(`timing "@${timingText}" must be @<at> or @<at>:<duration>, e.g. @2s:3s`);
  const at = parseTime(atText, load, "start time");
  return durText === undefined ? { at } : { at, duration: parseTime(durText, load, "duration") };
}

function parseTarget(kind: string, targetText: string): number | "leader" {
  if (kind === "scale" || kind === "network") throw new Error(`${kind} faults take no target ("#${targetText}")`);
  if (kind === "broker" && targetText === "leader") return "leader";
  if (/^\d+$/.test(targetText)) return Number(targetText);
  throw new Error(`target "#${targetText}" must be ${kind === "broker" ? "a node id or leader" : "an instance index"}`);
}

/** A network mode (with its value) or a broker mode; other kinds take no option. */
function applyOption(spec: Record<string, unknown>, kind: string, opt: string): void {
  const [name, value, extra] = opt.split("=");
  if (!name || extra !== undefined) throw new Error(`option "${opt}" must be name or name=value`);
  if (kind === "network") {
    if (!(NETWORK_MODES as readonly string[]).includes(name)) {
      throw new Error(`network option "${name}" is not one of ${NETWORK_MODES.join(", ")}`);
    }
    if (spec.mode === undefined) spec.mode = name;
    if (value !== undefined) {
      if (name === "latency") spec.latencyMs = parseTime(value, undefined, "latency");
      else if (name === "jitter") spec.jitterMs = parseTime(value, undefined, "jitter");
      else if (name === "reset") spec.resetEveryMs = parseTime(value, undefined, "reset interval");
      else throw new Error(`option "${name}" takes no value`);
    }
  } else if (kind === "broker") {
    if (!(BROKER_MODES as readonly string[]).includes(name))
      throw new Error(`broker option "${name}" is not one of ${BROKER_MODES.join(", ")}`);
    if (value !== undefined) throw new Error(`option "${name}" takes no value`);
    if (spec.mode !== undefined) throw new Error(`broker takes one of ${BROKER_MODES.join(", ")}`);
    spec.mode = name;
  } else {
    throw new Error(`${kind} takes no options (":${opt}")`);
  }
}

/** Human label of a resolved fault, for logs. */
export function describeFault(f: ResolvedFault): string {
  const t = `@${f.at}ms for ${f.duration}ms`;
  switch (f.kind) {
    case "crash":
    case "pause":
      return `${f.kind} instance ${f.target} ${t}`;
    case "scale":
      return `scale +1 instance ${t}`;
    case "broker":
      if (f.mode === "roll") return `broker roll, every node one by one, each down ${f.duration}ms, from @${f.at}ms`;
      return `broker ${f.mode} ${f.target === "leader" ? "partition leader" : `node ${f.target}`} ${t}`;
    case "network":
      return (
        `network ${f.mode}` +
        `${f.mode === "latency" || f.mode === "jitter" ? ` ${f.latencyMs}+~${f.jitterMs}ms` : ""} ${t}`
      );
  }
}
