/**
 * The README's main command: `deno task demo` runs to completion with exit code 0, with its
 * declared permission set, and shows what a newcomer should see.
 */
import assert from "node:assert/strict";

Deno.test("deno task demo runs to completion and reports warm, failures and API load", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "demo", "--plain"],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `${out}\n${err}`);
  assert.match(out, /Starting a simulated cluster with 5 nodes/);
  assert.match(out, /alpine:3\.19: Ready 5\/5/);
  assert.match(out, /static-debian12:nonroot: Ready 5\/5/, "a distroless image is cached");
  assert.match(out, /team\/app:v1\.10\.0: Ready 5\/5/, "discovered images are cached");
  assert.match(out, /warm after\s+\d+\.\ds \(6\/7 images Ready on 5 nodes\)/);
  assert.match(out, /API requests\s+\d+/);
  assert.match(
    out,
    /registry\.invalid\.local:9999\/does-not-exist:nope: 0\/5 nodes ready: dns: cannot resolve registry\.invalid\.local/,
  );
  assert.doesNotMatch(err, /NotCapable|error:/i);
});
