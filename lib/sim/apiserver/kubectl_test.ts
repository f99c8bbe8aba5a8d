/**
 * The real kubectl against the simulated API server over HTTPS with a token identity.
 * Skipped (with the reason printed) when no kubectl is found: set TEST_ASSET_KUBECTL or put
 * kubectl on PATH.
 */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { widgetCrd } from "./_testdata.ts";
import { type ApiServer, startApiServer } from "./mod.ts";

const EXAMPLES = new URL("../../../../shared/spec/examples.yaml", import.meta.url);
const CRDS_DIR = new URL("../../../crds/", import.meta.url);

function findKubectl(): string | undefined {
  const explicit = Deno.env.get("TEST_ASSET_KUBECTL");
  if (explicit) return explicit;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const p = `${dir}/kubectl`;
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

function exists(url: URL): boolean {
  try {
    Deno.statSync(url);
    return true;
  } catch {
    return false;
  }
}

const KUBECTL = findKubectl();
if (!KUBECTL) {
  console.log("kubectl tests skipped: no kubectl on PATH and TEST_ASSET_KUBECTL is unset");
} else if (!exists(EXAMPLES)) {
  console.log(`kubectl apply of the spec examples skipped: ${EXAMPLES.pathname} not found`);
}

/** Our CRDs from crds/ when generated, else the test CRD. */
function crdsToRegister(): Record<string, unknown>[] {
  if (!exists(CRDS_DIR)) return [widgetCrd()];
  const out: Record<string, unknown>[] = [];
  for (const f of Deno.readDirSync(CRDS_DIR)) {
    if (!f.name.endsWith(".yaml")) continue;
    for (const doc of parseAllDocuments(Deno.readTextFileSync(new URL(f.name, CRDS_DIR)))) {
      const crd = doc.toJS();
      if (crd?.kind === "CustomResourceDefinition") out.push(crd);
    }
  }
  return out.length ? out : [widgetCrd()];
}

class Kubectl {
  readonly dir: string;
  readonly env: Record<string, string>;
  constructor(server: ApiServer) {
    this.dir = Deno.makeTempDirSync({ prefix: "drop-sim-kubectl-" });
    Deno.writeTextFileSync(`${this.dir}/kubeconfig`, server.kubeconfig());
    this.env = {
      KUBECONFIG: `${this.dir}/kubeconfig`,
      HOME: this.dir,
      KUBECACHEDIR: `${this.dir}/cache`,
    };
  }

  async run(
    args: string[],
    input?: string,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const cmd = new Deno.Command(KUBECTL!, {
      args: [...args, "--request-timeout=30s"],
      env: this.env,
      stdin: input === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    });
    const child = cmd.spawn();
    if (input !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(input));
      await w.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  }

  /** Runs and fails the test on a non-zero exit. */
  async ok(args: string[], input?: string): Promise<string> {
    const r = await this.run(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  cleanup(): void {
    Deno.removeSync(this.dir, { recursive: true });
  }
}

/** Reads a child's stdout until `pred` holds for the accumulated text or the deadline passes. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  pred: (text: string) => boolean,
  sofar: string,
  timeoutMs = 20_000,
): Promise<string> {
  const dec = new TextDecoder();
  const deadline = Date.now() + timeoutMs;
  let text = sofar;
  while (!pred(text)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`kubectl output never satisfied the expectation; got:\n${text}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      reader.read(),
      new Promise<"timeout">((res) => (timer = setTimeout(() => res("timeout"), left))),
    ]);
    clearTimeout(timer);
    if (r === "timeout") continue;
    if (r.done) throw new Error(`kubectl exited before the expected output; got:\n${text}`);
    text += dec.decode(r.value, { stream: true });
  }
  return text;
}

Deno.test({
  name: "kubectl works against the simulated API server",
  ignore: !KUBECTL,
  async fn(t) {
    const server = await startApiServer({ tls: true });
    for (const crd of crdsToRegister()) server.registerCrd(crd);
    const k = new Kubectl(server);
    const ourCrds = exists(CRDS_DIR) &&
      server.store.get(
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "cachedimages.drop.corewire.io",
      );
    try {
      await t.step("discovery: api-resources lists built-ins and CRDs", async () => {
        const out = await k.ok(["api-resources"]);
        assert.match(out, /^pods\s+po\s+v1\s+true\s+Pod$/m);
        assert.match(out, /^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m);
      });

      await t.step({
        name: "apply -f examples.yaml, client-side then server-side",
        ignore: !ourCrds || !exists(EXAMPLES),
        fn: async () => {
          const first = await k.ok(["apply", "-f", EXAMPLES.pathname]);
          assert.match(first, /^namespace\/drop-system created$/m);
          assert.match(first, /^cachedimage\.drop\.corewire\.io\/alpine-3-20 created$/m);
          assert.match(first, /^secret\/private-registry-pull created$/m);
          assert.match(
            first,
            /^discoverypolicy\.drop\.corewire\.io\/popular-build-images configured$/m,
            "a repeated name updates",
          );
          const again = await k.ok(["apply", "-f", EXAMPLES.pathname]);
          assert.match(again, /^cachedimage\.drop\.corewire\.io\/alpine-3-20 unchanged$/m);
          const ssa = await k.ok(["apply", "--server-side", "-f", EXAMPLES.pathname]);
          assert.match(ssa, /^cachedimage\.drop\.corewire\.io\/alpine-3-20 serverside-applied$/m);
          const data = await k.ok([
            "get",
            "secret",
            "-n",
            "drop-system",
            "prometheus-creds",
            "-o",
            "jsonpath={.data.token}",
          ]);
          assert.equal(atob(data), "REPLACE_WITH_PROMETHEUS_TOKEN");
          const getCi = await k.ok(["get", "cachedimages"]);
          const header = getCi.split("\n")[0].split(/\s+/);
          assert.deepEqual(header.slice(0, 2), ["NAME", "IMAGE"]);
          assert.ok(
            header.includes("AGE") && header.includes("READY") && header.includes("TAG"),
            getCi,
          );
          assert.match(getCi, /^alpine-3-20\s+docker\.io\/library\/alpine\s+3\.20\s/m);
          const defaults = await k.ok([
            "get",
            "ci",
            "alpine-3-20",
            "-o",
            "jsonpath={.spec.imagePullPolicy}",
          ]);
          assert.equal(defaults, "Always", "schema default applied");
          const invalid = await k.run(
            ["apply", "-f", "-"],
            "apiVersion: drop.corewire.io/v1alpha1\nkind: CachedImage\nmetadata:\n  name: both\nspec:\n  image: a/b\n  tag: x\n  digest: sha256:" +
              "a".repeat(64) + "\n",
          );
          assert.notEqual(invalid.code, 0);
          assert.match(
            invalid.stderr,
            /is invalid: spec: Invalid value: "object": tag and digest are mutually exclusive/,
          );
        },
      });

      await t.step("create, get -o yaml/jsonpath, describe, label", async () => {
        await k.ok(["create", "namespace", "work"]);
        await k.ok(["create", "configmap", "cfg", "-n", "work", "--from-literal=a=b"]);
        // kubectl's typed clients send these as protobuf.
        await k.ok([
          "create",
          "secret",
          "docker-registry",
          "reg",
          "-n",
          "work",
          "--docker-server=private.example.com",
          "--docker-username=u",
          "--docker-password=p",
        ]);
        await k.ok(["create", "serviceaccount", "bot", "-n", "work"]);
        const dockercfg = await k.ok([
          "get",
          "secret",
          "reg",
          "-n",
          "work",
          "-o",
          "jsonpath={.type} {.data.\\.dockerconfigjson}",
        ]);
        const [type, data] = dockercfg.split(" ");
        assert.equal(type, "kubernetes.io/dockerconfigjson");
        assert.equal(JSON.parse(atob(data)).auths["private.example.com"].username, "u");
        const yaml = await k.ok(["get", "configmap", "cfg", "-n", "work", "-o", "yaml"]);
        assert.match(yaml, /^kind: ConfigMap$/m);
        assert.match(yaml, /^ {2}a: b$/m);
        assert.equal(
          await k.ok(["get", "cm", "cfg", "-n", "work", "-o", "jsonpath={.data.a}"]),
          "b",
        );
        await k.ok(["label", "cm", "cfg", "-n", "work", "team=x"]);
        assert.match(
          await k.ok(["get", "cm", "-n", "work", "-l", "team=x", "-o", "name"]),
          /^configmap\/cfg$/m,
        );
        assert.equal(
          (await k.ok(["get", "cm", "-n", "work", "-l", "team!=x", "-o", "name"])).trim(),
          "",
        );
        const described = await k.ok(["describe", "configmap", "cfg", "-n", "work"]);
        assert.match(described, /^Name:\s+cfg$/m);
        assert.match(described, /^Labels:\s+team=x$/m);
      });

      await t.step("nodes: taint, label, describe, printer columns", async () => {
        await k.ok(
          ["apply", "-f", "-"],
          JSON.stringify({
            apiVersion: "v1",
            kind: "Node",
            metadata: { name: "n1", labels: { "kubernetes.io/hostname": "n1" } },
            status: {
              conditions: [{
                type: "Ready",
                status: "True",
                reason: "KubeletReady",
                message: "ok",
              }],
              nodeInfo: { kubeletVersion: "v1.32.0" },
            },
          }),
        );
        await k.ok(["taint", "node", "n1", "dedicated=build:NoSchedule"]);
        assert.equal(
          await k.ok([
            "get",
            "node",
            "n1",
            "-o",
            "jsonpath={.spec.taints[0].key}={.spec.taints[0].value}:{.spec.taints[0].effect}",
          ]),
          "dedicated=build:NoSchedule",
        );
        await k.ok(["taint", "node", "n1", "dedicated:NoSchedule-"]);
        assert.equal(await k.ok(["get", "node", "n1", "-o", "jsonpath={.spec.taints}"]), "");
        await k.ok(["label", "node", "n1", "node-role.kubernetes.io/build=true"]);
        assert.match(await k.ok(["get", "nodes"]), /^n1\s+Ready\s+build\s+\S+\s+v1\.32\.0$/m);
        assert.match(await k.ok(["describe", "node", "n1"]), /^Roles:\s+build$/m);
      });

      await t.step("patch --type merge and json; wait --for=condition", async () => {
        const group = ourCrds ? "cachedimages.drop.corewire.io" : "widgets.example.com";
        const manifest = ourCrds
          ? {
            apiVersion: "drop.corewire.io/v1alpha1",
            kind: "CachedImage",
            metadata: { name: "waited" },
            spec: { image: "docker.io/library/busybox", tag: "1" },
          }
          : {
            apiVersion: "example.com/v1",
            kind: "Widget",
            metadata: { name: "waited" },
            spec: { size: 1 },
          };
        await k.ok(["apply", "-f", "-"], JSON.stringify(manifest));
        const field = ourCrds ? "tag" : "size";
        await k.ok([
          "patch",
          group,
          "waited",
          "--type",
          "merge",
          "-p",
          JSON.stringify({ spec: { [field]: ourCrds ? "2" : 2 } }),
        ]);
        await k.ok([
          "patch",
          group,
          "waited",
          "--type",
          "json",
          "-p",
          JSON.stringify([{ op: "replace", path: `/spec/${field}`, value: ourCrds ? "3" : 3 }]),
        ]);
        assert.equal(
          await k.ok([
            "get",
            group,
            "waited",
            "-o",
            `jsonpath={.spec.${field}} {.metadata.generation}`,
          ]),
          "3 3",
        );
        const failed = await k.run([
          "patch",
          group,
          "waited",
          "--type",
          "json",
          "-p",
          JSON.stringify([{ op: "test", path: `/spec/${field}`, value: "nope" }]),
        ]);
        assert.notEqual(failed.code, 0);
        assert.match(failed.stderr, /test failed/);
        const waiter = new Deno.Command(KUBECTL!, {
          args: ["wait", `--for=condition=Ready`, `${group}/waited`, "--timeout=60s"],
          env: k.env,
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const status = {
          status: {
            conditions: [{
              type: "Ready",
              status: "True",
              reason: "Cached",
              message: "all nodes",
              lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
            }],
          },
        };
        await k.ok([
          "patch",
          group,
          "waited",
          "--subresource=status",
          "--type",
          "merge",
          "-p",
          JSON.stringify(status),
        ]);
        const out = await waiter.output();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
        assert.match(new TextDecoder().decode(out.stdout), /condition met/);
      });

      await t.step("get -w prints changes as they happen", async () => {
        const child = new Deno.Command(KUBECTL!, {
          args: ["get", "configmaps", "-n", "work", "-w"],
          env: k.env,
          stdout: "piped",
          stderr: "null",
        }).spawn();
        const reader = child.stdout.getReader();
        try {
          let text = await readUntil(reader, (s) => /^cfg\s+1\s/m.test(s), "");
          await k.ok(["create", "configmap", "later", "-n", "work", "--from-literal=x=y"]);
          text = await readUntil(reader, (s) => /^later\s+1\s/m.test(s), text);
          assert.equal(
            text.split("\n").filter((l) => l.startsWith("NAME")).length,
            1,
            "one header",
          );
        } finally {
          child.kill("SIGTERM");
          await reader.cancel().catch(() => {});
          await child.status;
        }
      });

      await t.step(
        "delete --cascade=foreground removes dependents first; namespace deletion",
        async () => {
          await k.ok(["create", "configmap", "owner", "-n", "work"]);
          const uid = await k.ok([
            "get",
            "cm",
            "owner",
            "-n",
            "work",
            "-o",
            "jsonpath={.metadata.uid}",
          ]);
          for (const n of ["dep-1", "dep-2"]) {
            await k.ok(
              ["apply", "-f", "-"],
              JSON.stringify({
                apiVersion: "v1",
                kind: "ConfigMap",
                metadata: {
                  name: n,
                  namespace: "work",
                  ownerReferences: [{
                    apiVersion: "v1",
                    kind: "ConfigMap",
                    name: "owner",
                    uid,
                    blockOwnerDeletion: true,
                  }],
                },
              }),
            );
          }
          await k.ok(["delete", "cm", "owner", "-n", "work", "--cascade=foreground"]);
          assert.equal(
            (await k.ok(["get", "cm", "-n", "work", "-o", "name"])).split("\n").filter((l) =>
              l.includes("dep-")
            ).length,
            0,
          );
          await k.ok(["delete", "namespace", "work"]);
          const gone = await k.run(["get", "namespace", "work"]);
          assert.notEqual(gone.code, 0);
          assert.match(gone.stderr, /namespaces "work" not found/);
        },
      );

      await t.step({
        name: "explain a CRD field",
        ignore: !ourCrds,
        fn: async () => {
          const out = await k.ok(["explain", "cachedimages.spec.image"]);
          assert.match(out, /FIELD:\s+image <string>/);
        },
      });
    } finally {
      k.cleanup();
      await server.stop();
    }
  },
});
