// Opens a generated report in Debian's headless chromium from disk, as a person would, and keeps a
// screenshot (report.png) next to it. Set OVERSELL_KEEP_REPORT=1 to keep the folder for a look.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeHtmlReport } from "../../harness/report/html.ts";
import { openOffline } from "../support/browser.ts";
import { buildRunResult, XSS_PRODUCT } from "./fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "oversell-report-browser-"));
afterAll(() => {
  if (process.env.OVERSELL_KEEP_REPORT === "1") console.log(`[report] kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

describe("report.html in a browser", () => {
  it("renders offline without errors, shows verdicts and charts, runs no injected markup", async () => {
    const runDir = join(dir, "run");
    const file = writeHtmlReport(buildRunResult(), runDir);
    const opened = await openOffline(file, dir);
    const { page, url, consoleErrors, failed, requests, dialogs } = opened;
    try {
      // verdicts
      expect(await page.locator("#run-verdict .big").textContent()).toBe("PASS");
      expect(await page.locator(".sut-card").count()).toBe(3);
      expect(await page.locator('.sut-card[data-sut="naive"] .card-expect').textContent()).toContain(
        "fail — expected fail ✓",
      );
      // every chart drew something
      for (const key of ["sut-0-naive", "sut-1-keyed-transactional", "sut-2-saga"]) {
        expect(await page.locator(`svg#chart-${key}-units .units-row`).count()).toBeGreaterThan(0);
        expect(await page.locator(`svg#chart-${key}-curve path.series-line`).count()).toBe(1);
        expect(await page.locator(`svg#chart-${key}-latency path.series-line`).count()).toBe(3);
        expect(await page.locator(`svg#chart-${key}-throughput path.series-line`).count()).toBe(3);
        expect(await page.locator(`svg#chart-${key}-throughput .fault-band`).count()).toBeGreaterThan(0);
        const box = await page.locator(`svg#chart-${key}-latency`).boundingBox();
        expect(box && box.width > 500 && box.height > 100).toBe(true);
      }
      expect(await page.locator("svg#chart-overview-curve path.series-line").count()).toBe(3);
      // examples expand to the orderIds and their events
      const details = page.locator('#sut-0-naive-invariants tr[data-check="oversell"] details');
      await details.locator("summary").click();
      expect(await details.locator(".ex-events").first().isVisible()).toBe(true);

      // the hostile product id is text, and nothing of it ran
      expect(
        await page
          .locator("svg#chart-sut-0-naive-units .product-label", { hasText: "<script>alert(1)</scrip" })
          .count(),
      ).toBe(1);
      expect(await page.locator(".ex-id", { hasText: XSS_PRODUCT }).count()).toBeGreaterThan(0);
      expect(
        await page.evaluate(() => (window as unknown as { __oversellXss?: number }).__oversellXss),
      ).toBeUndefined();
      expect(await page.locator("script, img").count()).toBe(0);
      expect(dialogs).toEqual([]);

      expect(consoleErrors).toEqual([]);
      expect(failed).toEqual([]);
      expect(requests.filter((r) => r !== url)).toEqual([]);

      const png = join(runDir, "report.png");
      await page.screenshot({ path: png, fullPage: true });
      expect(statSync(png).size).toBeGreaterThan(50_000);
    } finally {
      await opened.close();
    }
  });
});
