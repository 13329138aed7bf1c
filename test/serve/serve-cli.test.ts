// The commands as a user runs them, on the test broker: serve prints where to aim the load, answers on its gateway
// and admin endpoint, and Ctrl-C reaps its instances; the gateway alone; check's --ns flags.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { request } from "undici";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { runCli, stopLiveClis } from "../support/cli.ts";
import { createTopics, testConnection, uniqueNs, until } from "../support/kafka.ts";

const tmp = mkdtempSync(join(tmpdir(), "oversell-serve-cli-"));
afterAll(stopLiveClis);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const field = (out: string, name: string) => new RegExp(`^${name}:\\s+(\\S+)`, "m").exec(out)?.[1];

describe("npm run serve / gateway / check --ns", () => {
  it("serve: prints namespace, bootstrap, gateway and admin; takes orders and restocks; Ctrl-C reaps", async () => {
    const dir = join(tmp, "serve");
    const ns = uniqueNs("serve-cli");
    let seen: { ns: string; running: number[]; pids: number[]; status: number; restock: number } | undefined;
    const run = await runCli(
      "serve",
      ["--sut", "test/fixtures/sleeper-sut", "--bootstrap", inject("bootstrap"), "--ns", ns, "--dir", dir],
      {
        timeoutMs: 120_000,
        onStart: (child, out) => {
          void (async () => {
            const text = await until("serve's banner", () => (field(out(), "admin") ? out() : undefined), 90_000);
            const gateway = field(text, "gateway")!,
              admin = field(text, "admin")!;
            const post = await request(`${gateway}/orders`, {
              method: "POST",
              body: JSON.stringify({ orderId: "cli-1", productId: "p000", quantity: 1, customerId: "c", sentAtMs: 1 }),
            });
            await post.body.dump();
            const restock = await request(`${admin}/admin/restock`, {
              method: "POST",
              body: JSON.stringify({ items: [{ productId: "p000", quantity: 3 }] }),
            });
            await restock.body.dump();
            const status = (await (await request(`${admin}/admin/status`)).body.json()) as {
              ns: string;
              instancesRunning: number[];
            };
            const pids = [0, 1].map((i) =>
              Number(/pid (\d+)/.exec(readFileSync(join(dir, "logs", `sleeper-instance-${i}.log`), "utf8"))![1]),
            );
            seen = {
              ns: status.ns,
              running: status.instancesRunning,
              pids,
              status: post.statusCode,
              restock: restock.statusCode,
            };
            child.kill("SIGINT");
          })().catch((e) => {
            console.error(e);
            child.kill("SIGINT");
          });
        },
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`namespace: ${ns}`);
    expect(run.stdout).toContain(`bootstrap: ${inject("bootstrap")}`);
    expect(run.stdout).toMatch(/npm run check -- --from-topics --bootstrap \S+ --ns \S+ --sut/);
    expect(run.stderr).toMatch(/SIGINT: stopping/);
    expect(seen?.ns).toBe(ns);
    expect(seen?.running).toEqual([0, 1]);
    expect(seen?.status).toBe(202);
    expect(seen?.restock).toBe(200);
    for (const pid of seen!.pids) expect(alive(pid)).toBe(false);
  });

  it("gateway alone: answers /health, exits 0 on Ctrl-C; --bootstrap required, a wrong --ns named", async () => {
    const ns = uniqueNs("gateway-cli");
    const t = topicsFor(ns);
    await createTopics(testConnection(), [t.stock, t.orders, t.decisions], 2);
    let health = 0;
    const run = await runCli("gateway", ["--bootstrap", inject("bootstrap"), "--ns", ns], {
      onStart: (child, out) => {
        void until("the gateway line", () => field(out(), "gateway"), 60_000)
          .then(async (url) => {
            const r = await request(`${url}/health`);
            health = r.statusCode;
            await r.body.dump();
          })
          .finally(() => child.kill("SIGINT"));
      },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(health).toBe(200);
    const missing = await runCli("gateway", ["--ns", ns]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--bootstrap is required/);
    const absent = uniqueNs("no-such-ns");
    const wrongNs = await runCli("gateway", ["--bootstrap", inject("bootstrap"), "--ns", absent]);
    expect(wrongNs.code).toBe(2);
    expect(wrongNs.stderr).toContain(`${absent}.orders is not on`);
  });

  it("check --ns: needs --from-topics, --sut and --bootstrap; a namespace without topics is named", async () => {
    const b = inject("bootstrap");
    const cases: [string[], RegExp][] = [
      [["--ns", "oversell.x.y", "--sut", "naive", "--bootstrap", b], /add --from-topics/],
      [["--from-topics", "--ns", "oversell.x.y", "--bootstrap", b], /--ns needs --sut/],
      [["--from-topics", "--ns", "oversell.x.y", "--sut", "naive"], /--ns needs --bootstrap/],
      [["--from-topics", "--sut", "naive", "--bootstrap", b], /--sut and --out go with --ns/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli("check", args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const ns = uniqueNs("absent");
    const absent = await runCli("check", ["--from-topics", "--ns", ns, "--sut", "naive", "--bootstrap", b]);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain(`${ns}.stock`);
  });
});
