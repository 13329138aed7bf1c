// zod issues as sentences a person can act on: every field path and what was expected.
import type { z } from "zod";

export function formatIssues(error: z.ZodError, root = ""): string {
  return error.issues
    .map((i) => {
      const path = [root, ...i.path.map(String)].filter(Boolean).join(".") || "(top level)";
      return `  - ${path}: ${i.message}`;
    })
    .join("\n");
}

export class InputError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
