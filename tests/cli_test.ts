/** The `drop` command as a user types it: help, version, usage errors with exit status 2. */
import assert from "node:assert/strict";

async function drop(...args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=operator", "main.ts", ...args],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, out: new TextDecoder().decode(stdout), err: new TextDecoder().decode(stderr) };
}

Deno.test("drop --version and --help", async () => {
  const v = await drop("--version");
  assert.equal(v.code, 0);
  assert.match(v.out, /^drop \d+\.\d+\.\d+ \(deno \d+\.\d+\.\d+\)/);
  const h = await drop("--help");
  assert.equal(h.code, 0);
  for (const cmd of ["run", "demo", "sim", "discover"]) {
    assert.match(h.out, new RegExp(`\\n  ${cmd} `));
  }
  const r = await drop("run", "--help");
  assert.equal(r.code, 0);
  assert.match(r.out, /--health-probe-bind-address ADDR/);
});

Deno.test("usage errors exit 2 with one clear line", async () => {
  for (
    const [args, re] of [
      [["--bogus"], /drop: Unknown flag --bogus/],
      [["frobnicate"], /drop: Unknown command "frobnicate"/],
      [["run", "--workers=-1"], /drop: Invalid value "-1" for --workers/],
      [["discover"], /drop: Missing -f FILE/],
    ] as [string[], RegExp][]
  ) {
    const r = await drop(...args);
    assert.equal(r.code, 2, `${args}: ${r.err}`);
    assert.match(r.err, re);
    assert.match(r.err, /Run "drop --help" for usage/);
  }
});

Deno.test("an unreadable kubeconfig is a clear error, not a crash", async () => {
  const r = await drop(
    "run",
    "--kubeconfig=/nonexistent/config",
    "--metrics-bind-address=0",
    "--health-probe-bind-address=0",
  );
  assert.equal(r.code, 1);
  assert.match(r.err, /Cannot load the Kubernetes configuration/);
  assert.doesNotMatch(r.err, /Uncaught|stack/i);
});
