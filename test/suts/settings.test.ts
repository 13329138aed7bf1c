// One settings model: declared in sut.json, read by the SUT through the contract, checked by the harness.
import { describe, expect, it } from "vitest";
import { describeRange, Settings, settingsDeclarationSchema } from "../../systems-under-test/contract/settings.ts";
import { listSuts, loadManifest } from "../../harness/sut/manifest.ts";
import { checkOverrides, numberSetting, parseSetFlags, settingsEnv } from "../../harness/sut/settings.ts";

const declared = settingsDeclarationSchema.parse({
  batch_size: { type: "integer", default: 100, min: 1, meaning: "records per batch" },
  rate: { type: "number", default: 0.1, min: 0, max: 1, meaning: "a share" },
  mode: { type: "enum", default: "on", values: ["on", "off"], meaning: "on or off" },
  partitions: { type: "integer", min: 1, meaning: "no default" },
});

describe("contract settings (what a SUT reads)", () => {
  it("gives defaults, parses numbers and enum values from OVERSELL_SETTING_*", () => {
    const s = Settings.fromEnv(declared, { OVERSELL_SETTING_RATE: "0.5", OVERSELL_SETTING_MODE: "off" });
    expect(s.number("batch_size")).toBe(100);
    expect(s.number("rate")).toBe(0.5);
    expect(s.choice("mode")).toBe("off");
    expect(s.optionalNumber("partitions")).toBeUndefined();
  });

  it("rejects a bad value naming the variable, the value and the range", () => {
    expect(() => Settings.fromEnv(declared, { OVERSELL_SETTING_BATCH_SIZE: "0" })).toThrow(
      /OVERSELL_SETTING_BATCH_SIZE="0" is not an integer >= 1 \(batch_size: records per batch\)/,
    );
    expect(() => Settings.fromEnv(declared, { OVERSELL_SETTING_BATCH_SIZE: "1.5" })).toThrow(/not an integer/);
    expect(() => Settings.fromEnv(declared, { OVERSELL_SETTING_RATE: "abc" })).toThrow(/not a number in \[0, 1\]/);
    expect(() => Settings.fromEnv(declared, { OVERSELL_SETTING_MODE: "maybe" })).toThrow(/not one of on, off/);
    expect(() => Settings.fromEnv(declared, { OVERSELL_SETTING_NOPE: "1" })).toThrow(
      /OVERSELL_SETTING_NOPE: not declared/,
    );
  });

  it("rejects a declaration whose default is out of its own range", () => {
    const r = settingsDeclarationSchema.safeParse({ x: { type: "integer", default: 0, min: 1, meaning: "m" } });
    expect(r.success).toBe(false);
    expect(describeRange({ type: "integer", min: 6000, max: 60000, meaning: "m" })).toBe("an integer in [6000, 60000]");
  });
});

describe("harness settings (what the harness checks and reads)", () => {
  const m = { name: "x", settings: declared };

  it("--set is checked against the declaration", () => {
    expect(parseSetFlags(["x.batch_size=5"], [m])).toEqual({ x: { OVERSELL_SETTING_BATCH_SIZE: "5" } });
    expect(() => parseSetFlags(["x.batch_size=-1"], [m])).toThrow(/x\.batch_size must be an integer >= 1, got "-1"/);
    expect(() => parseSetFlags(["x.size=1"], [m])).toThrow(/x has no setting "size"; declared: batch_size/);
    expect(() => parseSetFlags(["y.size=1"], [m])).toThrow(/SUT "y" is not in this run/);
  });

  it("instances get every default, overrides replace them, bad overrides are refused", () => {
    expect(settingsEnv(m, { OVERSELL_SETTING_RATE: "1" })).toEqual({
      OVERSELL_SETTING_BATCH_SIZE: "100",
      OVERSELL_SETTING_RATE: "1",
      OVERSELL_SETTING_MODE: "on",
    });
    expect(() => checkOverrides(m, { OVERSELL_SETTING_MODE: "maybe" })).toThrow(
      /x\.mode="maybe" is not one of on, off/,
    );
  });

  it("every SUT declares its settings in sut.json; the harness reads TTL and session timeout there", () => {
    for (const name of listSuts()) {
      const sut = loadManifest(name);
      expect(Object.keys(sut.settings ?? {}).length, name).toBeGreaterThan(0);
      expect(
        Object.keys(sut.env).filter((k) => k.startsWith("OVERSELL_SETTING_")),
        name,
      ).toEqual([]);
    }
    const saga = loadManifest("saga");
    expect(saga.reservationTtlMs).toBe(5000);
    expect(numberSetting(saga, "reservation_ttl_ms", { OVERSELL_SETTING_RESERVATION_TTL_MS: "1500" })).toBe(1500);
    expect(loadManifest("keyed-transactional").sessionTimeoutMs).toBe(8000);
    expect(loadManifest("kafka-streams").sessionTimeoutMs).toBe(6000);
  });
});
