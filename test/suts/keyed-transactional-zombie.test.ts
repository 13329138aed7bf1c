// keyed-transactional: a zombie. SIGSTOP an instance in the middle of a burst for longer than the
// session timeout (its partitions move), then SIGCONT: it wakes up mid-batch with stale state and
// must be fenced (EOS v1: the new owner's InitProducerId bumped the epoch of its transactionalId).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SutRun, summarize } from "../support/sut-run.ts";
import { testConnection, uniqueNs } from "../support/kafka.ts";
import { readCommittedFixStats } from "../../systems-under-test/contract/kafkajs-read-committed.ts";
import type { OrderPlaced } from "../../systems-under-test/contract/index.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("keyed-transactional with a paused (zombie) instance", () => {
  let run: SutRun;
  const stock: Record<string, number> = {};
  const PRODUCTS = 100;

  beforeAll(async () => {
    run = await SutRun.create({
      sut: "keyed-transactional",
      connection: testConnection(),
      ns: uniqueNs("kt-pause-on"),
    });
    for (let i = 0; i < PRODUCTS; i++) stock[`p-${i}`] = 10;
    await run.setStock(stock);
    await run.start(2);
  });
  afterAll(async () => {
    await run?.stop();
  });

  it("decides every order exactly once when a paused owner resumes, without oversell", async () => {
    const sent: OrderPlaced[] = [];
    let loading = true;
    let n = 0;
    // Open-ended load, ~200 orders/s, products round robin: ~15 orders per product overall.
    const loader = (async () => {
      while (loading) {
        const specs = Array.from({ length: 20 }, () => ({ productId: `p-${n++ % PRODUCTS}` }));
        sent.push(...(await run.placeOrders(specs)));
        await sleep(100);
      }
    })();
    try {
      await sleep(1_500);
      run.group.pause(1);
      console.log(`paused instance 1 after ${sent.length} orders`);
      await sleep(14_000); // > session timeout (8 s): its partitions move to instance 0
      run.group.resume(1);
      console.log(`resumed instance 1 after ${sent.length} orders`);
      await sleep(3_000);
    } finally {
      loading = false;
      await loader;
    }
    const ids = sent.map((o) => o.orderId);
    await run.waitQuietly((l) => l.decidedAll(ids), 90_000);
    const s = summarize(run.decisions, stock, sent);
    console.log(
      `orders ${s.orders}, decided ${s.decided}, duplicates ${s.duplicates.length}, undecided ` +
        `${s.undecided.length}, sold ${s.unitsSold} of ${s.stockTotal}, rejected ${JSON.stringify(s.rejected)}`,
    );
    console.log(`test reader, read_committed fix: ${JSON.stringify(readCommittedFixStats())}`);
    for (const id of s.duplicates.slice(0, 5))
      console.log(`duplicate ${id}: ${JSON.stringify(run.decisions.byOrder.get(id))}`);
    expect(s.orders).toBeGreaterThan(1000);
    expect(s.undecided).toEqual([]);
    expect(s.duplicates).toEqual([]);
    expect(s.conflicts).toEqual([]);
    expect(s.oversold).toEqual([]);
    // Demand per product >= 10 = stock: a lost reservation or a lost state change would show here.
    expect(s.unitsSold).toBe(s.stockTotal);
    // Exactly one decision record per order on the topic (not only per terminal type).
    expect(run.decisions.all.length).toBe(sent.length);
    expect(run.group.crashes()).toEqual([]);
    const fenced = readFileSync(run.group.logFile(1), "utf8").match(/old epoch/g)?.length ?? 0;
    console.log(`fencing errors seen by the resumed zombie: ${fenced}`);
  });
});
