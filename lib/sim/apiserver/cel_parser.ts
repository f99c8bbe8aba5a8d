/**
 * Parser of the CEL subset used by `x-kubernetes-validations`: literals, lists, maps, member
 * access, indexing, calls, macros (`has`, `all`, `exists`, `exists_one`, `map`, `filter`),
 * unary and binary operators, `in` and the conditional operator.
 *
 * @module
 */

/** A node of a parsed CEL expression. */
export type CelNode =
  | { k: "lit"; v: unknown }
  | { k: "ident"; name: string }
  | { k: "select"; operand: CelNode; field: string }
  | { k: "has"; operand: CelNode; field: string }
  | { k: "call"; fn: string; target?: CelNode; args: CelNode[] }
  | { k: "macro"; fn: string; target: CelNode; v: string; args: CelNode[] }
  | { k: "index"; operand: CelNode; index: CelNode }
  | { k: "list"; items: CelNode[] }
  | { k: "map"; entries: [CelNode, CelNode][] }
  | { k: "unary"; op: "!" | "-"; operand: CelNode }
  | { k: "binary"; op: string; left: CelNode; right: CelNode }
  | { k: "cond"; test: CelNode; then: CelNode; else: CelNode };

/** A CEL expression that does not parse. */
export class CelSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CelSyntaxError";
  }
}

type Tok = { t: "num" | "str" | "id" | "op" | "eof"; v: string; val?: unknown; pos: number };

const OPERATORS = [
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "<",
  ">",
  "!",
  "?",
  ":",
  "+",
  "-",
  "*",
  "/",
  "%",
  ".",
  ",",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
];

