import assert from "node:assert/strict";
import { type FlagSpec, formatFlags, parseFlags, UsageError } from "./flags.ts";

const SPECS: Record<string, FlagSpec> = {
  kubeconfig: { type: "string", help: "Path" },
  "pod-namespace": { type: "string", default: "drop-system", help: "Namespace" },
  "leader-elect": { type: "boolean", default: false, help: "Elect" },
  nodes: { type: "number", default: 5, help: "Nodes" },
  "log-format": { type: "string", default: "text", choices: ["json", "text"], help: "Format" },
  timeout: { type: "duration", default: "30s", help: "Timeout" },
};

Deno.test("parseFlags reads both value syntaxes, booleans and defaults", () => {
  const p = parseFlags(
    ["--kubeconfig=/k", "--leader-elect", "--nodes", "3", "pos", "--log-format=json"],
    SPECS,
  );
  assert.equal(p.values.kubeconfig, "/k");
  assert.equal(p.values["leader-elect"], true);
  assert.equal(p.values.nodes, 3);
  assert.equal(p.values["pod-namespace"], "drop-system");
  assert.equal(p.values["log-format"], "json");
  assert.deepEqual(p.positional, ["pos"]);
  assert.equal(parseFlags(["--leader-elect=false"], SPECS).values["leader-elect"], false);
  assert.equal(parseFlags(["-h"], SPECS).help, true);
});

Deno.test("parseFlags rejects unknown flags and bad values with clear messages", () => {
  const bad: [string[], RegExp][] = [
    [["--nope"], /Unknown flag --nope/],
    [["--nodes", "many"], /Invalid value "many" for --nodes: expected a number/],
    [["--log-format=xml"], /expected one of json, text/],
    [["--leader-elect=yes"], /expected true or false/],
    [["--kubeconfig"], /needs a value/],
    [["--timeout=5"], /expected a duration/],
  ];
  for (const [args, message] of bad) {
    assert.throws(() => parseFlags(args, SPECS), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("formatFlags lists every flag with its default", () => {
  const text = formatFlags(SPECS);
  assert.match(text, /--pod-namespace STRING\s+Namespace \(default drop-system\)/);
  assert.match(text, /--log-format STRING\s+Format \[json\|text\] \(default text\)/);
});
