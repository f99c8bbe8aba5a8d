/**
 * Field validation errors shaped like apimachinery's `field.Error`: the cause reason and the
 * message kube-apiserver prints for each error type.
 *
 * @module
 */
import type { StatusCause } from "./status.ts";

/** Renders a value as `field.Invalid` does: strings quoted, objects by their type name. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return '"array"';
  if (typeof value === "object") return '"object"';
  return String(value);
}

/** `field: Required value`. */
export function required(field: string, detail?: string): StatusCause {
  return {
    reason: "FieldValueRequired",
    message: detail ? `Required value: ${detail}` : "Required value",
    field,
  };
}

/** `field: Invalid value: <v>: detail`. */
export function invalidValue(field: string, value: unknown, detail: string): StatusCause {
  return {
    reason: "FieldValueInvalid",
    message: `Invalid value: ${describeValue(value)}: ${detail}`,
    field,
  };
}

/** `field: Invalid value: <v>: detail` for a wrong JSON type. */
export function typeInvalid(field: string, value: unknown, detail: string): StatusCause {
  return {
    reason: "FieldValueTypeInvalid",
    message: `Invalid value: ${describeValue(value)}: ${detail}`,
    field,
  };
}

/** `field: Unsupported value: "x": supported values: "a", "b"`. */
export function notSupported(field: string, value: unknown, supported: unknown[]): StatusCause {
  const list = supported.map((v) => JSON.stringify(v)).join(", ");
  return {
    reason: "FieldValueNotSupported",
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${list}`,
    field,
  };
}

/** `field: Too long: may not be more than N bytes`. */
export function tooLong(field: string, max: number): StatusCause {
  return {
    reason: "FieldValueTooLong",
    message: `Too long: may not be more than ${max} bytes`,
    field,
  };
}

/** `field: Too many: n: must have at most max items`. */
export function tooMany(field: string, actual: number, max: number): StatusCause {
  return {
    reason: "FieldValueTooMany",
    message: `Too many: ${actual}: must have at most ${max} items`,
    field,
  };
}

/** `field: Forbidden: detail`. */
export function forbiddenField(field: string, detail: string): StatusCause {
  return { reason: "FieldValueForbidden", message: `Forbidden: ${detail}`, field };
}

/** `field: Duplicate value: v`. */
export function duplicate(field: string, value: unknown): StatusCause {
  return {
    reason: "FieldValueDuplicate",
    message: `Duplicate value: ${JSON.stringify(value)}`,
    field,
  };
}
