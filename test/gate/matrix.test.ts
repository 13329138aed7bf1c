// The gate without a broker: the matrix, expectation matching, junit.xml and the summary table,
// on synthetic cell results.
import { describe, expect, it } from "vitest";
import { ALL_CHECKS } from "../../harness/checker/types.ts";
import {
  buildMatrix,
  cellId,
  FAULT_SPECS,
  GATE_EXPECTATIONS,
  planRuns,
  selectCells,
  type GateCell,
  type GateFault,
} from "../../harness/gate/matrix.ts";
import { gateExitCode, judgeCell, tallyByCell, type GateRunResult } from "../../harness/gate/outcome.ts";
import { renderGateJunit, renderGateSummary } from "../../harness/gate/render.ts";
import { FAULT_KINDS, parseFaultSpecs } from "../../harness/nemesis/faults.ts";
import type { SutResult } from "../../harness/report/result-schema.ts";
import { validateScenario } from "../../harness/scenario/load.ts";
import { loadManifest } from "../../harness/sut/manifest.ts";

const manifests = (sut: string) => loadManifest(sut);

function sutResult(o: {
  name: string;
  verdict: SutResult["verdict"];
  expectedViolations?: string[];
  counts?: Record<string, number>;
  claims?: string[];
}): SutResult {
  const ev = o.expectedViolations ?? [];
  return {
    name: o.name,
    namespace: `oversell.x.${o.name}`,
    instances: 2,
    claims: o.claims ?? ["oversell", "duplicate", "conflict", "lost", "phantom"],
    expectedViolations: ev,
    expected: ev.length ? "fail" : "pass",
    verdict: o.verdict,
    violations: Object.fromEntries(
      ALL_CHECKS.map((c) => [
        c,
        {
          count: o.counts?.[c] ?? 0,
          examples: (o.counts?.[c] ?? 0) > 0 ? [{ id: "o-1", detail: `two <decisions> & "more"` }] : [],
        },
      ]),
    ),
    orders: { sent: 100, acked: 100, decided: 100, reserved: 60, confirmed: 0, rejected: 40 },
    units: { stock: 60, sold: 60 + (o.counts?.oversell ?? 0), held: 0 },
    latencyUs: {
      decision: { p50: 10_000, p90: 20_000, p99: 123_400, p999: 200_000, max: 300_000 },
      ack: { p50: 1, p90: 1, p99: 1, p999: 1, max: 1 },
      sendDelay: { p50: 1, p90: 1, p99: 1, p999: 1, max: 1 },
    },
    throughput: { offeredPerSec: 40, decidedPerSec: 40 },
    faults: [],
    durationMs: 20_000,
  };
}

function run(cell: GateCell, sut: SutResult | undefined, seed = 11, repetition = 0): GateRunResult {
  return {
    cell,
    repetition,
    seed,
    ...judgeCell(cell, sut),
    sut,
    runDir: `01-${cell.sut}`,
    wallMs: 21_500,
    ...(sut ? {} : { error: "broker gone" }),
  };
}

