/**
 * Kubeconfig text for a simulated API server, with a bearer-token identity.
 *
 * @module
 */
import { stringify } from "yaml";

/** What a kubeconfig needs to reach the server. */
export interface KubeconfigInput {
  server: string;
  token: string;
  caPem?: string;
  name?: string;
  namespace?: string;
}

/** Renders a single-context kubeconfig (YAML). */
export function renderKubeconfig(input: KubeconfigInput): string {
  const name = input.name ?? "drop-sim";
  const cluster: Record<string, string> = { server: input.server };
  if (input.caPem) cluster["certificate-authority-data"] = btoa(input.caPem);
  const context: Record<string, string> = { cluster: name, user: name };
  if (input.namespace) context.namespace = input.namespace;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster }],
    contexts: [{ name, context }],
    "current-context": name,
    users: [{ name, user: { token: input.token } }],
    preferences: {},
  });
}
