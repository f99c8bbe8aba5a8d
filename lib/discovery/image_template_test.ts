import assert from "node:assert/strict";
import { compileImageTemplate } from "./image_template.ts";
import { DiscoveryError } from "./errors.ts";

const values = { registry: "registry.example.com:5000", repository: "team/app", tag: "v1.2.3" };

Deno.test("the default template is registry/repository:tag", () => {
  assert.equal(
    compileImageTemplate(undefined)(values),
    "registry.example.com:5000/team/app:v1.2.3",
  );
  assert.equal(compileImageTemplate(" ")(values), "registry.example.com:5000/team/app:v1.2.3");
});

Deno.test("templates accept spaces inside the braces and literal text around actions", () => {
  const t = compileImageTemplate("registry.gitlab.com/{{ .Repository }}:x86_64-{{.Tag }}");
  assert.equal(t(values), "registry.gitlab.com/team/app:x86_64-v1.2.3");
  assert.equal(
    compileImageTemplate("{{.Registry}}/{{.Repository}}@{{.Tag}}")({
      ...values,
      tag: "sha256:abc",
    }),
    "registry.example.com:5000/team/app@sha256:abc",
  );
});

Deno.test("anything but the three actions is an InvalidSpec error", () => {
  for (
    const bad of [
      "{{.Registry}}/{{.Repository}}:{{.Tag | printf}}",
      "{{ .Image }}",
      '{{printf "%s" .Tag}}',
      "{{.Tag}}}",
      "{.Tag}",
      "{{- .Tag -}}",
      "{{.tag}}",
    ]
  ) {
    assert.throws(
      () => compileImageTemplate(bad),
      (e) =>
        e instanceof DiscoveryError && e.reason === "InvalidSpec" &&
        e.message.includes(JSON.stringify(bad)),
      bad,
    );
  }
});