describe("gate matrix", () => {
  const cells = buildMatrix(manifests);
  const ids = cells.map((c) => c.id);

  it(
    "covers every fault kind and no fault for keyed-transactional, " +
      "saga and kafka-streams, naive and the broken variant",
    () => {
      for (const sut of ["keyed-transactional", "saga", "kafka-streams"]) {
        for (const f of ["none", ...FAULT_KINDS] as const) expect(ids).toContain(cellId(sut, f));
      }
      expect(ids).toContain("naive[none]");
      expect(ids).toContain("keyed-transactional(transactions=off)[pause]");
      expect(new Set(ids).size).toBe(ids.length);
    },
  );

  it('runs the broker faults of the three correct SUTs on three brokers, selected by --only "(3 brokers)"', () => {
    const three = selectCells(cells, "(3 brokers)");
    expect(three.map((c) => c.id)).toEqual([
      "keyed-transactional[broker] (3 brokers)",
      "saga[broker] (3 brokers)",
      "kafka-streams[broker] (3 brokers)",
      "kafka-streams(roll)[broker] (3 brokers)",
    ]);
    for (const c of three) {
      expect(c.brokers).toBe(3);
      expect(c.faults).toBe(c.variant === "roll" ? "broker:roll@3s:2s" : "broker");
      expect(c.expectedViolations).toEqual([]);
      // The TypeScript SUTs' cells are in the CI set; Kafka Streams' only with --full.
      expect(c.ci).toBe(c.sut !== "kafka-streams");
    }
    expect(cells.filter((c) => c.brokers !== 3).every((c) => c.brokers === 1 && !c.id.includes("brokers"))).toBe(true);
    // A substring selects the three-broker cell too: `--only` matches ids by substring.
    expect(selectCells(cells, "keyed-transactional[broker]").map((c) => c.id)).toEqual([
      "keyed-transactional[broker]",
      "keyed-transactional[broker] (3 brokers)",
    ]);
  });

  it("takes expectations from the manifests, and the gate's table for the variant", () => {
    const byId = new Map(cells.map((c) => [c.id, c]));
    expect(byId.get("naive[none]")).toMatchObject({
      expectedViolations: ["oversell"],
      expectationSource: "manifest",
      scenario: { name: "last-unit" },
    });
    expect(byId.get("saga[network]")).toMatchObject({
      expectedViolations: [],
      expectationSource: "manifest",
      faults: FAULT_SPECS.network,
    });
    const v = byId.get("keyed-transactional(transactions=off)[pause]")!;
    expect(v.expectationSource).toBe("gate");
    expect(v.expectedViolations.length).toBeGreaterThan(0);
    expect(v.settings?.OVERSELL_SETTING_TRANSACTIONS).toBe("off");
    expect(v.reason).toBeTruthy();
    expect(byId.get("keyed-transactional[none]")?.faults).toBeUndefined();
    // Sells ahead of the restock: only oversell-in-time can catch it, on the scenario with a late restock.
    expect(byId.get("keyed-transactional(backorder=2)[none]")).toMatchObject({
      expectedViolations: ["oversell-in-time"],
      expectationSource: "gate",
      settings: { OVERSELL_SETTING_BACKORDER: "2" },
      scenario: { name: "gate-late-restock" },
    });
  });

  it("every cell's scenario and fault text are valid, and faults heal inside the load or just after it", () => {
    for (const c of cells) {
      const s = validateScenario(c.scenario, c.id);
      if (c.faults) expect(() => parseFaultSpecs(c.faults!, 12_000), c.id).not.toThrow();
      expect(s.drainTimeoutMs).toBeGreaterThanOrEqual(30_000);
    }
  });

  it("refuses a table entry for a cell that does not exist, and a duplicate cell", () => {
    expect(() =>
      buildMatrix(manifests, undefined, [
        ...GATE_EXPECTATIONS,
        { sut: "saga", fault: "meteor" as GateFault, expectedViolations: ["lost"], reason: "x" },
      ]),
    ).toThrow(/no cell saga\[meteor\]/);
    expect(() => buildMatrix(manifests, [{ sut: "saga", faults: ["none", "none"] }], [])).toThrow(/twice/);
  });

  it("--only selects by substring (comma-separated); --repeat plans seed + k", () => {
    expect(selectCells(cells, "naive,keyed-transactional[none]").map((c) => c.id)).toEqual([
      "keyed-transactional[none]",
      "naive[none]",
    ]);
    expect(selectCells(cells, "[pause]").map((c) => c.id)).toEqual([
      "keyed-transactional[pause]",
      "saga[pause]",
      "kafka-streams[pause]",
      "keyed-transactional(transactions=off)[pause]",
      "keyed-transactional(client=confluent)[pause]",
      "saga(client=confluent)[pause]",
    ]);
    expect(selectCells(cells, "nothing-like-this")).toEqual([]);
    const plans = planRuns(selectCells(cells, "naive"), 7, 3);
    expect(plans.map((p) => [p.cell.id, p.seed, p.repetition])).toEqual([
      ["naive[none]", 7, 0],
      ["naive[none]", 8, 1],
      ["naive[none]", 9, 2],
    ]);
  });
});

describe("gate tiers", () => {
  const plan = [
    { sut: "naive", faults: ["none" as const] },
    { sut: "saga", faults: ["none" as const, "broker" as const], ci: false },
  ];
  const cells = buildMatrix(manifests, plan, []);

  it("the CI set by default, every cell with --full, and --only picks from the whole matrix", () => {
    expect(cells.map((c) => [c.id, c.ci])).toEqual([
      ["naive[none]", true],
      ["saga[none]", false],
      ["saga[broker]", false],
    ]);
    expect(selectCells(cells).map((c) => c.id)).toEqual(["naive[none]"]);
    expect(selectCells(cells, undefined, true).map((c) => c.id)).toEqual(["naive[none]", "saga[none]", "saga[broker]"]);
    expect(selectCells(cells, "saga[broker]").map((c) => c.id)).toEqual(["saga[broker]"]);
  });
});

