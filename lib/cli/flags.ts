/**
 * A small, strict command-line flag parser in the style of Go's `flag` package as Kubernetes
 * components use it: `--name=value` or `--name value`, booleans as `--name` or `--name=false`,
 * unknown flags and bad values are errors (the CLI exits with status 2).
 *
 * @module
 */

/** One flag's definition. */
export interface FlagSpec {
  type: "string" | "boolean" | "number" | "duration";
  default?: string | boolean | number;
  help: string;
  /** Allowed values of a string flag. */
  choices?: readonly string[];
  /** Name of the value shown in help, e.g. PATH. */
  metavar?: string;
}

/** A usage error: the message is shown with the help hint and the process exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parsed flags and the remaining positional arguments. */
export interface ParsedFlags {
  values: Record<string, string | boolean | number | undefined>;
  positional: string[];
  help: boolean;
}

const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;

/** Parses `args` against `specs`. @throws {UsageError} */
export function parseFlags(args: string[], specs: Record<string, FlagSpec>): ParsedFlags {
  const values: ParsedFlags["values"] = {};
  for (const [name, spec] of Object.entries(specs)) values[name] = spec.default;
  const positional: string[] = [];
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (arg === "-h" || arg === "--help") {
      help = true;
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = specs[name];
    if (!spec) throw new UsageError(`Unknown flag --${name}`);
    let raw: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (spec.type === "boolean") {
      if (raw === undefined) values[name] = true;
      else if (raw === "true" || raw === "false") values[name] = raw === "true";
      else throw new UsageError(`Invalid value "${raw}" for --${name}: expected true or false`);
      continue;
    }
    if (raw === undefined) {
      if (i + 1 >= args.length) throw new UsageError(`Flag --${name} needs a value`);
      raw = args[++i];
    }
    values[name] = convert(name, spec, raw);
  }
  return { values, positional, help };
}

function convert(name: string, spec: FlagSpec, raw: string): string | number {
  if (spec.type === "number") {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n)) {
      throw new UsageError(`Invalid value "${raw}" for --${name}: expected a number`);
    }
    return n;
  }
  if (spec.type === "duration" && !DURATION.test(raw)) {
    throw new UsageError(`Invalid value "${raw}" for --${name}: expected a duration such as 30s`);
  }
  if (spec.choices && !spec.choices.includes(raw)) {
    throw new UsageError(
      `Invalid value "${raw}" for --${name}: expected one of ${spec.choices.join(", ")}`,
    );
  }
  return raw;
}

/** Renders the flags section of a help text. */
export function formatFlags(specs: Record<string, FlagSpec>): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const meta = spec.type === "boolean" ? "" : ` ${spec.metavar ?? spec.type.toUpperCase()}`;
    const def = spec.default === undefined || spec.default === ""
      ? ""
      : ` (default ${spec.default})`;
    const choices = spec.choices ? ` [${spec.choices.join("|")}]` : "";
    return [`  --${name}${meta}`, `${spec.help}${choices}${def}`];
  });
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  return rows.map(([left, right]) => left.padEnd(width) + right).join("\n");
}
