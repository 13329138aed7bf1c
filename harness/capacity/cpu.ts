// Where the CPU went during a step: the broker's JVMs, the SUT's instances (every other child this process
// tracks) and the harness itself (load driver, decision reader, judge), sampled from /proc twice a second.
// On a shared 2-core machine this tells "the SUT is CPU-bound" from "the broker or the harness is".
import { processCpuMs } from "../process/proc.ts";
import { trackedPids } from "../process/children.ts";

export type CpuPart = "broker" | "sut" | "harness";

interface Sample {
  atMs: number;
  /** CPU ms used since the previous sample, per part. */
  delta: Record<CpuPart, number>;
}

export class CpuSampler {
  private readonly last = new Map<number, number>();
  private lastHarness = 0;
  private readonly samples: Sample[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly brokerPids: () => number[]) {}

  start(everyMs = 500): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private sample(): void {
    const delta: Record<CpuPart, number> = { broker: 0, sut: 0, harness: 0 };
    const brokers = new Set(this.brokerPids());
    for (const pid of new Set([...trackedPids(), ...brokers])) {
      const ms = processCpuMs(pid);
      if (ms === undefined) continue;
      const prev = this.last.get(pid);
      this.last.set(pid, ms);
      // A pid seen for the first time started since the last sample: all its time is new.
      delta[brokers.has(pid) ? "broker" : "sut"] += ms - (prev ?? 0);
    }
    const u = process.cpuUsage();
    const harness = (u.user + u.system) / 1000;
    delta.harness = harness - this.lastHarness;
    this.lastHarness = harness;
    this.samples.push({ atMs: Date.now(), delta });
  }

  /** Cores busy on average per part over [fromMs, toMs] (1.0 = one core all the time). */
  cores(fromMs: number, toMs: number): Record<CpuPart, number> {
    const sum: Record<CpuPart, number> = { broker: 0, sut: 0, harness: 0 };
    for (let i = 1; i < this.samples.length; i++) {
      const s = this.samples[i]!;
      if (s.atMs <= fromMs || this.samples[i - 1]!.atMs >= toMs) continue;
      for (const k of ["broker", "sut", "harness"] as const) sum[k] += s.delta[k];
    }
    const span = Math.max(1, toMs - fromMs);
    const r = (x: number) => Math.round((x / span) * 100) / 100;
    return { broker: r(sum.broker), sut: r(sum.sut), harness: r(sum.harness) };
  }
}
