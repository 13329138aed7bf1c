// Start, kill, pause, resume and scale the instances of one SUT, from its manifest only.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { READY_LINE } from "../../systems-under-test/contract/instance.ts";
import { connectionToEnv, ENV, type Connection } from "../kafka/connection.ts";
import { spawnChild, tailOfFile, type Child } from "../process/children.ts";
import type { Manifest } from "./manifest.ts";
import { settingsEnv } from "./settings.ts";

export interface InstanceGroupOptions {
  manifest: Manifest;
  ns: string;
  connection: Connection;
  logDir: string;
  /** Overrides and additions to the manifest's env (settings). */
  env?: Record<string, string>;
}

export class SutStartError extends Error {}

interface Slot {
  index: number;
  child?: Child;
  paused: boolean;
  starts: number;
}

export class InstanceGroup {
  private slots = new Map<number, Slot>();
  constructor(readonly opts: InstanceGroupOptions) {}

  logFile(index: number): string {
    return join(this.opts.logDir, `${this.opts.manifest.name}-instance-${index}.log`);
  }

  /** Runs the manifest's build step, if any (once per process per SUT). */
  static build(manifest: Manifest): void {
    if (!manifest.build) return;
    const [cmd, ...args] = manifest.build;
    const r = spawnSync(cmd!, args, { cwd: manifest.dir, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) {
      const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-20).join("\n");
      throw new SutStartError(
        `build of SUT ${manifest.name} failed (${manifest.build.join(" ")}):\n${out || r.error?.message}`,
      );
    }
  }

  async startAll(count = this.opts.manifest.instances): Promise<void> {
    await Promise.all(Array.from({ length: count }, (_, i) => this.start(i)));
  }

  /** Starts instance i and waits for its ready line; throws with its last output if it dies first. */
  async start(index: number): Promise<void> {
    const m = this.opts.manifest;
    const slot = this.slots.get(index) ?? { index, paused: false, starts: 0 };
    this.slots.set(index, slot);
    if (slot.child && slot.child.exitCode() === undefined) return;
    const logFile = this.logFile(index);
    const offset = existsSync(logFile) ? readFileSync(logFile).length : 0;
    const [cmd, ...args] = m.command.map((a) => a.replaceAll("{instance}", String(index)));
    const env = {
      ...process.env,
      ...m.env,
      ...settingsEnv(m, this.opts.env),
      ...connectionToEnv(this.opts.connection),
      [ENV.ns]: this.opts.ns,
      [ENV.instance]: String(index),
      KAFKAJS_NO_PARTITIONER_WARNING: "1",
    };
    slot.child = spawnChild(cmd!, args, { cwd: m.dir, env, logFile });
    slot.paused = false;
    slot.starts++;
    const deadline = Date.now() + m.startTimeoutSec * 1000;
    for (;;) {
      const text = existsSync(logFile) ? readFileSync(logFile).subarray(offset).toString() : "";
      if (text.includes(READY_LINE)) return;
      if (slot.child.exitCode() !== undefined) {
        throw new SutStartError(
          `instance ${index} of ${m.name} exited (code ${slot.child.exitCode()}) ` +
            `before it was ready. Last output:\n${tailOfFile(logFile)}`,
        );
      }
      if (Date.now() > deadline) {
        await slot.child.stop(2000);
        throw new SutStartError(
          `instance ${index} of ${m.name} did not print "${READY_LINE}" ` +
            `within ${m.startTimeoutSec} s. Last output:\n${tailOfFile(logFile)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  child(index: number): Child | undefined {
    return this.slots.get(index)?.child;
  }

  running(): number[] {
    return [...this.slots.values()].filter((s) => s.child && s.child.exitCode() === undefined).map((s) => s.index);
  }

  /** Instances that died on their own (not by our kill): evidence of a crash. */
  crashes(): { index: number; code: number | null | undefined }[] {
    return [...this.slots.values()]
      .filter((s) => s.child && s.child.exitCode() !== undefined && s.child.exitCode() !== -1)
      .map((s) => ({ index: s.index, code: s.child!.exitCode() }));
  }

  async kill(index: number): Promise<void> {
    const c = this.child(index);
    if (!c) return;
    c.signal("SIGKILL");
    await c.exited;
  }

  pause(index: number): void {
    const s = this.slots.get(index);
    if (s?.child?.signal("SIGSTOP")) s.paused = true;
  }

  resume(index: number): void {
    const s = this.slots.get(index);
    if (s?.child?.signal("SIGCONT")) s.paused = false;
  }

  async stop(index: number, graceMs = 10_000): Promise<void> {
    await this.child(index)?.stop(graceMs);
  }

  async stopAll(graceMs = 10_000): Promise<void> {
    await Promise.all([...this.slots.keys()].map((i) => this.stop(i, graceMs)));
  }
}