describe("gate expectations", () => {
  const cells = new Map(buildMatrix(manifests).map((c) => [c.id, c]));
  const kt = cells.get("keyed-transactional[pause]")!;
  const naive = cells.get("naive[none]")!;
  const variant = cells.get("keyed-transactional(transactions=off)[pause]")!;

  it("a correct SUT passing matches; a violation does not", () => {
    expect(judgeCell(kt, sutResult({ name: "keyed-transactional", verdict: "pass" }))).toMatchObject({
      expected: "pass",
      verdict: "pass",
      match: true,
    });
    const bad = judgeCell(kt, sutResult({ name: "keyed-transactional", verdict: "fail", counts: { duplicate: 3 } }));
    expect(bad).toMatchObject({ expected: "pass", verdict: "fail", match: false });
  });

  it("an expected-fail cell matches only when its expected violations were caught", () => {
    expect(
      judgeCell(
        naive,
        sutResult({
          name: "naive",
          verdict: "fail",
          claims: [],
          expectedViolations: ["oversell"],
          counts: { oversell: 4 },
        }),
      ).match,
    ).toBe(true);
    expect(
      judgeCell(naive, sutResult({ name: "naive", verdict: "pass", claims: [], expectedViolations: ["oversell"] }))
        .match,
    ).toBe(false);
    // Failing for another reason is not catching what was expected.
    const other = judgeCell(
      variant,
      sutResult({
        name: "keyed-transactional",
        verdict: "fail",
        expectedViolations: variant.expectedViolations,
        counts: { lost: 2 },
      }),
    );
    expect(other.match).toBe(false);
    expect(other.note).toMatch(/not caught/);
  });

  it("unknown and harness errors never match; exit codes 0/1/2", () => {
    const unknown = run(kt, sutResult({ name: "keyed-transactional", verdict: "unknown" }));
    const error = run(kt, undefined);
    const ok = run(kt, sutResult({ name: "keyed-transactional", verdict: "pass" }));
    const failed = run(kt, sutResult({ name: "keyed-transactional", verdict: "fail", counts: { oversell: 1 } }));
    expect([unknown.match, error.match, ok.match, failed.match]).toEqual([false, false, true, false]);
    expect(gateExitCode([ok])).toBe(0);
    expect(gateExitCode([ok, unknown])).toBe(2);
    expect(gateExitCode([ok, error])).toBe(2);
    expect(gateExitCode([ok, unknown, failed])).toBe(1);
    expect(gateExitCode([])).toBe(2);
  });

  it("tallies misses per cell over repetitions", () => {
    const r = [
      run(kt, sutResult({ name: "keyed-transactional", verdict: "pass" }), 11, 0),
      run(kt, sutResult({ name: "keyed-transactional", verdict: "fail", counts: { lost: 1 } }), 12, 1),
      run(
        naive,
        sutResult({
          name: "naive",
          verdict: "fail",
          claims: [],
          expectedViolations: ["oversell"],
          counts: { oversell: 2 },
        }),
        11,
        0,
      ),
    ];
    expect(tallyByCell(r)).toEqual([
      { id: "keyed-transactional[pause]", runs: 2, missed: 1, seedsMissed: [12] },
      { id: "naive[none]", runs: 1, missed: 0, seedsMissed: [] },
    ]);
  });
});

