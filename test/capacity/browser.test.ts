// capacity.html opened from disk in Debian's headless chromium: the table, a curve per SUT with the ceilings
// and the SLO, no request, nothing injected runs. Keeps a screenshot (capacity.png); OVERSELL_KEEP_REPORT=1
// keeps the folder for a look.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeCapacity } from "../../harness/capacity/run.ts";
import { openOffline } from "../support/browser.ts";
import { buildCapacityReport } from "./fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "oversell-capacity-browser-"));
afterAll(() => {
  if (process.env.OVERSELL_KEEP_REPORT === "1") console.log(`[capacity] kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

describe("capacity.html in a browser", () => {
  it("shows the table and a throughput–latency curve per SUT with the ceilings, offline, running nothing", async () => {
    const [, file] = writeCapacity(buildCapacityReport(), dir);
    const opened = await openOffline(file!, dir);
    const { page } = opened;
    try {
      const rows = page.locator("#capacity-table tbody tr");
      expect(await rows.count()).toBe(2);
      expect(await rows.nth(0).textContent()).toMatch(/keyed-transactional.*3,000.*640 ms.*0\.071/);
      expect(await page.locator("#ceiling").textContent()).toMatch(/61,000[\s\S]*42,000/);

      // the overview: p99 and p50 per SUT, two ceilings and the SLO, on log axes
      const overview = page.locator("svg#chart-capacity");
      expect(await overview.locator("path.series-line").count()).toBe(2 * 2 + 3);
      expect(await overview.locator('g.series[data-series="keyed-transactional p99"] circle').count()).toBe(5);
      const box = await overview.boundingBox();
      expect(box && box.width > 500 && box.height > 150).toBe(true);
      for (const name of ["keyed-transactional", "kafka-streams"]) {
        expect(await page.locator(`svg#chart-${name} path.series-line`).count()).toBe(2 + 3);
      }
      // every step is in its SUT's table, a harness-bound one marked, a violation named
      expect(await page.locator("#sut-kafka-streams table.steps tbody tr").count()).toBe(4);
      expect(await page.locator("#sut-kafka-streams tr.c-warn").textContent()).toContain("harness-bound");
      expect(await page.locator("#sut-kafka-streams table.steps").textContent()).toContain("VIOLATION: duplicate 2");

      expect(
        await page.evaluate(() => (window as unknown as { __oversellXss?: number }).__oversellXss),
      ).toBeUndefined();
      expect(await page.locator("script, img").count()).toBe(0);
      expect(opened.dialogs).toEqual([]);
      expect(opened.consoleErrors).toEqual([]);
      expect(opened.failed).toEqual([]);
      expect(opened.requests.filter((r) => r !== opened.url)).toEqual([]);

      const png = join(dir, "capacity.png");
      await page.screenshot({ path: png, fullPage: true });
      expect(statSync(png).size).toBeGreaterThan(30_000);
    } finally {
      await opened.close();
    }
  });
});
