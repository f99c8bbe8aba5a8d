/**
 * The reasons and messages a kubelet (v1.30 with containerd 1.7) writes into pod status and
 * Events, so the operator meets the shapes it meets on a real cluster.
 *
 * @module
 */
import { parseImageReference } from "../api/mod.ts";
import { hostnameOf, type ResolveFailure } from "./registry_catalogue.ts";
import { unitFraction } from "./_hash.ts";

/** Waiting and termination reasons of container states, as the kubelet names them. */
export const REASONS = {
  containerCreating: "ContainerCreating",
  errImagePull: "ErrImagePull",
  imagePullBackOff: "ImagePullBackOff",
  errImageNeverPull: "ErrImageNeverPull",
  invalidImageName: "InvalidImageName",
  completed: "Completed",
  error: "Error",
  startError: "StartError",
  deadlineExceeded: "DeadlineExceeded",
  containerStatusUnknown: "ContainerStatusUnknown",
} as const;

/** The manifest URL containerd asks first (Docker Hub is served from `registry-1.docker.io`). */
function headUrl(ref: string): string {
  const p = parseImageReference(ref);
  const host = p.registry === "docker.io" ? "registry-1.docker.io" : p.registry;
  return `https://${host}/v2/${p.repository}/manifests/${p.digest ?? p.tag ?? "latest"}`;
}

/**
 * The fully qualified reference containerd reports: registry and `library/` made explicit and
 * `latest` assumed; a digest reference keeps only the digest.
 */
export function containerdReference(ref: string): string {
  const p = parseImageReference(ref);
  const base = `${p.registry}/${p.repository}`;
  return p.digest ? `${base}@${p.digest}` : `${base}:${p.tag ?? "latest"}`;
}

/** The address a host name "resolves" to in messages: stable per host, in 10.0.0.0/8. */
function addressOf(host: string): string {
  const f = unitFraction(`ip:${host}`);
  const n = Math.floor(f * 2 ** 24);
  const port = host.includes(":") && !host.endsWith("]")
    ? host.slice(host.lastIndexOf(":") + 1)
    : "443";
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${Math.max(1, n & 255)}:${port}`;
}

/**
 * The error of a failed pull as the kubelet puts it into `state.waiting.message` of an
 * `ErrImagePull` container: containerd's error wrapped in the gRPC status text.
 */
export function pullErrorMessage(ref: string, failure: ResolveFailure): string {
  const canon = containerdReference(ref);
  const p = parseImageReference(ref);
  const head = headUrl(ref);
  const unpack = `failed to pull and unpack image "${canon}"`;
  const resolve = `failed to resolve reference "${canon}"`;
  switch (failure) {
    case "not-found":
      return `rpc error: code = NotFound desc = ${unpack}: ${resolve}: ${canon}: not found`;
    case "dns":
      return `rpc error: code = Unknown desc = ${unpack}: ${resolve}: failed to do request: Head "${head}": dial tcp: lookup ${
        hostnameOf(p.registry)
      }: no such host`;
    case "connection-refused":
      return `rpc error: code = Unknown desc = ${unpack}: ${resolve}: failed to do request: Head "${head}": dial tcp ${
        addressOf(p.registry)
      }: connect: connection refused`;
    case "timeout":
      return `rpc error: code = Unknown desc = ${unpack}: ${resolve}: failed to do request: Head "${head}": dial tcp ${
        addressOf(p.registry)
      }: i/o timeout`;
    case "unavailable":
      return `rpc error: code = Unknown desc = ${unpack}: ${resolve}: unexpected status from HEAD request to ${head}: 503 Service Unavailable`;
    case "unauthorized":
      return `rpc error: code = Unknown desc = ${unpack}: ${resolve}: unexpected status from HEAD request to ${head}: 401 Unauthorized`;
  }
}

/** The termination message of a container whose command does not exist in its image. */
export function startErrorMessage(executable: string): string {
  return `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${executable}": executable file not found in $PATH: unknown`;
}

/** Event and status messages, worded as the kubelet's. */
export const messages = {
  pulling: (image: string) => `Pulling image "${image}"`,
  pulled: (image: string, pullMs: number, totalMs: number, size: number) =>
    `Successfully pulled image "${image}" in ${goDuration(pullMs)} (${
      goDuration(totalMs)
    } including waiting). Image size: ${size} bytes.`,
  alreadyPresent: (image: string) => `Container image "${image}" already present on machine`,
  created: (container: string) => `Created container ${container}`,
  started: (container: string) => `Started container ${container}`,
  killing: (container: string) => `Stopping container ${container}`,
  failedToPull: (image: string, error: string) => `Failed to pull image "${image}": ${error}`,
  error: (reason: string) => `Error: ${reason}`,
  backOff: (image: string) => `Back-off pulling image "${image}"`,
  neverPull: (image: string) =>
    `Container image "${image}" is not present with pull policy of Never`,
  invalidImageName: (image: string) =>
    `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`,
  secretsMissing: (names: string[]) =>
    `Unable to retrieve some image pull secrets (${
      names.join(", ")
    }); attempting to pull the image may not succeed.`,
  deadlineExceeded: () => "Pod was active on the node longer than the specified deadline",
  containerStatusUnknown: () => "The container could not be located when the pod was terminated",
} as const;

/**
 * Formats milliseconds as Go's `time.Duration.String()` after `Truncate(time.Millisecond)`:
 * `0s`, `512ms`, `1.5s`, `2m3.004s`, `1h0m0s`.
 */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.trunc(ms));
  if (total === 0) return "0s";
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const millis = total % 60_000;
  const whole = Math.floor(millis / 1000);
  const frac = String(millis % 1000).padStart(3, "0").replace(/0+$/, "");
  const seconds = frac ? `${whole}.${frac}s` : `${whole}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

// The distribution reference grammar (github.com/distribution/reference), enough to reject
// what containerd rejects: upper-case repositories, empty components, bad tags and digests.
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);

/** Whether containerd would accept `image` as a reference (else `InvalidImageName`). */
export function isValidImageReference(image: string): boolean {
  return image.length > 0 && image.length <= 255 + 128 + 72 && REFERENCE.test(image);
}
