/**
 * CachedImageSet: a group of images, static and discovered, each kept as a child CachedImage.
 *
 * @module
 */
import { z } from "zod";
import { conditions, withRules } from "./_schema.ts";
import { digestField, imageField, TAG_XOR_DIGEST, tagField } from "./_image_fields.ts";
import { propagatedFields } from "./cached_image.ts";
import { AGE_COLUMN, clusterKind, READY_MESSAGE_COLUMN, READY_REASON_COLUMN } from "./kind.ts";

/** One static entry of a set. */
export const ImageEntry = withRules(
  z.object({ image: imageField(), tag: tagField(), digest: digestField() }).meta({
    description: "One image of the set; it becomes a child CachedImage.",
  }),
  [TAG_XOR_DIGEST],
);

/** A reference to a DiscoveryPolicy. */
export const DiscoveryPolicyReference = z.object({
  name: z.string().min(1).max(253).meta({ description: "Name of the DiscoveryPolicy." }),
}).meta({ description: "A reference to a DiscoveryPolicy by name." });

/** CachedImageSet spec. */
export const CachedImageSetSpec = z.object({
  ...propagatedFields,
  discoveryPolicyRef: DiscoveryPolicyReference.optional().meta({
    description:
      "A DiscoveryPolicy whose status.discoveredImages are added to the set. Combines with images.",
  }),
  images: z.array(ImageEntry).max(1000).optional().meta({
    description: "Static images of the set. Combined with discovered images, duplicates removed.",
  }),
}).meta({
  description: "The images of the set and the settings propagated to each child CachedImage.",
});

/** CachedImageSet status. */
export const CachedImageSetStatus = z.object({
  observedGeneration: z.int().optional().meta({
    description: "The metadata.generation this status was computed from.",
  }),
  phase: z.enum(["Pending", "Ready", "Degraded"]).optional().meta({
    description: "Summary: Pending, Ready or Degraded.",
  }),
  imagesManaged: z.int32().optional().meta({ description: "Child CachedImages of the set." }),
  imagesReady: z.int32().optional().meta({ description: "Children in phase Ready." }),
  conditions: conditions("The Ready condition."),
}).meta({ description: "Observed state of the set." });

/** CachedImageSet kind. */
export const CACHED_IMAGE_SET = clusterKind({
  kind: "CachedImageSet",
  plural: "cachedimagesets",
  singular: "cachedimageset",
  shortNames: ["cis"],
  description:
    "CachedImageSet caches a list of images, static or discovered, by managing one CachedImage per image.",
  statusSubresource: true,
  printerColumns: [
    READY_REASON_COLUMN,
    { name: "Ready", type: "string", jsonPath: ".status.imagesReady" },
    { name: "Managed", type: "integer", jsonPath: ".status.imagesManaged" },
    { name: "Source", type: "string", jsonPath: ".spec.discoveryPolicyRef.name" },
    READY_MESSAGE_COLUMN,
    AGE_COLUMN,
  ],
  spec: CachedImageSetSpec,
  status: CachedImageSetStatus,
});

/** A CachedImageSet spec with defaults applied. */
export type CachedImageSetSpec = z.output<typeof CachedImageSetSpec>;
/** A CachedImageSet status. */
export type CachedImageSetStatus = z.output<typeof CachedImageSetStatus>;
/** One static image entry. */
export type ImageEntry = z.output<typeof ImageEntry>;
