// The saga's librdkafka runtime (runtime-confluent.ts) without a broker: a fake client records what a
// transaction does. The EOS v2 claims live here: every transaction, a timer's too, carries offsets through the
// consumer (so the group fences a zombie), and an assignment that splits a task runs none of its halves.
import { describe, expect, it } from "vitest";
import type { CkModule } from "../../systems-under-test/contract/index.ts";
import { ConfluentSide } from "../../systems-under-test/saga/runtime-confluent.ts";
import { Kv, Task, type Emit, type Replica } from "../../systems-under-test/saga/runtime.ts";

interface Call {
  op: string;
  arg?: unknown;
}

/** A client whose producer logs its calls; sendOffsets fails when `fenced` (as for a member the group expelled). */
function fakeClient(o: { fenced?: boolean } = {}) {
  const calls: Call[] = [];
  const consumers: { rebalance_cb: (err: { code: number }, a: object[]) => unknown }[] = [];
  const consumer = {
    connect: async () => {},
    disconnect: async () => {},
    subscribe: async () => {},
    run: async () => {},
  };
  const producer = {
    connect: async () => void calls.push({ op: "connect" }),
    disconnect: async () => {},
    transaction: async () => (calls.push({ op: "begin" }), producer),
    send: async (arg: unknown) => void calls.push({ op: "send", arg }),
    sendOffsets: async (arg: { consumer: unknown; topics: unknown }) => {
      calls.push({ op: "sendOffsets", arg: { viaConsumer: arg.consumer === consumer, topics: arg.topics } });
      if (o.fenced) throw new Error("Failed to commit offsets to transaction: Broker: Unknown member");
    },
    commit: async () => void calls.push({ op: "commit" }),
    abort: async () => void calls.push({ op: "abort" }),
  };
  class Kafka {
    consumer(c: { rebalance_cb: (err: { code: number }, a: object[]) => unknown }) {
      consumers.push(c);
      return consumer;
    }
    producer() {
      return producer;
    }
  }
  const mod: CkModule = { librdkafkaVersion: "test", KafkaJS: { Kafka, logLevel: { WARN: 2 } } };
  return { mod, calls, consumers };
}

/** Exposes the transaction and the assignment for the test. */
class Probe extends ConfluentSide {
  commitNow(task: Task, out: Emit[], consumed?: { topic: string; offset: string }): Promise<boolean> {
    return this.commit(task, out, consumed);
  }
  get tasksAssigned(): number[] {
    return [...this.assigned];
  }
}

async function side(o: { fenced?: boolean } = {}) {
  const client = fakeClient(o);
  const logs: string[] = [];
  const s = new Probe({
    name: "order",
    groupId: "ns.saga.order",
    inputs: ["ns.orders", "ns.saga.replies"],
    changelog: "ns.saga.order-changelog",
    replica: {} as Replica,
    logic: { handle: () => {}, due: () => {} },
    log: (m) => logs.push(m),
    mod: client.mod,
    connection: { brokers: ["127.0.0.1:9092"] },
    instance: "0",
    sessionTimeoutMs: 8000,
  });
  await s.start();
  return { s, logs, ...client };
}

/** Partition 2 of the order side: consumed up to orders 7 and replies 3, a payment timer due. */
function timerTask(): Task {
  const kv = new Kv([
    ["pos:ns.orders", { offset: "7" }],
    ["pos:ns.saga.replies", { offset: "3" }],
  ]);
  kv.put("o:a", { s: "CONFIRMING", productId: "p", quantity: 1 });
  return new Task(2, kv, ["ns.orders", "ns.saga.replies"]);
}

describe("saga on librdkafka (EOS v2)", () => {
  it("a timer's transaction commits the task's positions through the consumer, with the state it changed", async () => {
    const { s, calls } = await side();
    const task = timerTask();
    const out: Emit[] = [{ topic: "ns.saga.reserve-commands", key: "p", value: { type: "Confirm" } }];
    expect(await s.commitNow(task, out)).toBe(true);
    expect(calls.slice(1).map((c) => c.op)).toEqual(["begin", "send", "send", "sendOffsets", "commit"]);
    expect(calls.find((c) => c.op === "sendOffsets")?.arg).toEqual({
      viaConsumer: true,
      topics: [
        { topic: "ns.orders", partitions: [{ partition: 2, offset: "7" }] },
        { topic: "ns.saga.replies", partitions: [{ partition: 2, offset: "3" }] },
      ],
    });
    expect(calls[3]?.arg).toMatchObject({ topic: "ns.saga.order-changelog", messages: [{ key: "o:a", partition: 2 }] });
    expect(task.kv.dirty.size).toBe(0);
    await s.stop();
  });

  it("a member the group expelled cannot commit a timer: the transaction aborts and the task is dropped", async () => {
    const { s, calls, logs } = await side({ fenced: true });
    const task = timerTask();
    expect(await s.commitNow(task, [])).toBe(false);
    expect(calls.slice(1).map((c) => c.op)).toEqual(["begin", "send", "sendOffsets", "abort"]);
    expect(task.dead).toBe(true);
    expect(logs.join("\n")).toMatch(/task 2 transaction \(timers\) failed: .*Unknown member/);
    await s.stop();
  });

  it("runs whole tasks only, and starts an assignment at the committed offsets (returns it as it is)", async () => {
    const { s, consumers, logs } = await side();
    const cb = consumers[0]!.rebalance_cb;
    const whole = [0, 1].flatMap((partition) =>
      ["ns.orders", "ns.saga.replies"].map((topic) => ({ topic, partition })),
    );
    expect(cb({ code: -175 }, whole)).toEqual(whole);
    expect(s.tasksAssigned).toEqual([0, 1]);
    expect(logs.join("\n")).not.toMatch(/not co-partitioned/);
    const split = [
      { topic: "ns.orders", partition: 0 },
      { topic: "ns.orders", partition: 1 },
      { topic: "ns.saga.replies", partition: 1 },
    ];
    cb({ code: -175 }, split);
    expect(s.tasksAssigned).toEqual([1]);
    expect(logs.join("\n")).toMatch(/not co-partitioned/);
    expect(cb({ code: -174 }, split)).toBeUndefined();
    expect(s.tasksAssigned).toEqual([]);
    await s.stop();
  });
});
