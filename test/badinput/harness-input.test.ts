// Bad input to the harness itself, through the bench CLI as a child process: scenario files, flags,
// unreachable or wrong clusters, and a SUT that will not start. Each fails fast, says why, exits 2.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../harness/cluster/ports.ts";
import { resultSchema } from "../../harness/report/result-schema.ts";
import { testKafka } from "../support/kafka.ts";
import { ROOT, runCli, runProcesses, stopLiveClis } from "./support.ts";

const tmp = mkdtempSync(join(tmpdir(), "oversell-badinput-"));
const servers: Server[] = [];
afterAll(() => {
  stopLiveClis();
  for (const s of servers) s.close();
});

async function listen(onConnection: Parameters<typeof createServer>[1]): Promise<number> {
  const s = createServer(onConnection);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return (s.address() as { port: number }).port;
}

async function runTopics(runId: string): Promise<string[]> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).filter((t) => t.startsWith(`oversell.${runId}.`));
  } finally {
    await admin.disconnect();
  }
}

const USAGE = /^error: [^\n]+\nusage: npm run bench -- /;

describe("scenario files", () => {
  const bad = {
    name: "bad name!",
    products: { count: 0, initialStock: { dist: "uniform", min: 5, max: 2 } },
    demand: { ordersPerProduct: "many", quantity: -1 },
    timing: { kind: "rate", ratePerSec: -1, durationMs: 0 },
    invalid: { rate: 2, kinds: ["nope"] },
    kafka: { partitions: 100 },
    drainTimeoutMs: 5,
    extra: 1,
  };
  // Every invalid field, with the shape it should have.
  const expected: [string, RegExp][] = [
    ["name", /letters, digits/],
    ["products.count", />=1/],
    ["products.initialStock.max", /max must be at least min/],
    ["demand.ordersPerProduct", /expected number, received string/],
    ["demand.quantity", />=1/],
    ["timing.ratePerSec", />0/],
    ["timing.durationMs", />=1/],
    ["invalid.rate", /<=1/],
    ["invalid.kinds.0", /expected one of "bad-json"/],
    ["kafka.partitions", /<=64/],
    ["drainTimeoutMs", />=1000/],
    ["(top level)", /Unrecognized key: "extra"/],
  ];

  it(
    "every invalid field reported at once with its path and " +
      "expected shape; exit 2; no JVM, no topic, no run folder",
    async () => {
      const file = join(tmp, "bad-scenario.json");
      writeFileSync(file, JSON.stringify(bad, null, 2));
      // Embedded (a JVM would start if validation came late) and external (topics would be created).
      const embeddedOut = join(tmp, "never-embedded");
      const e = await runCli("bench", ["--scenario", file, "--sut", "naive", "--out", embeddedOut, "--no-progress"], {
        timeoutMs: 60_000,
      });
      const runId = `badscenario-${Date.now().toString(36)}`;
      const x = await runCli(
        "bench",
        [
          "--scenario",
          file,
          "--sut",
          "naive",
          "--bootstrap",
          inject("bootstrap"),
          "--run-id",
          runId,
          "--out",
          join(tmp, "never-external"),
          "--no-progress",
        ],
        { timeoutMs: 60_000 },
      );
      for (const r of [e, x]) {
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`${file} is not a valid scenario:`);
        for (const [path, shape] of expected)
          expect(r.stderr).toMatch(new RegExp(`^  - ${path.replace(/[.()]/g, "\\$&")}: .*${shape.source}`, "m"));
        expect(r.stderr.match(/^ {2}- /gm)!.length).toBe(expected.length);
        expect(r.stderr).not.toMatch(/starting embedded Kafka|Kafka \d|instance\(s\) ready/);
        expect(r.stdout).toBe("");
      }
      expect(existsSync(embeddedOut), "no run folder, so no kafka.log and no history").toBe(false);
      expect(existsSync(join(tmp, "never-external"))).toBe(false);
      expect(await runTopics(runId)).toEqual([]);
      expect(runProcesses(runId, e.pid)).toEqual([]);
    },
  );

  it("a file that is not JSON/YAML, and a missing file: one clear error, exit 2", async () => {
    const broken = join(tmp, "broken.yaml");
    writeFileSync(broken, "name: x\nproducts: [unclosed\n");
    const y = await runCli("bench", ["--scenario", broken, "--bootstrap", "127.0.0.1:9"], { timeoutMs: 60_000 });
    expect(y.code).toBe(2);
    expect(y.stderr).toMatch(new RegExp(`^error: ${broken.replace(/[.]/g, "\\.")} could not be read: `));
    const m = await runCli("bench", ["--scenario", join(tmp, "no-such.json"), "--bootstrap", "127.0.0.1:9"], {
      timeoutMs: 60_000,
    });
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(
      /^error: no scenario ".*no-such\.json": not a built-in \(last-unit, .*\) and no such file/,
    );
  });
});

