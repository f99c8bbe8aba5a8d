// Every manifest of the reference documentation (../shared/spec/examples.yaml) applied unchanged
// with kubectl to a real API server, and the defaults the server fills in equal those of our
// parser for every document. Runs against DROP_E2E_KUBECONFIG too (the examples' objects are
// deleted afterwards there, except the drop-system namespace).
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import {
  parseCachedImage,
  parseCachedImageSet,
  parseDiscoveryPolicy,
  parsePullPolicy,
  type UnknownObject,
} from "../../lib/api/mod.ts";
import {
  announceSkip,
  type E2ECluster,
  e2eTarget,
  OPERATOR_NAMESPACE,
  ROOT,
  withE2ECluster,
} from "./_cluster.ts";

const target = e2eTarget();
const skipped = announceSkip(target, "tests/e2e/examples_test.ts");

const EXAMPLES = `${ROOT}../shared/spec/examples.yaml`;

const PARSERS: Record<string, (o: UnknownObject) => { spec: unknown }> = {
  CachedImage: parseCachedImage,
  CachedImageSet: parseCachedImageSet,
  DiscoveryPolicy: parseDiscoveryPolicy,
  PullPolicy: parsePullPolicy,
};

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: unknown;
}

/** JSON round trip: drops undefined members, as the wire does. */
function wire<T>(v: T): T {
  return JSON.parse(JSON.stringify(v));
}

function plural(kind: string): string {
  return kind === "PullPolicy" || kind === "DiscoveryPolicy"
    ? `${kind.toLowerCase().slice(0, -1)}ies.drop.corewire.io`
    : kind === "Secret" || kind === "Namespace"
    ? `${kind.toLowerCase()}s`
    : `${kind.toLowerCase()}s.drop.corewire.io`;
}

async function exampleScenarios(c: E2ECluster, t: Deno.TestContext, docs: Doc[]) {
  await t.step("server-side defaults equal our parser's for every document", async () => {
    // Each document on its own (a dry run under a fresh name), so that documents updating an
    // earlier object of the same name are checked too.
    for (const [i, doc] of docs.entries()) {
      const parser = PARSERS[doc.kind];
      if (!parser) continue;
      const renamed = { ...doc, metadata: { ...doc.metadata, name: c.name(`example-${i}`) } };
      const out = await c.kubectl(["create", "--dry-run=server", "-o", "json", "-f", "-"], {
        input: JSON.stringify(renamed),
      });
      const server = JSON.parse(out.stdout) as { spec: unknown };
      assert.deepEqual(
        server.spec,
        wire(parser(doc).spec),
        `${doc.kind} ${doc.metadata.name} (document ${i}): server defaults differ from the parser's`,
      );
    }
  });

  await t.step("kubectl apply -f examples.yaml applies every manifest", async () => {
    await c.kubectl(["create", "namespace", OPERATOR_NAMESPACE], { allowFailure: true });
    const r = await c.kubectl(["apply", "-f", EXAMPLES]);
    // One line per document; repeated names are "configured" by their later document.
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, docs.length, r.stdout);
    for (const [i, doc] of docs.entries()) {
      assert.match(
        lines[i],
        new RegExp(`/${doc.metadata.name} (created|configured|unchanged)$`),
        `document ${i}`,
      );
    }
  });

  await t.step("each object holds its last document's spec with our defaults", async () => {
    const last = new Map<string, Doc>();
    for (const doc of docs) last.set(`${doc.kind}/${doc.metadata.name}`, doc);
    for (const doc of last.values()) {
      const args = [plural(doc.kind), doc.metadata.name];
      if (doc.metadata.namespace) args.push("-n", doc.metadata.namespace);
      const live = await c.getJson<{ spec?: unknown; type?: string }>(args);
      const parser = PARSERS[doc.kind];
      if (parser) {
        assert.deepEqual(live.spec, wire(parser(doc).spec), `${doc.kind} ${doc.metadata.name}`);
      }
    }
    // A later document of the same name replaced the earlier one's fields: the war-story
    // popular-build-images has no imageFilter and no secretRef.
    const dp = await c.getJson<
      { spec: { imageFilter?: string; sources: { secretRef?: unknown }[] } }
    >(
      ["discoverypolicy", "popular-build-images"],
    );
    assert.equal(dp.spec.imageFilter, undefined);
    assert.equal(dp.spec.sources[0].secretRef, undefined);
  });

  if (c.mode === "external") {
    const objects = docs.filter((d) => d.kind !== "Namespace");
    await c.kubectl(["delete", "--ignore-not-found", "--wait=false", "-f", "-"], {
      input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
      allowFailure: true,
    });
  }
}

Deno.test({
  name: "e2e: every manifest of the spec's examples applies with kubectl",
  ignore: skipped,
  async fn(t) {
    if ("skip" in target) return;
    const docs = parseAllDocuments(await Deno.readTextFile(EXAMPLES))
      .map((d) => d.toJS() as Doc)
      .filter(Boolean);
    assert.ok(docs.length >= 30, `only ${docs.length} documents in ${EXAMPLES}`);
    await withE2ECluster(target, {}, (c) => exampleScenarios(c, t, docs));
  },
});
