// @confluentinc/kafka-javascript (librdkafka) for the SUTs' `client=confluent` setting, installed into the
// cache (~/.cache/oversell/node-clients/) rather than node_modules, so `npm ci` never depends on it.
//   1. npm installs the pinned package with its install script off, then node-pre-gyp fetches the prebuilt
//      binding (GitHub releases): the path for a machine on the internet, seconds.
//   2. Without that download (a machine that reaches only the package registries), the package's own
//      fallback cannot work either: its static build downloads OpenSSL, zstd and curl. Instead the librdkafka
//      source it bundles is built here as a shared library against Debian's libssl-dev and zlib1g-dev
//      (zstd, GSSAPI and curl off: the project uses none), installed under the cache, and the binding is
//      built against it (BUILD_LIBRDKAFKA=0, rpath to the cache), with Node's headers from /usr/include/node.
// Everything is cached: the second call returns at once. Measured on the project's 2-core machine under load:
// step 2 took ~26 min for librdkafka (3 min CPU) and ~6 min for the binding (1 min CPU).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheRoot } from "../cluster/jars.ts";
import { spawnChild, tailOfFile } from "../process/children.ts";

export const CONFLUENT_PACKAGE = "@confluentinc/kafka-javascript";
export const CONFLUENT_VERSION = "1.10.1";
/** What the package bundles (its package.json "librdkafka"). */
export const LIBRDKAFKA_VERSION = "2.15.1";
/** Debian packages the source build needs (apt-get installs the missing ones). */
const BUILD_PACKAGES = ["build-essential", "python3", "libssl-dev", "zlib1g-dev"];

export function confluentDir(): string {
  return join(cacheRoot(), "node-clients", `confluent-kafka-javascript-${CONFLUENT_VERSION}`);
}

/** The installed package's folder (what a SUT loads), or undefined before ensureConfluentClient(). */
export function installedConfluent(): string | undefined {
  const dir = join(confluentDir(), "node_modules", CONFLUENT_PACKAGE);
  return existsSync(join(confluentDir(), ".complete")) ? dir : undefined;
}

async function run(cmd: string, args: string[], cwd: string, log: string, env?: NodeJS.ProcessEnv): Promise<void> {
  const child = spawnChild(cmd, args, { cwd, logFile: log, env: { ...process.env, ...env } });
  const code = await child.exited;
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${code}) in ${cwd}:\n${tailOfFile(log, 15)}`);
}

async function aptInstallMissing(say: (l: string) => void, log: string): Promise<void> {
  const missing = BUILD_PACKAGES.filter((p) => {
    try {
      return !readFileSync("/var/lib/dpkg/status", "utf8").includes(`Package: ${p}\nStatus: install ok installed`);
    } catch {
      return false; // not Debian: assume a compiler and headers are there
    }
  });
  if (missing.length === 0) return;
  say(`apt-get install -y ${missing.join(" ")}`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  try {
    await run("apt-get", ["install", "-y", ...missing], "/", log, env);
  } catch {
    await run("apt-get", ["update"], "/", log, env); // a fresh machine has no package lists yet
    await run("apt-get", ["install", "-y", ...missing], "/", log, env);
  }
}

/** librdkafka from the package's bundled source, as a shared library under the cache. */
async function buildLibrdkafka(pkg: string, say: (l: string) => void, log: string): Promise<string> {
  const prefix = join(cacheRoot(), `librdkafka-${LIBRDKAFKA_VERSION}`);
  if (existsSync(join(prefix, ".complete"))) return prefix;
  const src = join(pkg, "deps", "librdkafka");
  say(`building librdkafka ${LIBRDKAFKA_VERSION} from ${src} into ${prefix} (minutes) ...`);
  rmSync(prefix, { recursive: true, force: true });
  const flags = ["--disable-zstd", "--disable-gssapi", "--disable-curl", "--disable-lz4-ext", "--no-download"];
  await run("./configure", [`--prefix=${prefix}`, ...flags], src, log);
  await run("make", ["-j2", "libs"], src, log);
  await run("make", ["install-subdirs"], src, log);
  writeFileSync(join(prefix, ".complete"), new Date().toISOString());
  return prefix;
}

/** Installs (or finds) the client; returns the package folder. `say` gets progress lines. */
export async function ensureConfluentClient(say: (line: string) => void = () => {}): Promise<string> {
  const done = installedConfluent();
  if (done) return done;
  const dir = confluentDir();
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const log = join(tmp, "install.log");
  try {
    writeFileSync(
      join(tmp, "package.json"),
      JSON.stringify({ private: true, dependencies: { [CONFLUENT_PACKAGE]: CONFLUENT_VERSION } }),
    );
    say(`installing ${CONFLUENT_PACKAGE}@${CONFLUENT_VERSION} into ${dir} ...`);
    await run("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund"], tmp, log);
    const pkg = join(tmp, "node_modules", CONFLUENT_PACKAGE);
    try {
      const preGyp = join(tmp, "node_modules", "@mapbox", "node-pre-gyp", "bin", "node-pre-gyp");
      await run("node", [preGyp, "install"], pkg, log);
      say("prebuilt binding downloaded");
    } catch {
      say("no prebuilt binding (offline?): building librdkafka and the binding from source");
      await aptInstallMissing(say, log);
      const prefix = await buildLibrdkafka(pkg, say, log);
      const headers = existsSync("/usr/include/node/common.gypi") ? { npm_config_nodedir: "/usr" } : {};
      await run("npm", ["rebuild", CONFLUENT_PACKAGE, "--foreground-scripts"], tmp, log, {
        BUILD_LIBRDKAFKA: "0",
        CKJS_LINKING: "dynamic",
        npm_config_build_from_source: "true",
        CPPFLAGS: `-I${join(prefix, "include", "librdkafka")}`,
        CXXFLAGS: `-I${join(prefix, "include", "librdkafka")}`,
        LDFLAGS: `-L${join(prefix, "lib")} -Wl,-rpath,${join(prefix, "lib")}`,
        ...headers,
      });
    }
    // Proof it loads, in a child (a broken binding must not take this process down).
    await run("node", ["-e", `require(${JSON.stringify(pkg)}).librdkafkaVersion`], tmp, log);
    writeFileSync(join(tmp, ".complete"), new Date().toISOString());
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return installedConfluent()!;
  } catch (e) {
    const kept = `${dir}.failed.log`;
    try {
      writeFileSync(kept, readFileSync(log));
    } catch {
      /* no log yet */
    }
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      `could not install ${CONFLUENT_PACKAGE}@${CONFLUENT_VERSION} (log: ${kept}): ${(e as Error).message}`,
    );
  }
}
