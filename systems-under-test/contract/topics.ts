// Topic names derived from a run namespace. Namespaces use safe characters only.
export const NAMESPACE_PATTERN = /^[A-Za-z0-9._-]{1,180}$/;

export interface ContractTopics {
  stock: string;
  orders: string;
  decisions: string;
  /** A SUT's own topic: `<ns>.<sut>.<name>` (repartition, changelog, commands). */
  internal(sut: string, name: string): string;
}

export function topicsFor(ns: string): ContractTopics {
  if (!NAMESPACE_PATTERN.test(ns)) {
    throw new Error(`namespace "${ns}" may hold only letters, digits, '.', '_' and '-' (at most 180)`);
  }
  return {
    stock: `${ns}.stock`,
    orders: `${ns}.orders`,
    decisions: `${ns}.decisions`,
    internal: (sut, name) => `${ns}.${sut}.${name}`,
  };
}
