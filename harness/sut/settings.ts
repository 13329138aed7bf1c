// The harness side of a SUT's settings: `--set sut.name=value` and gate variants are checked against
// the declaration in sut.json, and every declared setting reaches the instances (default or override)
// through OVERSELL_SETTING_<NAME>, so a SUT in any language gets validated values.
import {
  describeRange,
  parseSettingValue,
  SETTING_ENV_PREFIX,
  settingEnvName,
  settingProblem,
  type SettingValue,
} from "../../systems-under-test/contract/settings.ts";
import { InputError } from "../shared/zod-errors.ts";
import type { Manifest } from "./manifest.ts";

export class SettingInputError extends InputError {}

/** Overrides keyed by variable name (OVERSELL_SETTING_BATCH_SIZE), as the gate and --set give them. */
export type SettingOverrides = Record<string, string>;

function settingName(envName: string): string {
  return envName.slice(SETTING_ENV_PREFIX.length).toLowerCase();
}

/** Throws SettingInputError naming the SUT, the setting, the value and what it must be. */
export function checkOverrides(m: Pick<Manifest, "name" | "settings">, overrides: SettingOverrides = {}): void {
  for (const [envName, raw] of Object.entries(overrides)) {
    if (!envName.startsWith(SETTING_ENV_PREFIX)) continue;
    const name = settingName(envName);
    const d = (m.settings ?? {})[name];
    if (!d) {
      const known = Object.keys(m.settings ?? {}).join(", ") || "none";
      throw new SettingInputError(`${m.name} has no setting "${name}" (its sut.json declares: ${known})`);
    }
    const problem = settingProblem(d, raw);
    if (problem) throw new SettingInputError(`${m.name}.${name}=${problem} (${d.meaning})`);
  }
}

/** OVERSELL_SETTING_* for every declared setting that has a value: the default unless overridden. */
export function settingsEnv(
  m: Pick<Manifest, "name" | "settings">,
  overrides: SettingOverrides = {},
): SettingOverrides {
  checkOverrides(m, overrides);
  const env: SettingOverrides = {};
  for (const [name, d] of Object.entries(m.settings ?? {})) {
    if (d.default !== undefined) env[settingEnvName(name)] = String(d.default);
  }
  return { ...env, ...overrides };
}

/** The value a run uses for one setting (override or default); undefined if not declared or unset. */
export function settingValue(
  m: Pick<Manifest, "name" | "settings">,
  name: string,
  overrides: SettingOverrides = {},
): SettingValue | undefined {
  const d = (m.settings ?? {})[name];
  if (!d) return undefined;
  const raw = overrides[settingEnvName(name)];
  if (raw === undefined) return d.default;
  const problem = settingProblem(d, raw);
  if (problem) throw new SettingInputError(`${m.name}.${name}=${problem} (${d.meaning})`);
  return parseSettingValue(d, raw);
}

export function numberSetting(m: Pick<Manifest, "name" | "settings">, name: string, overrides?: SettingOverrides) {
  const v = settingValue(m, name, overrides);
  return typeof v === "number" ? v : undefined;
}

/**
 * `--set sut.name=value` items (already matching sut.setting=value) into overrides per SUT, each
 * checked against its SUT's declaration: an unknown SUT or setting, or a value out of range, is an
 * error naming the item and the accepted range.
 */
export function parseSetFlags(items: string[], manifests: Pick<Manifest, "name" | "settings">[]) {
  const out: Record<string, SettingOverrides> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    const [sut, ...rest] = item.slice(0, eq).split(".");
    const name = rest.join(".").toLowerCase();
    const m = manifests.find((x) => x.name === sut);
    if (!m)
      throw new SettingInputError(
        `--set ${item}: SUT "${sut}" is not in this run (${manifests.map((x) => x.name).join(", ")})`,
      );
    const d = (m.settings ?? {})[name];
    if (!d) {
      const known =
        Object.entries(m.settings ?? {})
          .map(([n, x]) => `${n} (${describeRange(x)})`)
          .join(", ") || "none";
      throw new SettingInputError(`--set ${item}: ${sut} has no setting "${name}"; declared: ${known}`);
    }
    const raw = item.slice(eq + 1);
    const problem = settingProblem(d, raw);
    if (problem) throw new SettingInputError(`--set ${item}: ${sut}.${name} must be ${describeRange(d)}, got "${raw}"`);
    (out[m.name] ??= {})[settingEnvName(name)] = raw;
  }
  return out;
}

/**
 * The overrides of a named profile from sut.json (`profiles`), as --set would give them; a SUT without that
 * profile runs on its defaults (empty overrides). loadManifest() already checked the values.
 */
export function profileOverrides(m: Pick<Manifest, "profiles">, profile: string): SettingOverrides {
  const values = m.profiles?.[profile] ?? {};
  return Object.fromEntries(Object.entries(values).map(([name, v]) => [settingEnvName(name), String(v)]));
}
