// npm run gateway -- --bootstrap h:p,... --ns NS [--sut NAME | --confirms] [--host H] [--port P]
// The order gateway alone, in front of one namespace (POST /orders, GET /orders/:id, GET /health), until Ctrl-C.
// Several can run behind a load balancer: each publishes to <ns>.orders and reads every decision itself.
import { Command } from "commander";
import { z } from "zod";
import { describeConnection } from "../kafka/connection.ts";
import { OrderGateway } from "../load/gateway.ts";
import { withAdmin } from "../run/kafka.ts";
import { InputError } from "../shared/zod-errors.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { loadManifest } from "../sut/manifest.ts";
import {
  addConnectionOptions,
  connectionFromFlags,
  exitOnError,
  FLAG,
  flagIssues,
  parseOrExit,
  usageError,
} from "./options.ts";

const program = addConnectionOptions(
  new Command("gateway")
    .description("the order gateway alone, in front of one namespace, until Ctrl-C")
    .usage("--bootstrap h:p,... --ns NS [--sut NAME | --confirms] [--host H] [--port P]")
    .requiredOption("--ns <namespace>", "the namespace whose <ns>.orders it publishes to")
    .option("--sut <name|dir>", "the SUT behind it: whether OrderReserved is final (its sut.json confirms)")
    .option("--confirms", "the SUT confirms reservations (OrderReserved is not the final answer)")
    .option("--host <host>", "where it listens", "127.0.0.1")
    .option("--port <port>", "its port (default: any free one)"),
).allowExcessArguments(false);

const flagsSchema = z.object({
  ns: FLAG.ns,
  sut: z.string().min(1).optional(),
  confirms: z.boolean().optional(),
  host: z.string().min(1),
  port: FLAG.port,
});

program.action(async (raw: Record<string, unknown>) => {
  const parsed = flagsSchema.safeParse(raw);
  if (!parsed.success) usageError(program, flagIssues(parsed.error));
  const f = parsed.data;
  try {
    if (f.sut && f.confirms) usageError(program, "give --sut or --confirms, not both");
    const connection = connectionFromFlags(raw);
    if (!connection) usageError(program, "--bootstrap is required (the cluster the namespace is on)");
    const confirms = f.sut ? loadManifest(f.sut).confirms : f.confirms === true;
    // A wrong namespace is the likely mistake: name the topic, not a stack.
    const orders = topicsFor(f.ns).orders;
    if (!(await withAdmin(connection, (a) => a.listTopics())).includes(orders))
      throw new InputError(`${orders} is not on ${describeConnection(connection)}: is --ns right?`);
    const gw = await OrderGateway.start({ connection, ns: f.ns, confirms, host: f.host, port: f.port });
    process.stdout.write(
      `gateway: ${gw.url}   (POST /orders, GET /orders/:id, GET /health)\n` +
        `namespace: ${f.ns} on ${describeConnection(connection)}${confirms ? " (confirming SUT)" : ""}\n`,
    );
    let stopping = false;
    for (const s of ["SIGINT", "SIGTERM"] as const)
      process.on(s, () => {
        if (stopping) return;
        stopping = true;
        void gw.close().then(() => process.exit(0));
      });
  } catch (e) {
    exitOnError(program, e);
  }
});

await parseOrExit(program);
