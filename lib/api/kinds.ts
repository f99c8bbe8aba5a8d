/**
 * The list of our kinds, in a stable order.
 *
 * @module
 */
import { CACHED_IMAGE } from "./cached_image.ts";
import { CACHED_IMAGE_SET } from "./cached_image_set.ts";
import { DISCOVERY_POLICY } from "./discovery_policy.ts";
import type { KindInfo } from "./kind.ts";
import { PULL_POLICY } from "./pull_policy.ts";

/** Every kind of the `drop.corewire.io` group. */
export const KINDS: readonly KindInfo[] = [
  CACHED_IMAGE,
  CACHED_IMAGE_SET,
  DISCOVERY_POLICY,
  PULL_POLICY,
];
