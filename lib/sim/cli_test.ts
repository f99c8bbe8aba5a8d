import assert from "node:assert/strict";
import type { Node } from "kubernetes-types/core/v1.d.ts";
import { configFromKubeconfigText, KubeClient, NODES } from "../kube/mod.ts";
import { waitFor } from "./_test_util.ts";
import { parseSimArgs, runSimCommand } from "./cli.ts";

Deno.test("flags: defaults, both spellings, and invalid values", () => {
  assert.deepEqual(parseSimArgs([]), {
    nodes: 3,
    port: 0,
    kubeconfig: "drop-sim.kubeconfig",
    timeScale: 1,
    tls: false,
    help: false,
  });
  const parsed = parseSimArgs([
    "--nodes",
    "5",
    "--port=6443",
    "--kubeconfig",
    "/tmp/k",
    "--time-scale=0.1",
    "--tls",
  ]);
  assert.equal(parsed.nodes, 5);
  assert.equal(parsed.port, 6443);
  assert.equal(parsed.kubeconfig, "/tmp/k");
  assert.equal(parsed.timeScale, 0.1);
  assert.equal(parsed.tls, true);
  assert.throws(() => parseSimArgs(["--nodes", "-1"]), /--nodes "-1": it must be an integer/);
  assert.throws(() => parseSimArgs(["--time-scale", "0"]), /above 0/);
  assert.throws(() => parseSimArgs(["--port"]), /needs a value/);
  assert.throws(() => parseSimArgs(["--frobnicate"]), /unknown flag/);
});

Deno.test("drop sim: invalid flags exit 2 with usage", async () => {
  const errors: string[] = [];
  const code = await runSimCommand(["--nodes", "x"], {
    print: () => {},
    printError: (l) => errors.push(l),
  });
  assert.equal(code, 2);
  assert.match(errors[0], /Cannot parse --nodes "x"/);
  assert.match(errors[1], /^Usage: drop sim/);
});

Deno.test("drop sim: kubeconfig written once nodes are Ready, removed after a clean stop", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kc`;
  const stop = new AbortController();
  const lines: string[] = [];
  const run = runSimCommand(["--nodes", "2", "--kubeconfig", path, "--time-scale", "0.01"], {
    signal: stop.signal,
    print: (l) => lines.push(l),
  });
  try {
    const text = await waitFor(async () => {
      try {
        return await Deno.readTextFile(path);
      } catch {
        return undefined;
      }
    }, "the kubeconfig");
    const client = new KubeClient(configFromKubeconfigText(text));
    try {
      const nodes = await client.resource<Node>(NODES).list();
      assert.equal(nodes.items.length, 2);
      for (const node of nodes.items) {
        assert.equal(node.status!.conditions!.find((c) => c.type === "Ready")!.status, "True");
      }
    } finally {
      client.close();
    }
    await waitFor(() => lines.includes("Press Ctrl-C to stop.") || undefined, "the banner");
    assert.ok(lines.includes(`  export KUBECONFIG=${path}`));
    assert.ok(lines.includes("  kubectl get cachedimages"));
  } finally {
    stop.abort();
    assert.equal(await run, 0);
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
    await Deno.remove(dir, { recursive: true });
  }
});
