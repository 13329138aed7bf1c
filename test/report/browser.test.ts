// Opens a generated report in Debian's headless chromium from disk, as a person would, and keeps a
// screenshot (report.png) next to it. Set OVERSELL_KEEP_REPORT=1 to keep the folder for a look.
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { writeHtmlReport } from "../../harness/report/html.ts";
import { buildRunResult, XSS_PRODUCT } from "./fixture.ts";

const CHROMIUM = "/usr/bin/chromium";
const dir = mkdtempSync(join(tmpdir(), "oversell-report-browser-"));
afterAll(() => {
  if (process.env.OVERSELL_KEEP_REPORT === "1") console.log(`[report] kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

describe("report.html in a browser", () => {
  it("renders offline without errors, shows verdicts and charts, runs no injected markup", async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: run \`npm run setup -- --browser\` (installs Debian's chromium) and test again`,
      );
    }
    const runDir = join(dir, "run");
    const file = writeHtmlReport(buildRunResult(), runDir);
    const context = await chromium.launchPersistentContext(join(dir, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1280, height: 900 },
      timeout: 90_000,
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const consoleErrors: string[] = [];
      const failed: string[] = [];
      const requests: string[] = [];
      const dialogs: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") consoleErrors.push(m.text());
      });
      page.on("pageerror", (e) => consoleErrors.push(e.message));
      page.on("requestfailed", (r) => failed.push(`${r.url()} ${r.failure()?.errorText ?? ""}`));
      page.on("request", (r) => requests.push(r.url()));
      page.on("dialog", (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      const url = pathToFileURL(file).href;
      await page.goto(url, { waitUntil: "load", timeout: 60_000 });

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
      await context.close();
    }
  });
});
