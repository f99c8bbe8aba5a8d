/**
 * Test helper: reads newline-delimited watch events from a fetch response with deadlines.
 *
 * @module
 */

/** One decoded watch event. */
export interface WatchLine {
  type: string;
  object: Record<string, unknown>;
}

/** Reads watch events from a streaming response body. */
export class WatchReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #decoder = new TextDecoder();
  #buffer = "";
  #pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  ended = false;

  constructor(res: Response) {
    if (!res.body) throw new Error("Cannot read a watch: the response has no body");
    this.#reader = res.body.getReader();
  }

  /** The next event, or undefined when the stream ended or `timeoutMs` passed first. */
  async next(timeoutMs = 10_000): Promise<WatchLine | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        if (line.trim() !== "") return JSON.parse(line);
        continue;
      }
      if (this.ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      this.#pending ??= this.#reader.read();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((
        resolve,
      ) => (timer = setTimeout(() => resolve("timeout"), left)));
      const r = await Promise.race([this.#pending, timeout]);
      clearTimeout(timer);
      if (r === "timeout") return undefined;
      this.#pending = undefined;
      if (r.done) {
        this.ended = true;
        continue;
      }
      this.#buffer += this.#decoder.decode(r.value, { stream: true });
    }
  }

  /** Events until one satisfies `pred` (returned) or the deadline passes (throws). */
  async until(pred: (e: WatchLine) => boolean, timeoutMs = 10_000): Promise<WatchLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (!e) {
        throw new Error(
          `Watch ended or timed out before the expected event (ended: ${this.ended})`,
        );
      }
      if (pred(e)) return e;
    }
  }

  /** Waits for the server to end the stream; false when it is still open at the deadline. */
  async waitEnd(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && Date.now() < deadline) {
      await this.next(Math.max(1, deadline - Date.now()));
    }
    return this.ended;
  }

  /** Releases the stream. */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}
