import assert from "node:assert/strict";
import { UsageError } from "./flags.ts";
import { runOptions } from "./run.ts";

Deno.test("runOptions applies controller-runtime style defaults", () => {
  const o = runOptions([]);
  assert.ok(o !== "help");
  assert.equal(o.podNamespace, "drop-system");
  assert.deepEqual(o.metricsBind, { hostname: "0.0.0.0", port: 8080 });
  assert.deepEqual(o.probeBind, { hostname: "0.0.0.0", port: 8081 });
  assert.equal(o.leaderElect, false);
  assert.equal(o.leaderElectionNamespace, "drop-system");
  assert.equal(o.pullDeadlineSeconds, 600);
  assert.equal(o.logFormat, "text");
});

Deno.test("runOptions reads every flag", () => {
  const o = runOptions([
    "--kubeconfig=/k",
    "--context",
    "kind-kind",
    "--pod-namespace=ci-cache",
    "--metrics-bind-address=0",
    "--health-probe-bind-address=127.0.0.1:9",
    "--leader-elect",
    "--workers=8",
    "--pull-deadline=90s",
    "--log-format=json",
    "--log-level=debug",
  ]);
  assert.ok(o !== "help");
  assert.equal(o.kubeconfig, "/k");
  assert.equal(o.context, "kind-kind");
  assert.equal(o.leaderElectionNamespace, "ci-cache", "the Lease follows the pod namespace");
  assert.equal(o.metricsBind, undefined, '"0" disables metrics');
  assert.deepEqual(o.probeBind, { hostname: "127.0.0.1", port: 9 });
  assert.equal(o.workers, 8);
  assert.equal(o.pullDeadlineSeconds, 90);
  assert.equal(runOptions(["--help"]), "help");
});

Deno.test("runOptions rejects bad values with a clear message", () => {
  const cases: [string[], RegExp][] = [
    [["--workers=0"], /--workers: expected a positive integer/],
    [["--metrics-bind-address=8080"], /--metrics-bind-address/],
    [["--log-format=xml"], /expected one of json, text/],
    [["--pull-deadline=ten"], /expected a duration/],
    [["extra"], /Unexpected argument "extra"/],
    [["--leader-elect=maybe"], /expected true or false/],
  ];
  for (const [args, re] of cases) {
    assert.throws(
      () => runOptions(args),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
    );
  }
});
