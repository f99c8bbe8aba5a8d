/**
 * Reading the credentials Secret of a discovery source from the operator's pod namespace.
 *
 * @module
 */
import type { Secret } from "kubernetes-types/core/v1.d.ts";
import type { SecretData } from "../discovery/mod.ts";
import { isNotFound, type KubeClient, SECRETS } from "../kube/mod.ts";

/** The decoded `data` (and any `stringData`) of a Secret. */
export function secretData(secret: Secret): SecretData {
  const out: SecretData = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) {
    out[k] = Uint8Array.from(atob(v), (c) => c.charCodeAt(0));
  }
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = v;
  return out;
}

/**
 * Reads Secret `name` from `namespace` and decodes it.
 *
 * @throws {Error} naming the Secret and namespace when it does not exist
 */
export async function readSecretData(
  client: KubeClient,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<SecretData> {
  try {
    return secretData(await client.resource<Secret>(SECRETS, namespace).get(name, { signal }));
  } catch (e) {
    if (isNotFound(e)) throw new Error(`Secret "${name}" not found in namespace "${namespace}"`);
    throw e;
  }
}
