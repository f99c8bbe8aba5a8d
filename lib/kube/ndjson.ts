/**
 * Splits a byte stream into lines, buffering across chunk boundaries, including multi-byte
 * UTF-8 characters split between chunks. Empty lines are dropped.
 */
export class LineSplitter {
  #decoder = new TextDecoder("utf-8", { fatal: false });
  #buffer = "";

  /** Feeds one chunk; returns the lines it completed. */
  push(chunk: Uint8Array): string[] {
    this.#buffer += this.#decoder.decode(chunk, { stream: true });
    return this.#take();
  }

  /** Ends the input; returns the last line if it had no newline. */
  flush(): string[] {
    this.#buffer += this.#decoder.decode();
    const lines = this.#take();
    const rest = this.#buffer.trim();
    this.#buffer = "";
    if (rest) lines.push(rest);
    return lines;
  }

  #take(): string[] {
    const lines: string[] = [];
    let start = 0;
    let nl: number;
    while ((nl = this.#buffer.indexOf("\n", start)) >= 0) {
      const line = this.#buffer.slice(start, nl).trim();
      if (line) lines.push(line);
      start = nl + 1;
    }
    this.#buffer = this.#buffer.slice(start);
    return lines;
  }
}
