// Child commands of perf:instrument (bench, check) with their wall time, output and peak RSS, and the log line.
// Kafka's own tools are run by harness/kafka/tools.ts.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";

/** Each line carries the time and the 1/5/15-min load averages: the machine is shared, figures need their load. */
export const log = (line: string) =>
  console.error(`[instrument ${new Date().toISOString().slice(11, 19)} load ${loadAvgText()}] ${line}`);

export const loadAvgText = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");

export const freshNs = (label: string) => `oversell.instrument-${randomBytes(3).toString("hex")}.${label}`;

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export interface Ran {
  code: number;
  output: string;
  seconds: number;
  /** Peak RSS (VmHWM) of the started process, when asked to watch it. */
  peakRssBytes?: number;
}

/** Runs a command to its end; with watchRss, polls the process's VmHWM (peak RSS) while it runs. */
export async function run(
  cmd: string,
  args: string[],
  opts: { watchRss?: boolean; echo?: boolean } = {},
): Promise<Ran> {
  const start = performance.now();
  const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  const out: string[] = [];
  const take = (d: Buffer) => {
    out.push(d.toString());
    if (opts.echo) process.stderr.write(d);
  };
  p.stdout.on("data", take);
  p.stderr.on("data", take);
  let peak = 0;
  const poll = opts.watchRss ? setInterval(() => (peak = Math.max(peak, vmHwm(p.pid))), 200) : undefined;
  const code = await new Promise<number>((resolve, reject) => {
    p.on("error", reject);
    p.on("exit", (c) => resolve(c ?? 1));
  });
  clearInterval(poll);
  return {
    code,
    output: out.join(""),
    seconds: (performance.now() - start) / 1000,
    peakRssBytes: opts.watchRss ? peak : undefined,
  };
}

function vmHwm(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    // Synchronous read of a tiny proc file; the interval is slow enough for this.
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /VmHWM:\s+(\d+) kB/.exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0; // the process has just exited
  }
}
