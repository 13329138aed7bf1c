// ESLint: typescript-eslint's type-aware recommended rules, plus the project's import boundaries
// (a SUT imports only systems-under-test/contract; the harness never imports a SUT).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["node_modules/", "reports/", "**/target/", "harness/scenario/scenario.schema.json", "coverage/"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `_name` marks a parameter kept for a signature (callbacks, interfaces).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // kafkajs, JSON.parse and zod's loose results are `any` at many boundaries that zod then checks;
      // flagging every use of such a value would bury real findings.
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      // Fire-and-forget is deliberate in signal handlers and timers; they are marked with `void`.
      "@typescript-eslint/no-floating-promises": ["error", { ignoreVoid: true }],
      // Promise-returning callbacks to event emitters and timers are the Node idiom here.
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      // Template literals format numbers and unions of literals all over the CLI output.
      "@typescript-eslint/restrict-template-expressions": "off",
      // `(e as Error).message` on caught values is the project's idiom for printing causes.
      "@typescript-eslint/only-throw-error": "off",
      "@typescript-eslint/prefer-promise-reject-errors": "off",
      // Async functions without await implement async interfaces (stop(), handlers).
      "@typescript-eslint/require-await": "off",
      // `catch(() => {})` on best-effort cleanup (disconnect, unlink) is intentional.
      "@typescript-eslint/no-empty-function": "off",
      "no-empty": ["error", { allowEmptyCatch: true }],
      // `for (;;)` loops that end with a return or break are the idiom for polling.
      "no-constant-condition": ["error", { checkLoops: false }],
      // kafkajs hands eachBatch a payload of bound closures (resolveOffset, heartbeat, ...); taking
      // them out of the payload is what its documentation does, and is safe.
      "@typescript-eslint/unbound-method": "off",
      // A `let` read by a closure before its one assignment (a server handler set up before the object
      // it serves) cannot be a const without a temporal-dead-zone error.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ["systems-under-test/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/harness/**", "**/test/**", "**/scripts/**"],
              message: "A SUT imports only systems-under-test/contract (see docs/ARCHITECTURE.md).",
            },
            {
              // Another SUT's folder (../naive/...) is as much off limits as the harness.
              regex: "^\\.\\./(?!contract/)",
              message: "A SUT imports only systems-under-test/contract (see docs/ARCHITECTURE.md).",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["harness/**/*.ts", "scripts/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "systems-under-test/(?!contract/)",
              message: "The harness never imports a SUT; it starts one from its sut.json (see docs/ARCHITECTURE.md).",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, program: null, project: false },
      globals: {
        process: "readonly",
        console: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        Buffer: "readonly",
      },
    },
  },
);
