// npm run sut-burst -- [naive,keyed-transactional,...] [--orders 1200] [--products 120] [--seed 7] [--bootstrap
// host:port]
// One burst of concurrent orders (products with stock 1-3) against each SUT (2 instances each, its
// own namespace, the same order stream), then per SUT: units sold vs stock, duplicates, undecided.
// Starts an embedded single-node Kafka unless --bootstrap is given.
// First, before kafkajs loads (the decision reader is read_committed; see the module).
import { Command } from "commander";
import { EmbeddedCluster } from "../harness/cluster/embedded.ts";
import { listSuts, loadManifest } from "../harness/sut/manifest.ts";
import type { Connection } from "../systems-under-test/contract/index.ts";
import { SutRun, summarize, type OrderSpec } from "../test/support/sut-run.ts";
import { Rng } from "../harness/scenario/rng.ts";

/** The scenario generator's seeded RNG, as a plain function. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

const program = new Command("sut-burst")
  .argument("[suts]", "comma-separated SUT names (default: naive,keyed-transactional,saga when present)")
  .option("--orders <n>", "orders in the burst", (v) => Number(v), 1200)
  .option("--products <n>", "products (stock 1-3 each)", (v) => Number(v), 120)
  .option("--instances <n>", "instances per SUT", (v) => Number(v), 2)
  .option("--seed <n>", "seed", (v) => Number(v), 7)
  .option("--deadline <sec>", "how long to wait for every order to be decided", (v) => Number(v), 120)
  .option("--bootstrap <list>", "an existing cluster instead of an embedded one")
  .parse();

const opts = program.opts<{
  orders: number;
  products: number;
  instances: number;
  seed: number;
  deadline: number;
  bootstrap?: string;
}>();
const known = listSuts();
const suts = (program.args[0] ?? ["naive", "keyed-transactional", "saga"].filter((s) => known.includes(s)).join(","))
  .split(",")
  .filter(Boolean);
for (const s of suts) loadManifest(s); // fail early on a typo

const rand = rng(opts.seed);
const stock: Record<string, number> = {};
for (let i = 0; i < opts.products; i++) stock[`p-${i}`] = 1 + Math.floor(rand() * 3);
const specs: OrderSpec[] = Array.from({ length: opts.orders }, (_, i) => ({
  orderId: `o-${i}`,
  productId: `p-${Math.floor(rand() * opts.products)}`,
}));

let cluster: EmbeddedCluster | undefined;
const runId =
  new Date().toISOString().replace(/[-:]/g, "").slice(0, 15) + "-" + Math.floor(rand() * 0xffff).toString(16);
const rows: string[][] = [];
try {
  let connection: Connection;
  if (opts.bootstrap) connection = { brokers: opts.bootstrap.split(",") };
  else {
    cluster = await EmbeddedCluster.start({ brokers: 1, log: (l) => console.error(`[kafka] ${l}`) });
    connection = cluster.connection;
  }
  console.error(
    `burst: ${opts.orders} orders over ${opts.products} products, total stock ` +
      `${Object.values(stock).reduce((a, b) => a + b, 0)}, ${opts.instances} instances per SUT, seed ${opts.seed}`,
  );
  for (const sut of suts) {
    const run = await SutRun.create({ sut, connection, ns: `oversell.${runId}.${sut}` });
    try {
      await run.setStock(stock);
      await run.start(opts.instances);
      const t0 = Date.now();
      // The burst: 8 concurrent producer requests.
      const chunks = Array.from({ length: 8 }, (_, k) => specs.filter((_, i) => i % 8 === k));
      const sent = (await Promise.all(chunks.map((c) => run.placeOrders(c)))).flat();
      const ids = sent.map((o) => o.orderId);
      const done = await run.waitQuietly((l) => l.decidedAll(ids, run.manifest.confirms), opts.deadline * 1000);
      const ms = Date.now() - t0;
      // Give late duplicates a moment to show up before counting.
      await new Promise((r) => setTimeout(r, 2000));
      const s = summarize(run.decisions, stock, sent, run.manifest.confirms);
      rows.push([
        sut,
        String(s.orders),
        String(s.decided),
        String(s.undecided.length),
        String(s.duplicates.length),
        String(s.conflicts.length),
        `${s.unitsSold}/${s.stockTotal}`,
        String(s.oversold.length),
        JSON.stringify(s.rejected),
        done ? `${ms} ms` : `not all decided after ${opts.deadline} s`,
      ]);
      console.error(`${sut}: done (logs in ${run.logDir})`);
    } finally {
      await run.stop();
    }
  }
} finally {
  await cluster?.stop();
}

const header = [
  "sut",
  "orders",
  "decided",
  "undecided",
  "duplicates",
  "conflicts",
  "sold/stock",
  "oversold products",
  "rejected",
  "all decided in",
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
console.log(line(header));
for (const r of rows) console.log(line(r));
