/**
 * What can be checked of the container image without a container engine: the runtime needs only
 * libraries the distroless `cc` base ships, and the operator runs as a non-root user on a
 * read-only root filesystem with nothing but its declared permissions.
 */
import assert from "node:assert/strict";
import { startSimCluster } from "../lib/sim/mod.ts";
import { OPERATOR_DENO_FLAG } from "../lib/cli/runtime_flags.ts";
import { freePort, operatorBundle, waitFor } from "./_operator_process.ts";

/** Libraries of glibc and libgcc, which gcr.io/distroless/cc-debian12 provides. */
const DISTROLESS_CC =
  /^(linux-vdso|libc|libm|libdl|librt|libpthread|libgcc_s|libstdc\+\+|ld-linux-x86-64)\.so/;

Deno.test("the Deno runtime needs only libraries of the distroless cc base image", async () => {
  const { code, stdout } = await new Deno.Command("ldd", {
    args: [Deno.execPath()],
    stdout: "piped",
  })
    .output();
  assert.equal(code, 0);
  const libs = new TextDecoder().decode(stdout).split("\n").map((l) => l.trim().split(/\s+/)[0])
    .filter((l) => l).map((l) => l.split("/").pop()!);
  assert.ok(libs.some((l) => l.startsWith("libc.so")), libs.join(" "));
  const foreign = libs.filter((l) => !DISTROLESS_CC.test(l));
  assert.deepEqual(foreign, [], `libraries the base image lacks: ${foreign}`);
});

const canIsolate = Deno.uid() === 0 &&
  (await new Deno.Command("unshare", { args: ["--mount", "true"], stderr: "null" }).output()
    .then((o) => o.success, () => false));
if (!canIsolate) console.log("skip read-only/non-root check: needs root and unshare --mount");

Deno.test({
  name: "the bundle runs as uid 65532 on a read-only root filesystem with -P=operator",
  ignore: !canIsolate,
  async fn() {
    const cluster = await startSimCluster({ nodes: 1 });
    const dir = await Deno.makeTempDir({ prefix: "drop-ro-" });
    await Deno.chmod(dir, 0o755);
    const kubeconfig = `${dir}/kubeconfig`;
    await Deno.writeTextFile(kubeconfig, cluster.kubeconfig, { mode: 0o644 });
    const bundle = await operatorBundle();
    const config = new URL("../deno.json", import.meta.url).pathname;
    const probe = freePort();
    // A private mount namespace whose root is remounted read-only, then the operator as 65532.
    const script = `mount -o remount,ro,bind / / && exec setpriv --reuid 65532 --regid 65532 ` +
      `--clear-groups env -i HOME=/nonexistent "$0" run --config "$1" -P=operator ${OPERATOR_DENO_FLAG} "$2" run ` +
      `--kubeconfig "$3" --metrics-bind-address 0 --health-probe-bind-address 127.0.0.1:$4`;
    const child = new Deno.Command("unshare", {
      args: [
        "--mount",
        "sh",
        "-c",
        script,
        Deno.execPath(),
        config,
        bundle,
        kubeconfig,
        String(probe),
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      await waitFor("readyz", async () => {
        const res = await fetch(`http://127.0.0.1:${probe}/readyz`);
        await res.body?.cancel();
        return res.status === 200;
      });
      const ps = await new Deno.Command("ps", {
        args: ["-o", "uid=", "--ppid", String(child.pid)],
        stdout: "piped",
      }).output();
      const uids = new TextDecoder().decode(ps.stdout).trim().split(/\s+/).filter(Boolean);
      assert.ok(uids.length === 0 || uids.every((u) => u === "65532"), `uids ${uids}`);
    } finally {
      try {
        child.kill("SIGTERM");
      } catch {
        // It already exited; its status and stderr say why.
      }
      const status = await child.status;
      const err = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
      assert.equal(status.code, 0, err);
      assert.doesNotMatch(err, /NotCapable|Read-only file system|EROFS/);
      await cluster.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
