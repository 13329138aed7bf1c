// sut.json: how the harness starts a system under test, in any language.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import {
  SETTING_ENV_PREFIX,
  settingProblem,
  settingsDeclarationSchema,
  type SettingsDeclaration,
} from "../../systems-under-test/contract/settings.ts";
import { formatIssues, InputError } from "../shared/zod-errors.ts";

import { INVARIANTS, type Invariant } from "../checker/types.ts";

export { INVARIANTS, type Invariant };

export const manifestSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/, "lower-case letters, digits and '-'"),
  description: z.string().min(1),
  /** argv for instance i; run in the SUT's folder. `{instance}` is replaced by i. */
  command: z.array(z.string().min(1)).min(1),
  instances: z.number().int().min(1).max(16).default(2),
  confirms: z.boolean(),
  claims: z.array(z.enum(INVARIANTS)),
  /** Violations the checker must catch (naive: ["oversell"]); non-empty means the expected verdict is "fail". */
  expectedViolations: z.array(z.enum(INVARIANTS)).default([]),
  /** Extra environment for every instance; settings are declared under `settings`, not here. */
  env: z
    .record(z.string(), z.string())
    .default({})
    .refine((env) => !Object.keys(env).some((k) => k.startsWith(SETTING_ENV_PREFIX)), {
      message: `declare ${SETTING_ENV_PREFIX}* under "settings" (name, type, default, range, meaning), not in env`,
    }),
  /** The SUT's settings: passed as OVERSELL_SETTING_<NAME>, checked by the SUT and by the harness. */
  settings: settingsDeclarationSchema.default({}),
  /**
   * Named sets of setting values, e.g. `throughput`: what a user sizing this SUT for load would choose
   * (`capacity` uses it). The default values are the fast-start profile (bench, tests, gate).
   */
  profiles: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]*$/, "a profile name is lower-case"),
      z.record(z.string(), z.union([z.number(), z.string()])),
    )
    .default({}),
  /** Seconds an instance may take to print the ready line. */
  startTimeoutSec: z.number().positive().default(60),
  /** A command run once (in the SUT folder) before instances start, e.g. a build. */
  build: z.array(z.string().min(1)).optional(),
});

/**
 * Settings the harness itself reads from the declaration (their defaults here; a run's overrides
 * through settingValue() in settings.ts): how long a hold may stay unconfirmed (stuck invariant)
 * and the consumers' session timeout (how long a pause fault lasts).
 */
export const HARNESS_READS = {
  reservationTtlMs: "reservation_ttl_ms",
  sessionTimeoutMs: "session_timeout_ms",
} as const;

// `settings` optional in the type so a stand-in manifest (a SUT whose sut.json failed to load) needs none.
export type Manifest = Omit<z.infer<typeof manifestSchema>, "settings" | "profiles"> & {
  settings?: SettingsDeclaration;
  profiles?: Record<string, Record<string, number | string>>;
  dir: string;
  /** The default of the reservation_ttl_ms setting, if declared. */
  reservationTtlMs?: number;
  /** The default of the session_timeout_ms setting, if declared. */
  sessionTimeoutMs?: number;
};

export const SUT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "systems-under-test");

export function loadManifest(nameOrDir: string): Manifest {
  const dir = existsSync(join(nameOrDir, "sut.json")) ? resolve(nameOrDir) : join(SUT_ROOT, nameOrDir);
  const file = join(dir, "sut.json");
  if (!existsSync(file)) {
    throw new InputError(`no SUT "${nameOrDir}": ${file} does not exist. Known: ${listSuts().join(", ")}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new InputError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success) throw new InputError(`${file} is not a valid SUT manifest:\n${formatIssues(r.error)}`);
  for (const [profile, values] of Object.entries(r.data.profiles)) {
    const problem = profileProblem(r.data.settings, values);
    if (problem) throw new InputError(`${file}: profile "${profile}": ${problem}`);
  }
  const numberDefault = (name: string) => {
    const d = r.data.settings[name]?.default;
    return typeof d === "number" ? d : undefined;
  };
  return {
    ...r.data,
    dir,
    reservationTtlMs: numberDefault(HARNESS_READS.reservationTtlMs),
    sessionTimeoutMs: numberDefault(HARNESS_READS.sessionTimeoutMs),
  };
}

export function listSuts(): string[] {
  if (!existsSync(SUT_ROOT)) return [];
  return readdirSync(SUT_ROOT)
    .filter((d) => existsSync(join(SUT_ROOT, d, "sut.json")))
    .sort();
}

/** Why a profile's values do not fit the declared settings (undefined when they do). */
function profileProblem(declared: SettingsDeclaration, values: Record<string, number | string>): string | undefined {
  for (const [name, value] of Object.entries(values)) {
    const d = declared[name];
    if (!d) return `no setting "${name}" is declared (declared: ${Object.keys(declared).join(", ") || "none"})`;
    const problem = settingProblem(d, String(value));
    if (problem) return `${name}=${problem}`;
  }
  return undefined;
}
