import { createServer, type Server } from "node:net";

/** A port the OS considers free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * `count` distinct free ports, none of them in `exclude`. All are held open until the last is chosen: asked one
 * at a time, the OS may hand out a just-closed port again (a broker once got one port for two listeners).
 */
export async function freePorts(count: number, exclude: Iterable<number> = []): Promise<number[]> {
  const skip = new Set(exclude);
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const s = createServer();
      s.unref();
      held.push(s);
      const port = await new Promise<number>((resolve, reject) => {
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
          const addr = s.address();
          if (addr && typeof addr === "object") resolve(addr.port);
          else reject(new Error("no port"));
        });
      });
      if (!skip.has(port)) ports.push(port);
    }
  } finally {
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  }
  return ports;
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}
