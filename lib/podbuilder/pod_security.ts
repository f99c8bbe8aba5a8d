/**
 * A checker for the `restricted` Pod Security Standard (Kubernetes 1.30), used by the tests to
 * prove that pull Pods are admitted in namespaces that enforce it. Each rule mirrors one check of
 * the Pod Security admission controller, baseline checks included.
 *
 * @module
 */
import type { Container, EphemeralContainer, Pod } from "kubernetes-types/core/v1.d.ts";

const SELINUX_TYPES = new Set([
  "",
  "container_t",
  "container_init_t",
  "container_kvm_t",
  "container_engine_t",
]);
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);
const RESTRICTED_VOLUME_TYPES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);

function allContainers(pod: Pod): { kind: string; c: Container | EphemeralContainer }[] {
  const spec = pod.spec;
  return [
    ...(spec?.initContainers ?? []).map((c) => ({ kind: "initContainer", c })),
    ...(spec?.containers ?? []).map((c) => ({ kind: "container", c })),
    ...(spec?.ephemeralContainers ?? []).map((c) => ({ kind: "ephemeralContainer", c })),
  ];
}

/**
 * Every way `pod` breaks the `restricted` profile, as readable messages; empty when it complies.
 * Also reports a writable root filesystem, which the profile allows but our Pods never have.
 */
export function restrictedViolations(pod: Pod): string[] {
  const out: string[] = [];
  const spec = pod.spec ?? { containers: [] };
  const psc = spec.securityContext ?? {};
  const containers = allContainers(pod);

  // Baseline.
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) out.push("host namespaces are shared");
  if (psc.windowsOptions?.hostProcess) out.push("pod is a Windows HostProcess pod");
  if (psc.seLinuxOptions && !seLinuxAllowed(psc.seLinuxOptions)) {
    out.push("pod seLinuxOptions not allowed");
  }
  if (psc.seccompProfile?.type === "Unconfined") out.push("pod seccompProfile is Unconfined");
  if (psc.appArmorProfile?.type === "Unconfined") out.push("pod appArmorProfile is Unconfined");
  for (const s of psc.sysctls ?? []) {
    if (!SAFE_SYSCTLS.has(s.name)) out.push(`unsafe sysctl ${s.name}`);
  }
  for (const [key, value] of Object.entries(pod.metadata?.annotations ?? {})) {
    if (
      key.startsWith("container.apparmor.security.beta.kubernetes.io/") && value === "unconfined"
    ) {
      out.push(`AppArmor annotation ${key} is unconfined`);
    }
  }

  // Restricted.
  for (const v of spec.volumes ?? []) {
    const types = Object.keys(v).filter((k) => k !== "name");
    for (const t of types) {
      if (!RESTRICTED_VOLUME_TYPES.has(t)) out.push(`volume ${v.name} has type ${t}`);
    }
  }
  if (psc.runAsUser === 0) out.push("pod runAsUser is 0");
  const podSeccompOk = psc.seccompProfile?.type === "RuntimeDefault" ||
    psc.seccompProfile?.type === "Localhost";

  for (const { kind, c } of containers) {
    const sc = c.securityContext ?? {};
    const who = `${kind} ${c.name}`;
    if (sc.privileged) out.push(`${who} is privileged`);
    if (sc.windowsOptions?.hostProcess) out.push(`${who} is a HostProcess container`);
    if ((c.ports ?? []).some((p) => p.hostPort)) out.push(`${who} uses a host port`);
    if (sc.seLinuxOptions && !seLinuxAllowed(sc.seLinuxOptions)) {
      out.push(`${who} seLinuxOptions not allowed`);
    }
    if (sc.procMount && sc.procMount !== "Default") out.push(`${who} procMount is ${sc.procMount}`);
    if (sc.appArmorProfile?.type === "Unconfined") out.push(`${who} appArmorProfile is Unconfined`);
    // Baseline allows a few more added capabilities; restricted allows only this one.
    for (const cap of sc.capabilities?.add ?? []) {
      if (cap !== "NET_BIND_SERVICE") out.push(`${who} adds capability ${cap}`);
    }
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) out.push(`${who} does not drop ALL`);
    if (sc.allowPrivilegeEscalation !== false) {
      out.push(`${who} does not set allowPrivilegeEscalation=false`);
    }
    if (sc.runAsNonRoot === false || (sc.runAsNonRoot !== true && psc.runAsNonRoot !== true)) {
      out.push(`${who} may run as root (runAsNonRoot is not true)`);
    }
    if (sc.runAsUser === 0) out.push(`${who} runAsUser is 0`);
    // Not part of the profile, but our rule for every Pod we ship: nothing writes to the image.
    if (sc.readOnlyRootFilesystem !== true) out.push(`${who} root filesystem is writable`);
    const type = sc.seccompProfile?.type;
    if (type === "Unconfined") out.push(`${who} seccompProfile is Unconfined`);
    else if (!podSeccompOk && type !== "RuntimeDefault" && type !== "Localhost") {
      out.push(`${who} has no RuntimeDefault or Localhost seccompProfile`);
    }
  }
  return out;
}

function seLinuxAllowed(o: { type?: string; user?: string; role?: string }): boolean {
  return SELINUX_TYPES.has(o.type ?? "") && !o.user && !o.role;
}
