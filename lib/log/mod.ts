/**
 * Structured logging: JSON lines (for clusters) or readable text, with levels. Every line may carry
 * key/value fields such as the reconciled object's key. Values that look like credentials are
 * never printed: callers must not pass them, and known secret field names are masked as a net.
 *
 * @module
 */

/** Log levels, in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const SECRET_KEYS = /^(password|token|authorization|secret|tls\.key|data)$/i;

/** Output format. */
export type LogFormat = "json" | "text";

/** A logger with fixed fields. */
export class Logger {
  readonly #level: LogLevel;
  readonly #format: LogFormat;
  readonly #fields: Record<string, unknown>;
  readonly #write: (line: string) => void;

  constructor(
    opts: {
      level?: LogLevel;
      format?: LogFormat;
      fields?: Record<string, unknown>;
      write?: (line: string) => void;
    } = {},
  ) {
    this.#level = opts.level ?? "info";
    this.#format = opts.format ?? "text";
    this.#fields = opts.fields ?? {};
    this.#write = opts.write ?? ((line) => console.error(line));
  }

  /** A logger that adds `fields` to every line. */
  with(fields: Record<string, unknown>): Logger {
    return new Logger({
      level: this.#level,
      format: this.#format,
      fields: { ...this.#fields, ...fields },
      write: this.#write,
    });
  }

  /** Whether `level` is printed. */
  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.#level];
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.#log("debug", msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.#log("info", msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.#log("warn", msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.#log("error", msg, fields);
  }

  #log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    const all: Record<string, unknown> = { ...this.#fields, ...fields };
    for (const k of Object.keys(all)) {
      if (SECRET_KEYS.test(k)) all[k] = "[redacted]";
      else if (all[k] instanceof Error) all[k] = (all[k] as Error).message;
    }
    const ts = new Date().toISOString();
    if (this.#format === "json") {
      this.#write(JSON.stringify({ ts, level, msg, ...all }));
      return;
    }
    const kv = Object.entries(all).map(([k, v]) =>
      `${k}=${typeof v === "string" && !/\s|"/.test(v) ? v : JSON.stringify(v)}`
    );
    this.#write(
      `${ts} ${level.toUpperCase().padEnd(5)} ${msg}${kv.length ? " " + kv.join(" ") : ""}`,
    );
  }
}
