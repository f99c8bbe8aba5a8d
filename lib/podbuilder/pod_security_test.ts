import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { restrictedViolations } from "./pod_security.ts";

function compliant(): Pod {
  return {
    metadata: { name: "p" },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      containers: [{
        name: "c",
        securityContext: {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          readOnlyRootFilesystem: true,
        },
      }],
    },
  };
}

Deno.test("restrictedViolations accepts a minimal compliant pod", () => {
  assert.deepEqual(restrictedViolations(compliant()), []);
});

Deno.test("restrictedViolations reports each broken rule", () => {
  const cases: [string, (p: Pod) => void, RegExp][] = [
    ["host network", (p) => p.spec!.hostNetwork = true, /host namespaces/],
    [
      "writable root",
      (p) => p.spec!.containers[0].securityContext!.readOnlyRootFilesystem = false,
      /root filesystem is writable/,
    ],
    ["privileged", (p) => p.spec!.containers[0].securityContext!.privileged = true, /privileged/],
    [
      "escalation",
      (p) => p.spec!.containers[0].securityContext!.allowPrivilegeEscalation = true,
      /allowPrivilegeEscalation/,
    ],
    ["no drop ALL", (p) => p.spec!.containers[0].securityContext!.capabilities = {}, /drop ALL/],
    [
      "added capability",
      (p) => p.spec!.containers[0].securityContext!.capabilities!.add = ["SYS_ADMIN"],
      /adds capability SYS_ADMIN/,
    ],
    ["root allowed", (p) => delete p.spec!.securityContext!.runAsNonRoot, /may run as root/],
    ["uid 0", (p) => p.spec!.containers[0].securityContext!.runAsUser = 0, /runAsUser is 0/],
    ["no seccomp", (p) => delete p.spec!.securityContext!.seccompProfile, /seccompProfile/],
    [
      "unconfined seccomp",
      (p) => p.spec!.containers[0].securityContext!.seccompProfile = { type: "Unconfined" },
      /Unconfined/,
    ],
    [
      "hostPath",
      (p) => p.spec!.volumes = [{ name: "h", hostPath: { path: "/" } }],
      /type hostPath/,
    ],
    [
      "host port",
      (p) => p.spec!.containers[0].ports = [{ containerPort: 80, hostPort: 80 }],
      /host port/,
    ],
    [
      "init container",
      (p) => p.spec!.initContainers = [{ name: "i" }],
      /initContainer i does not drop ALL/,
    ],
    [
      "unsafe sysctl",
      (p) => p.spec!.securityContext!.sysctls = [{ name: "kernel.msgmax", value: "1" }],
      /unsafe sysctl/,
    ],
  ];
  for (const [what, breakIt, expected] of cases) {
    const pod = compliant();
    breakIt(pod);
    const violations = restrictedViolations(pod);
    assert.ok(
      violations.some((v) => expected.test(v)),
      `${what}: expected a violation matching ${expected}, got ${JSON.stringify(violations)}`,
    );
  }
});

Deno.test("restrictedViolations accepts container-level runAsNonRoot and seccomp", () => {
  const pod = compliant();
  pod.spec!.securityContext = {};
  Object.assign(pod.spec!.containers[0].securityContext!, {
    runAsNonRoot: true,
    seccompProfile: { type: "Localhost", localhostProfile: "p.json" },
  });
  assert.deepEqual(restrictedViolations(pod), []);
});