describe("gate junit.xml and summary", () => {
  const cells = new Map(buildMatrix(manifests).map((c) => [c.id, c]));
  const sagaPause = cells.get("saga[pause]")!;
  const naive = cells.get("naive[none]")!;
  const variant = cells.get("keyed-transactional(transactions=off)[pause]")!;
  const runs = [
    run(
      sagaPause,
      sutResult({
        name: "saga",
        verdict: "fail",
        claims: ["oversell", "duplicate", "lost", "stuck"],
        counts: { oversell: 2 },
      }),
    ),
    run(
      naive,
      sutResult({
        name: "naive",
        verdict: "fail",
        claims: [],
        expectedViolations: ["oversell"],
        counts: { oversell: 13 },
      }),
    ),
    run(
      variant,
      sutResult({
        name: "keyed-transactional",
        verdict: "fail",
        expectedViolations: variant.expectedViolations,
        counts: Object.fromEntries(variant.expectedViolations.map((v) => [v, 5])),
      }),
    ),
    run(cells.get("keyed-transactional[broker]")!, undefined),
  ];

  it(
    "has a testcase per cell and invariant, the fault kind " + "in its name, failures where expectations were missed",
    () => {
      const xml = renderGateJunit(runs, { gateId: "g1", startedAt: "2026-11-25T00:00:00.000Z" });
      expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
      for (const inv of ["oversell", "duplicate", "lost", "stuck", "phantom"])
        expect(xml).toContain(`<testcase name="saga[pause] ${inv}" classname="oversell.gate.saga"`);
      // saga claims oversell: its violation is a failure, with the escaped example.
      expect(xml).toMatch(
        new RegExp(
          String.raw`<testcase name="saga\[pause\] oversell"[^>]*>\s*<failure message="2 oversell violation\(s\)">` +
            String.raw`o-1: two &lt;decisions&gt; &amp; &quot;more&quot;<\/failure>`,
        ),
      );
      expect(xml).toMatch(/<testcase name="saga\[pause\] verdict \(expected pass\)"[^>]*>\s*<failure/);
      // naive is expected to oversell: caught, so it passes and says so.
      expect(xml).toMatch(/<testcase name="naive\[none\] oversell"[^>]*>\s*<system-out>expected violation caught: 13/);
      expect(xml).not.toMatch(/<testcase name="naive\[none\][^"]*"[^>]*>\s*<failure/);
      expect(xml).toMatch(
        new RegExp(
          String.raw`<testcase name="keyed-transactional\(transactions=off\)\[pause\] verdict \(expected fail\)"` +
            String.raw`[^>]*>\s*<system-out>expected fail: transactions off`,
        ),
      );
      // A harness error is an error testcase, not a silent pass.
      expect(xml).toMatch(
        new RegExp(
          String.raw`<testcase name="keyed-transactional\[broker\] verdict \(expected pass\)"[^>]*>` +
            String.raw`\s*<error message="harness error: broker gone"\/>`,
        ),
      );
      const suites = xml.match(/<testsuite /g)!.length;
      expect(suites).toBe(4);
      expect(xml).toMatch(/<testsuites name="oversell gate g1" tests="\d+" failures="2" errors="1">/);
    },
  );

  it("names the seed in testcase names when repeated", () => {
    const xml = renderGateJunit(
      [
        run(
          naive,
          sutResult({
            name: "naive",
            verdict: "fail",
            claims: [],
            expectedViolations: ["oversell"],
            counts: { oversell: 1 },
          }),
          11,
          0,
        ),
        run(naive, undefined, 12, 1),
      ],
      { gateId: "g", startedAt: "t" },
    );
    expect(xml).toContain('name="naive[none] oversell (seed 11)"');
    expect(xml).toContain('name="naive[none] verdict (expected fail) (seed 12)"');
  });

  it(
    "the summary: a row per execution with verdict, expected, " + "match, key counts, p99, wall time; the gate verdict",
    () => {
      const text = renderGateSummary(runs, { gateId: "g1", wallMs: 605_000 });
      const lines = text.split("\n");
      expect(lines.find((l) => l.startsWith("cell"))).toMatch(
        new RegExp(
          String.raw`cell\s+seed\s+verdict\s+expected\s+match\s+sold\/stock\s+over\s+dup\s+confl\s+lost\s+stuck` +
            String.raw`\s+decided\/acked\s+p99 ms\s+wall s`,
        ),
      );
      expect(lines.find((l) => l.startsWith("saga[pause]"))).toMatch(
        /saga\[pause\]\s+11\s+fail\s+pass\s+MISMATCH\s+62\/60\s+2\s+0\s+0\s+0\s+0\s+100\/100\s+123\s+22$/,
      );
      expect(lines.find((l) => l.startsWith("naive[none]"))).toMatch(/fail\s+fail\s+ok\s+73\/60\s+13/);
      expect(lines.find((l) => l.startsWith("keyed-transactional[broker]"))).toMatch(
        /unknown\s+pass\s+MISMATCH\s+-\s+-/,
      );
      expect(text).toContain("missed expectations:");
      expect(text).toMatch(/saga\[pause\] \(seed 11\): .*01-saga/);
      expect(text).toMatch(/gate verdict: FAIL — 2\/4 cells met their expectation; wall time 10m05s$/);
      expect(lines.length).toBeLessThan(40);
    },
  );

  it("with repetitions: how many failed per cell", () => {
    const ok = sutResult({
      name: "naive",
      verdict: "fail",
      claims: [],
      expectedViolations: ["oversell"],
      counts: { oversell: 1 },
    });
    const missed = sutResult({ name: "naive", verdict: "pass", claims: [], expectedViolations: ["oversell"] });
    const text = renderGateSummary([run(naive, ok, 11, 0), run(naive, missed, 12, 1), run(naive, ok, 13, 2)], {
      gateId: "g",
      wallMs: 30_000,
    });
    expect(text).toContain("naive[none] #2");
    expect(text).toContain("naive[none]: MISSED 1/3 (seeds 12)");
    expect(text).toMatch(
      /gate verdict: FAIL — 0\/1 cells met their expectation on every repetition \(2\/3 executions\)/,
    );
  });
});
