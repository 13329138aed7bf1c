// serve's admin endpoint, on its own port (the gateway's port is what a load tool is pointed at):
//   GET  /admin/status    {ns, bootstrap, gateway, instances running, fault events so far}
//   POST /admin/restock   {productId, quantity} or {items: [{productId, quantity}, ...]}: StockAdded, 200 once acked
//   POST /admin/fault     the `--faults` text (text/plain, or JSON {"faults": "..."}), run from now: 202
// Bodies are checked with zod; a bad one is a 400 naming the field.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { send } from "../load/gateway.ts";
import { describeFault } from "../nemesis/index.ts";
import { InputError } from "../shared/zod-errors.ts";
import type { ServeHandle } from "./serve.ts";

const item = z.strictObject({
  productId: z.string().min(1).max(200),
  quantity: z.number().int().min(1, "a restock adds at least 1 unit"),
});
const restockBody = z.union([item, z.strictObject({ items: z.array(item).min(1).max(100_000) })], {
  error: 'expected {"productId": "...", "quantity": N} or {"items": [{"productId", "quantity"}, ...]}',
});
const faultBody = z.strictObject({ faults: z.string().min(1) });

const MAX_BODY = 4 * 1024 * 1024;

export class AdminServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(o: { serve: ServeHandle; host?: string; port?: number }): Promise<AdminServer> {
    const server = createServer((req, res) => {
      handle(o.serve, req, res).catch((e) => send(res, 500, { error: (e as Error).message }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(o.port ?? 0, o.host ?? "127.0.0.1", () => resolve());
    });
    const addr = server.address() as AddressInfo;
    return new AdminServer(server, `http://${o.host ?? "127.0.0.1"}:${addr.port}`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

async function handle(serve: ServeHandle, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? "/", "http://admin").pathname;
  if (req.method === "GET" && path === "/admin/status") {
    return send(res, 200, {
      ns: serve.ns,
      bootstrap: serve.bootstrap,
      gateway: serve.gatewayUrl,
      instancesRunning: serve.running(),
      faultEvents: serve.faultEvents,
    });
  }
  if (req.method === "POST" && path === "/admin/restock") {
    const body = parseBody(await readBody(req), restockBody);
    if (!body.ok) return send(res, 400, { error: body.error });
    const items = "items" in body.value ? body.value.items : [body.value];
    await serve.restock(items);
    return send(res, 200, { restocked: items });
  }
  if (req.method === "POST" && path === "/admin/fault") {
    const text = await readBody(req);
    let spec = text.trim();
    if (spec.startsWith("{")) {
      const body = parseBody(text, faultBody);
      if (!body.ok) return send(res, 400, { error: body.error });
      spec = body.value.faults;
    }
    try {
      const faults = serve.fault(spec);
      return send(res, 202, { faults: faults.map(describeFault) });
    } catch (e) {
      if (e instanceof InputError) return send(res, 400, { error: e.message });
      throw e;
    }
  }
  send(res, 404, { error: `no route ${req.method} ${path} (GET /admin/status, POST /admin/restock, /admin/fault)` });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new Error(`body over ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody<T>(text: string, schema: z.ZodType<T>): { ok: true; value: T } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, error: r.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ") };
}
