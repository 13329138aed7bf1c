// crash, pause and scale faults on a test-only SUT that just waits (no Kafka traffic of its own).
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runNemesis, NemesisError, type NemesisEvent } from "../../harness/nemesis/index.ts";
import { InstanceGroup } from "../../harness/sut/instances.ts";
import { loadManifest } from "../../harness/sut/manifest.ts";
import { testConnection, uniqueNs, until } from "../support/kafka.ts";

/** Process state letter from /proc/<pid>/stat: R, S, T (stopped), Z ... */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

describe("process faults", () => {
  let group: InstanceGroup;
  beforeAll(async () => {
    const manifest = loadManifest(join(import.meta.dirname, "..", "fixtures", "sleeper-sut"));
    group = new InstanceGroup({
      manifest,
      ns: uniqueNs("nemesis"),
      connection: testConnection(),
      logDir: mkdtempSync(join(tmpdir(), "oversell-nemesis-")),
    });
    await group.startAll(2);
  });
  afterAll(async () => {
    await group?.stopAll(2000);
  });

  it("crash: SIGKILL, restart after the duration, events and window recorded", async () => {
    const oldPid = group.child(1)!.pid;
    const events: NemesisEvent[] = [];
    const t0 = Date.now();
    const h = runNemesis([{ kind: "crash", target: 1, at: 100, duration: 500 }], {
      instances: group,
      loadStartMs: t0,
      record: (e) => events.push(e),
    });
    await until("crash injected", () => events.length >= 1 || undefined, 10_000, 20);
    expect(group.running()).not.toContain(1);
    const windows = await h.healed();
    expect(group.running()).toContain(1);
    expect(group.child(1)!.pid).not.toBe(oldPid);
    expect(events.map((e) => [e.type, e.kind, e.target])).toEqual([
      ["fault-start", "crash", "instance-1"],
      ["fault-end", "crash", "instance-1"],
    ]);
    expect(events[0]!.detail).toContain(`SIGKILL pid ${oldPid}`);
    expect(windows).toEqual([{ kind: "crash", target: "instance-1", at: events[0]!.atMs, until: events[1]!.atMs }]);
    expect(windows[0]!.at).toBeGreaterThanOrEqual(t0 + 100);
    expect(group.crashes()).toEqual([]); // our kill is not counted as the SUT crashing
  });

  it("pause: SIGSTOP (state T) for the duration, then SIGCONT", async () => {
    const pid = group.child(0)!.pid;
    const events: NemesisEvent[] = [];
    const h = runNemesis([{ kind: "pause", target: 0, at: 0, duration: 1500 }], {
      instances: group,
      loadStartMs: Date.now(),
      record: (e) => events.push(e),
    });
    await until("pause injected", () => events.length >= 1 || undefined, 10_000, 20);
    expect(procState(pid)).toBe("T");
    await h.healed();
    expect(events.map((e) => e.type)).toEqual(["fault-start", "fault-end"]);
    expect(procState(pid)).not.toBe("T");
    expect(group.running()).toContain(0);
  });

  it("pause lasts longer than the session timeout by default; abort() skips faults not started", async () => {
    const h = runNemesis([{ kind: "pause", at: 3_600_000 }], {
      instances: group,
      loadStartMs: Date.now(),
      sessionTimeoutMs: 6000,
      record: () => {},
    });
    expect(h.faults[0]).toMatchObject({ kind: "pause", duration: 10_000 });
    await expect(h.abort()).resolves.toEqual([]); // never started: nothing recorded, nothing paused
    expect(procState(group.child(0)!.pid)).not.toBe("T");
  });

  it(
    "scale: adds the next unused instance, stops it " + "after the duration; healed() starts pending faults now",
    async () => {
      const events: NemesisEvent[] = [];
      // Scheduled an hour out: healed() must start it immediately instead of waiting.
      const h = runNemesis([{ kind: "scale", at: 3_600_000, duration: 300 }], {
        instances: group,
        loadStartMs: Date.now(),
        record: (e) => events.push(e),
      });
      const windows = await h.healed();
      expect(events.map((e) => [e.type, e.target])).toEqual([
        ["fault-start", "instance-2"],
        ["fault-end", "instance-2"],
      ]);
      expect(windows).toHaveLength(1);
      expect(group.running().sort()).toEqual([0, 1]);
      expect(group.child(2)!.exitCode()).not.toBeUndefined();
    },
  );

  it("a fault that cannot be injected is reported, others still run", async () => {
    const events: NemesisEvent[] = [];
    const h = runNemesis(
      [
        { kind: "crash", target: 7, at: 0, duration: 100 },
        { kind: "pause", target: 1, at: 0, duration: 200 },
      ],
      { instances: group, loadStartMs: Date.now(), record: (e) => events.push(e) },
    );
    const err = await h.healed().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NemesisError);
    expect((err as Error).message).toMatch(/instance 7 is not running/);
    expect((err as NemesisError).windows.map((w) => w.kind)).toEqual(["pause"]);
    expect(procState(group.child(1)!.pid)).not.toBe("T");
  });
});