function readString(src: string, i: number): [string, number] {
  let raw = false;
  if (src[i] === "r" || src[i] === "R") {
    raw = true;
    i++;
  }
  const q = src[i];
  const triple = src.startsWith(q.repeat(3), i);
  const close = triple ? q.repeat(3) : q;
  i += close.length;
  let out = "";
  while (i < src.length) {
    if (src.startsWith(close, i)) return [out, i + close.length];
    const c = src[i];
    if (c === "\\" && !raw) {
      const n = src[i + 1];
      const simple: Record<string, string> = {
        n: "\n",
        t: "\t",
        r: "\r",
        "\\": "\\",
        "'": "'",
        '"': '"',
        "`": "`",
        "?": "?",
        a: "\x07",
        b: "\b",
        f: "\f",
        v: "\v",
      };
      if (n in simple) {
        out += simple[n];
        i += 2;
      } else if (n === "u" || n === "x" || n === "U") {
        const len = n === "u" ? 4 : n === "x" ? 2 : 8;
        out += String.fromCodePoint(parseInt(src.slice(i + 2, i + 2 + len), 16));
        i += 2 + len;
      } else {
        throw new CelSyntaxError(`invalid escape sequence \\${n} at ${i}`);
      }
      continue;
    }
    if (!triple && c === "\n") throw new CelSyntaxError(`unterminated string at ${i}`);
    out += c;
    i++;
  }
  throw new CelSyntaxError("unterminated string literal");
}

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    const start = i;
    if (
      c === '"' || c === "'" ||
      ((c === "r" || c === "R") && (src[i + 1] === '"' || src[i + 1] === "'"))
    ) {
      const [s, next] = readString(src, i);
      toks.push({ t: "str", v: src.slice(start, next), val: s, pos: start });
      i = next;
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      const hex = src.slice(i).match(/^0[xX][0-9a-fA-F]+[uU]?/);
      if (hex) {
        toks.push({
          t: "num",
          v: hex[0],
          val: parseInt(hex[0].replace(/[uU]$/, ""), 16),
          pos: start,
        });
        i += hex[0].length;
        continue;
      }
      const m = src.slice(i).match(/^(\d*\.\d+([eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+)([uU])?/)!;
      toks.push({ t: "num", v: m[0], val: Number(m[1]), pos: start });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = src.slice(i).match(/^[A-Za-z_][A-Za-z0-9_]*/)!;
      toks.push({ t: "id", v: m[0], pos: start });
      i += m[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new CelSyntaxError(`unexpected character '${c}' at ${i}`);
    toks.push({ t: "op", v: op, pos: start });
    i += op.length;
  }
  toks.push({ t: "eof", v: "", pos: src.length });
  return toks;
}

const MACROS = new Set(["all", "exists", "exists_one", "map", "filter"]);

class Parser {
  #toks: Tok[];
  #i = 0;
  constructor(toks: Tok[]) {
    this.#toks = toks;
  }
  peek(): Tok {
    return this.#toks[this.#i];
  }
  next(): Tok {
    return this.#toks[this.#i++];
  }
  accept(v: string): boolean {
    const t = this.peek();
    if ((t.t === "op" || t.t === "id") && t.v === v) {
      this.#i++;
      return true;
    }
    return false;
  }
  expect(v: string): void {
    const t = this.next();
    if (t.v !== v) {
      throw new CelSyntaxError(
        `Syntax error: expected '${v}' but found '${t.v || "EOF"}' at ${t.pos}`,
      );
    }
  }

  expr(): CelNode {
    const test = this.or();
    if (this.accept("?")) {
      const then = this.or();
      this.expect(":");
      const els = this.expr();
      return { k: "cond", test, then, else: els };
    }
    return test;
  }
  or(): CelNode {
    let left = this.and();
    while (this.accept("||")) left = { k: "binary", op: "||", left, right: this.and() };
    return left;
  }
  and(): CelNode {
    let left = this.relation();
    while (this.accept("&&")) left = { k: "binary", op: "&&", left, right: this.relation() };
    return left;
  }
  relation(): CelNode {
    let left = this.addition();
    for (;;) {
      const t = this.peek();
      const isRel = (t.t === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(t.v)) ||
        (t.t === "id" && t.v === "in");
      if (!isRel) return left;
      this.next();
      left = { k: "binary", op: t.v, left, right: this.addition() };
    }
  }
  addition(): CelNode {
    let left = this.multiplication();
    for (;;) {
      const t = this.peek();
      if (t.t !== "op" || (t.v !== "+" && t.v !== "-")) return left;
      this.next();
      left = { k: "binary", op: t.v, left, right: this.multiplication() };
    }
  }
  multiplication(): CelNode {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.t !== "op" || (t.v !== "*" && t.v !== "/" && t.v !== "%")) return left;
      this.next();
      left = { k: "binary", op: t.v, left, right: this.unary() };
    }
  }
  unary(): CelNode {
    if (this.accept("!")) return { k: "unary", op: "!", operand: this.unary() };
    if (this.accept("-")) {
      const operand = this.unary();
      if (operand.k === "lit" && typeof operand.v === "number") return { k: "lit", v: -operand.v };
      return { k: "unary", op: "-", operand };
    }
    return this.member();
  }
  args(): CelNode[] {
    const args: CelNode[] = [];
    if (this.accept(")")) return args;
    do args.push(this.expr()); while (this.accept(","));
    this.expect(")");
    return args;
  }
  member(): CelNode {
    let node = this.primary();
    for (;;) {
      if (this.accept(".")) {
        const id = this.next();
        if (id.t !== "id") {
          throw new CelSyntaxError(`Syntax error: expected identifier at ${id.pos}`);
        }
        if (this.accept("(")) {
          const args = this.args();
          if (MACROS.has(id.v) && args.length >= 2 && args[0].k === "ident") {
            node = { k: "macro", fn: id.v, target: node, v: args[0].name, args: args.slice(1) };
          } else {
            node = { k: "call", fn: id.v, target: node, args };
          }
        } else {
          node = { k: "select", operand: node, field: id.v };
        }
      } else if (this.accept("[")) {
        const index = this.expr();
        this.expect("]");
        node = { k: "index", operand: node, index };
      } else {
        return node;
      }
    }
  }
  primary(): CelNode {
    const t = this.next();
    if (t.t === "num" || t.t === "str") return { k: "lit", v: t.val };
    if (t.t === "id") {
      if (t.v === "true") return { k: "lit", v: true };
      if (t.v === "false") return { k: "lit", v: false };
      if (t.v === "null") return { k: "lit", v: null };
      if (this.accept("(")) {
        const args = this.args();
        if (t.v === "has") {
          const a = args[0];
          if (args.length !== 1 || a.k !== "select") {
            throw new CelSyntaxError("invalid argument to has() macro");
          }
          return { k: "has", operand: a.operand, field: a.field };
        }
        return { k: "call", fn: t.v, args };
      }
      return { k: "ident", name: t.v };
    }
    if (t.v === "(") {
      const e = this.expr();
      this.expect(")");
      return e;
    }
    if (t.v === "[") {
      const items: CelNode[] = [];
      while (!this.accept("]")) {
        items.push(this.expr());
        if (!this.accept(",")) {
          this.expect("]");
          break;
        }
      }
      return { k: "list", items };
    }
    if (t.v === "{") {
      const entries: [CelNode, CelNode][] = [];
      while (!this.accept("}")) {
        const key = this.expr();
        this.expect(":");
        entries.push([key, this.expr()]);
        if (!this.accept(",")) {
          this.expect("}");
          break;
        }
      }
      return { k: "map", entries };
    }
    throw new CelSyntaxError(`Syntax error: unexpected '${t.v || "EOF"}' at ${t.pos}`);
  }
}

/** Parses a CEL expression into a tree; throws {@linkcode CelSyntaxError}. */
export function parseCel(source: string): CelNode {
  const p = new Parser(tokenize(source));
  const node = p.expr();
  const rest = p.peek();
  if (rest.t !== "eof") {
    throw new CelSyntaxError(`Syntax error: unexpected '${rest.v}' at ${rest.pos}`);
  }
  return node;
}

/** Whether the expression mentions `name` as a variable (e.g. `oldSelf` for transition rules). */
export function referencesIdent(node: CelNode, name: string): boolean {
  switch (node.k) {
    case "lit":
      return false;
    case "ident":
      return node.name === name;
    case "select":
    case "has":
      return referencesIdent(node.operand, name);
    case "call":
      return (node.target !== undefined && referencesIdent(node.target, name)) ||
        node.args.some((a) => referencesIdent(a, name));
    case "macro":
      return referencesIdent(node.target, name) || node.args.some((a) => referencesIdent(a, name));
    case "index":
      return referencesIdent(node.operand, name) || referencesIdent(node.index, name);
    case "list":
      return node.items.some((a) => referencesIdent(a, name));
    case "map":
      return node.entries.some(([a, b]) => referencesIdent(a, name) || referencesIdent(b, name));
    case "unary":
      return referencesIdent(node.operand, name);
    case "binary":
      return referencesIdent(node.left, name) || referencesIdent(node.right, name);
    case "cond":
      return referencesIdent(node.test, name) || referencesIdent(node.then, name) ||
        referencesIdent(node.else, name);
  }
}
