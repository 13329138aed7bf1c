#!/usr/bin/env node
// `oversell <command> [args]`: the npm scripts as one executable (the `commands` below).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const commands = ["bench", "check", "serve", "gateway", "k6", "report", "gate", "capacity", "kafka", "clean"];
const [command, ...args] = process.argv.slice(2);
if (!command || command === "--help" || command === "-h" || !commands.includes(command)) {
  const msg = `usage: oversell <${commands.join("|")}> [options]   (oversell <command> --help for its options)`;
  if (command && !["--help", "-h"].includes(command)) {
    console.error(`oversell: unknown command "${command}"\n${msg}`);
    process.exit(2);
  }
  console.log(msg);
  process.exit(command ? 0 : 2);
}
const entry = join(root, "harness", "cli", `${command}.ts`);
if (!existsSync(entry)) {
  console.error(`oversell: ${command} is not available in this checkout (${entry} missing)`);
  process.exit(2);
}
// Resolved from this file, so `oversell` works from any folder.
const tsx = import.meta.resolve("tsx");
const child = spawn(process.execPath, ["--import", tsx, entry, ...args], { stdio: "inherit", cwd: process.cwd() });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal === "SIGINT" ? 130 : 1)));