describe("flags", () => {
  // Unknown, malformed and conflicting flags: one line saying which, then the usage; exit 2.
  const cases: [string[], RegExp][] = [
    [["--frobnicate"], /unknown option '--frobnicate'/],
    [["--seed", "abc"], /--seed: a non-negative integer/],
    [["--brokers", "2"], /--brokers: 1 or 3/],
    [
      ["--brokers", "3", "--bootstrap", "127.0.0.1:9"],
      /--brokers is for the embedded cluster; it conflicts with --bootstrap/,
    ],
    [
      ["--kafka-version", "4.1.1", "--bootstrap", "127.0.0.1:9"],
      /--kafka-version is for the embedded cluster; it conflicts with --bootstrap/,
    ],
    [["--ssl"], /--ssl needs --bootstrap/],
    [["--sasl-username", "u"], /--sasl-username needs --bootstrap/],
    [["--bootstrap", "127.0.0.1:9", "--sasl-mechanism", "plain"], /--sasl-mechanism and --sasl-username go together/],
    [["--bootstrap", "localhost"], /--bootstrap: expected host:port/],
    [["--set", "nope.x=1", "--sut", "naive"], /--set nope\.x=1: SUT "nope" is not in this run/],
    [
      ["--set", "naive.x=1", "--sut", "naive"],
      /--set naive\.x=1: naive has no setting "x"; declared: batch_size \(an integer >= 1\)/,
    ],
    [
      ["--set", "naive.batch_size=0", "--sut", "naive"],
      /--set naive\.batch_size=0: naive\.batch_size must be an integer >= 1, got "0"/,
    ],
    [
      ["--set", "saga.payment_failure_rate=2", "--sut", "saga"],
      /saga\.payment_failure_rate must be a number in \[0, 1\], got "2"/,
    ],
    [["--instances", "0"], /--instances: 1 to 16/],
    [["--driver", "ftp"], /--driver: kafka or http/],
    [["--run-id", "a.b"], /--run-id: letters, digits, '_' and '-' \(no '\.'\)/],
    [["--run-id", "../x"], /--run-id: /],
    [["extra-argument"], /too many arguments/],
    [["--seed"], /option '--seed <n>' argument missing/],
  ];

  it("each: a one-line error and the usage, exit 2, nothing started", async () => {
    for (const [args, message] of cases) {
      const r = await runCli("bench", ["--out", join(tmp, "never-flags"), ...args], { timeoutMs: 60_000 });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(USAGE);
      expect(r.stderr.split("\n")[0], args.join(" ")).toMatch(message);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(2);
    }
    expect(existsSync(join(tmp, "never-flags"))).toBe(false);
    // check and clean speak the same way.
    const c = await runCli("check", [tmp, "--from-topics", "--bootstrap", "127.0.0.1:9", "--sasl-username", "u"], {
      timeoutMs: 60_000,
    });
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/^error: --sasl-mechanism and --sasl-username go together\nusage: npm run check -- /);
    const k = await runCli("clean", ["--bootstrap", "127.0.0.1:9", "--run", "x", "--older-than", "1d"], {
      timeoutMs: 60_000,
    });
    expect(k.code).toBe(2);
    expect(k.stderr).toMatch(/^error: give exactly one of --older-than and --run\nusage: npm run clean -- /);
  }, 300_000);
});

