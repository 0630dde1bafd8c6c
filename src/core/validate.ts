import { MaskpipeError } from "./errors.js";

/*
 * One message shape for every option, as sharp does it:
 * "Expected integer between 1 and 100 for quality but received 0 of type number".
 */

function describe(value: unknown): string {
  if (typeof value === "string") return `"${value}" of type string`;
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  return `${String(value)} of type ${typeof value}`;
}

export function invalid(expected: string, name: string, value: unknown): MaskpipeError {
  return new MaskpipeError(
    "ERR_INVALID_OPTION",
    `Expected ${expected} for ${name} but received ${describe(value)}`,
  );
}

export function integerBetween(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`integer between ${min} and ${max}`, name, value);
  }
  return value;
}

export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`one of ${allowed.join(", ")}`, name, value);
  }
  return value as T;
}

export function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw invalid("non-empty string", name, value);
  }
  return value;
}

export function boolean(name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw invalid("boolean", name, value);
  return value;
}

export function stringArray(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw invalid("array of strings", name, value);
  }
  return value;
}

/** Parses sizes such as `512MB`, `1GB`, `1.5GiB` or a plain byte count. */
export function byteSize(name: string, value: unknown): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return value;
  if (typeof value === "string") {
    const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?$/i.exec(value.trim());
    if (match) {
      const units: Record<string, number> = {
        b: 1,
        kb: 1e3,
        mb: 1e6,
        gb: 1e9,
        tb: 1e12,
        kib: 2 ** 10,
        mib: 2 ** 20,
        gib: 2 ** 30,
        tib: 2 ** 40,
      };
      const bytes = Math.floor(Number(match[1]) * (units[(match[2] ?? "b").toLowerCase()] ?? 1));
      if (bytes > 0 && Number.isSafeInteger(bytes)) return bytes;
    }
  }
  throw invalid("positive byte size such as 1GB, 512MiB or 1000000", name, value);
}
