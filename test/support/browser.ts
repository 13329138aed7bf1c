// A self-contained page opened from disk in Debian's headless chromium, as a person would open it, with what
// the page did recorded: console errors, requests (there must be none besides the file), failed loads, dialogs.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";

export interface OpenedPage {
  page: Page;
  url: string;
  consoleErrors: string[];
  failed: string[];
  requests: string[];
  dialogs: string[];
  close(): Promise<void>;
}

export async function openOffline(file: string, profileDir: string): Promise<OpenedPage> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: run \`npm run setup -- --browser\` (installs Debian's chromium) and test again`,
    );
  }
  const context = await chromium.launchPersistentContext(join(profileDir, "profile"), {
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
    const opened: OpenedPage = {
      page,
      url: pathToFileURL(file).href,
      consoleErrors: [],
      failed: [],
      requests: [],
      dialogs: [],
      close: () => context.close(),
    };
    page.on("console", (m) => {
      if (m.type() === "error") opened.consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => opened.consoleErrors.push(e.message));
    page.on("requestfailed", (r) => opened.failed.push(`${r.url()} ${r.failure()?.errorText ?? ""}`));
    page.on("request", (r) => opened.requests.push(r.url()));
    page.on("dialog", (d) => {
      opened.dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(opened.url, { waitUntil: "load", timeout: 60_000 });
    return opened;
  } catch (e) {
    await context.close();
    throw e;
  }
}
