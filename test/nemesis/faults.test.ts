import { describe, expect, it } from "vitest";
import { parseFaults, parseFaultSpecs, resolveFaults, validateFaultSpecs } from "../../harness/nemesis/faults.ts";

const L = 20_000;

describe("--faults parser", () => {
  it("accepts the documented examples", () => {
    expect(parseFaultSpecs("crash")).toEqual([{ kind: "crash" }]);
    expect(parseFaultSpecs("crash@2s:3s")).toEqual([{ kind: "crash", at: 2000, duration: 3000 }]);
    expect(parseFaultSpecs("pause,network:blackhole@1s:4s")).toEqual([
      { kind: "pause" },
      { kind: "network", mode: "blackhole", at: 1000, duration: 4000 },
    ]);
    expect(parseFaultSpecs("broker,scale")).toEqual([{ kind: "broker" }, { kind: "scale" }]);
    expect(parseFaultSpecs("crash#1@30%:20%", L)).toEqual([{ kind: "crash", target: 1, at: 6000, duration: 4000 }]);
    expect(parseFaultSpecs("broker:stop#leader@500ms:1.5s")).toEqual([
      { kind: "broker", mode: "stop", target: "leader", at: 500, duration: 1500 },
    ]);
    expect(parseFaultSpecs("broker:roll@3s:2s")).toEqual([{ kind: "broker", mode: "roll", at: 3000, duration: 2000 }]);
    expect(parseFaultSpecs("network:latency=200ms/jitter=50ms")).toEqual([
      { kind: "network", mode: "latency", latencyMs: 200, jitterMs: 50 },
    ]);
    expect(parseFaultSpecs(" network:reset=500ms , broker#2 ")).toEqual([
      { kind: "network", mode: "reset", resetEveryMs: 500 },
      { kind: "broker", target: 2 },
    ]);
  });

  it("rejects bad parts and names them", () => {
    const bad: [string, RegExp][] = [
      ["crash,explode", /"explode".*unknown kind "explode"/],
      ["crash@2:3s", /"crash@2:3s".*start time "2" is not a time/],
      ["crash@2s:soon", /"crash@2s:soon".*duration "soon"/],
      ["crash@1s:2s:3s", /timing "@1s:2s:3s"/],
      ["network:flood", /"network:flood".*network option "flood"/],
      ["crash:fast", /crash takes no options/],
      ["scale#2", /scale faults take no target/],
      ["crash#x", /target "#x" must be an instance index/],
      ["broker#0", /"broker#0".*target/],
      ["broker:kill/stop", /one of kill, stop, roll/],
      ["broker:roll#2", /broker:roll restarts every node; it takes no target/],
      ["crash,,pause", /empty fault/],
      ["", /empty fault/],
      ["crash@10%", /percentage needs the load duration/],
    ];
    for (const [text, why] of bad) {
      expect(() => parseFaultSpecs(text), text).toThrow(why);
    }
  });

  it("defaults: inside the load, one after another, each healed before the load ends (pause: session + 4 s)", () => {
    const r = parseFaults("crash,network:jitter,scale", { loadDurationMs: 60_000 });
    expect(r.map((f) => f.at)).toEqual([18_000, 28_000, 38_000]);
    for (const f of r) expect(f.at + f.duration).toBeLessThanOrEqual(48_000);
    for (let i = 1; i < r.length; i++) expect(r[i]!.at).toBeGreaterThanOrEqual(r[i - 1]!.at + r[i - 1]!.duration);
    expect(r[0]).toMatchObject({ kind: "crash", target: 0 });
    expect(r[1]).toMatchObject({ kind: "network", mode: "jitter", jitterMs: 300 });
    const [p] = parseFaults("pause", { loadDurationMs: 60_000, sessionTimeoutMs: 6000 });
    expect(p).toMatchObject({ kind: "pause", at: 18_000, duration: 10_000 });
    const [b] = resolveFaults([{ kind: "broker" }], { loadDurationMs: 10_000 });
    expect(b).toMatchObject({ target: "leader", mode: "kill", at: 3000 });
  });

  it("validates fault lists from files with field paths", () => {
    expect(validateFaultSpecs([{ kind: "crash", at: 100 }])).toEqual([{ kind: "crash", at: 100 }]);
    expect(() => validateFaultSpecs([{ kind: "network", mode: "flood" }], "scenario.faults")).toThrow(
      /scenario\.faults\.0\.mode/,
    );
  });
});
