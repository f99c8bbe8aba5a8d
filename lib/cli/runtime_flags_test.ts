import assert from "node:assert/strict";
import { OPERATOR_DENO_FLAG, OPERATOR_ENV } from "./runtime_flags.ts";

const root = new URL("../../", import.meta.url);

Deno.test("the operator's V8 flags are the same in deno.json tasks and the Dockerfile", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  for (const task of ["start", "dev", "compile"]) {
    assert.ok(
      String(config.tasks[task]).includes(OPERATOR_DENO_FLAG),
      `task ${task} lacks ${OPERATOR_DENO_FLAG}`,
    );
  }
  const dockerfile = await Deno.readTextFile(new URL("Dockerfile", root));
  const compile =
    dockerfile.split("\n").find((l) => l.startsWith("RUN") && l.includes("deno compile")) ?? "";
  assert.ok(compile.includes(OPERATOR_DENO_FLAG), `Dockerfile compile line: ${compile}`);
});

Deno.test("the operator's environment is set in the image and in the tasks that run it", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const dockerfile = await Deno.readTextFile(new URL("Dockerfile", root));
  const image = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  for (const [name, value] of Object.entries(OPERATOR_ENV)) {
    for (const task of ["start", "dev"]) {
      assert.ok(
        String(config.tasks[task]).startsWith(`${name}=${value} `),
        `task ${task} does not set ${name}=${value}`,
      );
    }
    assert.ok(
      image.split("\n").includes(`ENV ${name}=${value}`),
      `the Dockerfile's final stage lacks ENV ${name}=${value}`,
    );
  }
});
