export * from "./schema.ts";
export * from "./builtins.ts";
export * from "./load.ts";
export * from "./generate.ts";
export { Rng, ZipfSampler } from "./rng.ts";