describe("unreachable or wrong bootstrap", () => {
  let silentPort = 0;
  let httpPort = 0;
  beforeAll(async () => {
    silentPort = await listen((s) => s.on("data", () => {}));
    httpPort = await listen((s) => s.on("data", () => s.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")));
  });

  it(
    "nothing listening, a silent port, an HTTP port, TLS to a " +
      "plaintext port: exit 2 within 30 s, a hint naming the cause",
    async () => {
      const closed = await freePort();
      const cases: [string, string[], RegExp][] = [
        [
          "nothing listening",
          ["--bootstrap", `127.0.0.1:${closed}`],
          new RegExp(`hint: nothing is listening at 127\\.0\\.0\\.1:${closed}`),
        ],
        [
          "open port, never answers",
          ["--bootstrap", `127.0.0.1:${silentPort}`],
          /did not answer as a Kafka broker[^]*hint: it may not be a Kafka port/,
        ],
        [
          "open port, speaks HTTP",
          ["--bootstrap", `127.0.0.1:${httpPort}`],
          /did not answer as a Kafka broker[^]*hint: it may not be a Kafka port/,
        ],
        [
          "TLS to a plaintext listener",
          ["--bootstrap", inject("bootstrap"), "--ssl", "--ssl-insecure"],
          /TLS handshake did not complete[^]*hint: the port does not speak TLS/,
        ],
      ];
      for (const [what, args, hint] of cases) {
        const out = join(tmp, `unreachable-${closed}-${what.replace(/\W+/g, "-")}`);
        const r = await runCli("bench", [...args, "--sut", "naive", "--out", out, "--no-progress"], {
          timeoutMs: 60_000,
        });
        console.log(`${what}: exit ${r.code} after ${r.ms} ms: ${r.stderr.trim().split("\n").slice(-2).join(" / ")}`);
        expect(r.code, what).toBe(2);
        expect(r.stderr, what).toMatch(hint);
        expect(r.ms, what).toBeLessThan(30_000);
        // Nothing ran: no SUT instance log.
        expect(existsSync(join(out, "logs")), what).toBe(false);
      }
    },
    200_000,
  );
});

describe("a SUT that will not start", () => {
  it("its last output is shown, it is unknown, and the other SUT still runs and is judged", async () => {
    const fixture = join(ROOT, "test", "fixtures", "failing-sut");
    const scenario = join(tmp, "tiny.json");
    writeFileSync(
      scenario,
      JSON.stringify({
        name: "tiny",
        products: { count: 5, initialStock: 1 },
        demand: { ordersPerProduct: 2 },
        timing: { kind: "burst", windowMs: 100 },
        kafka: { partitions: 2 },
        drainTimeoutMs: 20_000,
      }),
    );
    const out = join(tmp, "failing-then-naive");
    mkdirSync(tmp, { recursive: true });
    const r = await runCli(
      "bench",
      [
        "--bootstrap",
        inject("bootstrap"),
        "--sut",
        `${fixture},naive`,
        "--scenario",
        scenario,
        "--instances",
        "1",
        "--out",
        out,
        "--no-progress",
      ],
      { timeoutMs: 150_000 },
    );
    expect(r.code, r.stderr).toBe(2);
    // Both lines the instance printed (stdout and stderr) reach the terminal.
    expect(r.stderr).toContain("failing instance 0: reading config");
    expect(r.stderr).toContain("fatal: cannot open /nonexistent/failing-sut.conf (exit 3)");
    expect(r.stderr).toMatch(/instance 0 of failing exited \(code 3\) before it was ready/);
    const result = resultSchema.parse(JSON.parse(readFileSync(join(out, "result.json"), "utf8")));
    expect(result.verdict).toBe("unknown");
    const [failing, naive] = result.suts;
    expect(failing).toMatchObject({ name: "failing", verdict: "unknown" });
    expect(failing!.verdictReason).toMatch(/^did not start: instance 0 of failing exited \(code 3\)/);
    expect(naive!.name).toBe("naive");
    expect(naive!.verdict).not.toBe("unknown");
    expect(naive!.orders.acked).toBe(10);
    expect(naive!.orders.decided).toBe(10);
    expect(r.stdout).toMatch(/failing\s+unknown/);
    expect(readFileSync(join(out, "logs", "failing-instance-0.log"), "utf8")).toContain("cannot open");
  }, 180_000);
});
