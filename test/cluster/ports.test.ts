// Free-port picking for the embedded brokers: one cluster needs several ports at once, all distinct.
import { describe, expect, it } from "vitest";
import { freePorts, portIsFree } from "../../harness/cluster/ports.ts";

describe("freePorts", () => {
  it("returns distinct free ports, none of the excluded ones, and releases them", async () => {
    const first = await freePorts(3);
    const ports = await freePorts(12, first);
    expect(new Set(ports).size).toBe(12);
    for (const p of ports) expect(first).not.toContain(p);
    for (const p of ports) expect(await portIsFree(p)).toBe(true);
  });
});
