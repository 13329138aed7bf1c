// Certificates for the embedded broker's TLS listeners, made once with openssl and cached under the
// oversell cache dir: a CA, a broker certificate for 127.0.0.1/localhost signed by it (also as the
// PKCS#12 keystore the broker loads), a client certificate for mutual TLS, and an unrelated CA that
// a "wrong CA" check can trust instead.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheRoot } from "./jars.ts";
import { PrerequisiteError } from "./prerequisites.ts";

export interface TlsMaterial {
  dir: string;
  /** PEM: the CA that signed the broker and client certificates. */
  caFile: string;
  /** PKCS#12 keystore of the broker (key + certificate chain), password `keystorePassword`. */
  brokerKeystore: string;
  keystorePassword: string;
  /** PEM client certificate and its unencrypted PKCS#8 key, for mutual TLS. */
  clientCertFile: string;
  clientKeyFile: string;
  /** PEM: a CA that signed nothing here (a client trusting it must fail to verify the broker). */
  otherCaFile: string;
}

const FILES = ["ca.crt", "broker.p12", "client.crt", "client.key", "other-ca.crt"];
const DAYS = "3650";

export function tlsDir(): string {
  return join(cacheRoot(), "tls");
}

function material(dir: string): TlsMaterial {
  return {
    dir,
    caFile: join(dir, "ca.crt"),
    brokerKeystore: join(dir, "broker.p12"),
    keystorePassword: "oversell-keystore",
    clientCertFile: join(dir, "client.crt"),
    clientKeyFile: join(dir, "client.key"),
    otherCaFile: join(dir, "other-ca.crt"),
  };
}

function openssl(cwd: string, args: string[]): void {
  const r = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  if (r.error) throw new PrerequisiteError(`TLS for the embedded broker needs openssl on PATH (${r.error.message})`);
  if (r.status !== 0)
    throw new PrerequisiteError(`openssl ${args[0]} failed: ${`${r.stderr}${r.stdout}`.trim().slice(-600)}`);
}

function selfSignedCa(cwd: string, name: string, cn: string): void {
  openssl(cwd, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-days",
    DAYS,
    "-subj",
    `/CN=${cn}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

/** A key and a certificate signed by ca.crt; `ext` lines go into the certificate's extensions. */
function signedLeaf(cwd: string, name: string, cn: string, ext: string[]): void {
  openssl(cwd, ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", `${name}.key`]);
  openssl(cwd, ["req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
  writeFileSync(join(cwd, `${name}.ext`), `${ext.join("\n")}\n`);
  openssl(cwd, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    `${name}.crt`,
    "-days",
    DAYS,
    "-extfile",
    `${name}.ext`,
  ]);
}

/** The cached certificates, generated on first use (about a second). */
export function ensureTlsMaterial(dir: string = tlsDir()): TlsMaterial {
  const m = material(dir);
  if (FILES.every((f) => existsSync(join(dir, f)))) return m;
  // Built in a private folder and renamed: two processes starting at once never see half a set.
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    selfSignedCa(tmp, "ca", "oversell test CA");
    selfSignedCa(tmp, "other-ca", "oversell unrelated CA");
    signedLeaf(tmp, "broker", "127.0.0.1", [
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "extendedKeyUsage=serverAuth,clientAuth",
    ]);
    signedLeaf(tmp, "client", "oversell-client", ["extendedKeyUsage=clientAuth"]);
    openssl(tmp, [
      "pkcs12",
      "-export",
      "-in",
      "broker.crt",
      "-inkey",
      "broker.key",
      "-certfile",
      "ca.crt",
      "-name",
      "broker",
      "-out",
      "broker.p12",
      "-passout",
      `pass:${m.keystorePassword}`,
    ]);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (FILES.every((f) => existsSync(join(dir, f)))) return m; // another process won the race
    throw e;
  }
  return m;
}
