/**
 * EKS's tag operations on the sandbox's resources: TagResource (`POST /tags/{resourceArn}`), UntagResource
 * (`DELETE /tags/{resourceArn}?tagKeys=…`) and ListTagsForResource (`GET /tags/{resourceArn}`), from
 * eks-service-2.json. The add-on's tags live on its record (DescribeAddon returns them); a cluster's here.
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_TagResource.html
 */
import { EksApiError } from './addon-controller.js';
import type { AddonRecord } from './addon-controller.js';

/** The operations this module answers. */
export const TAG_OPERATIONS = new Set(['TagResource', 'UntagResource', 'ListTagsForResource']);

/** What a tag operation can reach: each cluster's ARN, its tags, and its add-on. */
export interface Taggable {
  clusterArn: string;
  clusterTags: Record<string, string>;
  addon: AddonRecord | null;
}

// TagMap (eks-service-2.json): 1–50 tags a request and a resource; TagKey 1–128 characters, TagValue up to 256.
const MAX_TAGS = 50;

/** The tags of the resource an ARN names: a cluster's, or its add-on's. */
function tagsOf(arn: string, resources: Taggable[]): Record<string, string> {
  for (const r of resources) {
    if (r.clusterArn === arn) return r.clusterTags;
    if (r.addon && r.addon.addonArn === arn) return r.addon.tags;
  }
  throw new EksApiError(404, 'NotFoundException', `Resource ${arn} was not found; check the ARN (DescribeAddon returns the add-on's addonArn).`);
}

function checkTags(tags: unknown): Record<string, string> {
  if (!tags || typeof tags !== 'object' || Array.isArray(tags) || Object.keys(tags).length === 0) {
    throw new EksApiError(400, 'BadRequestException', 'tags must hold at least one key and value.');
  }
  for (const [key, value] of Object.entries(tags as Record<string, unknown>)) {
    if (key.length < 1 || key.length > 128 || typeof value !== 'string' || value.length > 256) {
      throw new EksApiError(400, 'BadRequestException', `Tag ${key} is not valid: keys are 1 to 128 characters, values up to 256.`);
    }
    // "Do not use aws:, AWS:, or any upper or lowercase combination of such as a prefix … reserved for AWS use" (TagMap).
    if (/^aws:/i.test(key) || /^aws:/i.test(value)) {
      throw new EksApiError(400, 'BadRequestException', `Tag ${key} uses the aws: prefix, which is reserved for AWS use.`);
    }
  }
  return tags as Record<string, string>;
}

/** Answers one tag operation on `arn` (already URI-decoded). */
export function tagOperation(operation: string, arn: string, resources: Taggable[], query: URLSearchParams, body: string): unknown {
  const tags = tagsOf(arn, resources);
  if (operation === 'ListTagsForResource') return { tags: { ...tags } };
  if (operation === 'UntagResource') {
    const keys = query.getAll('tagKeys');
    if (keys.length === 0) throw new EksApiError(400, 'BadRequestException', 'tagKeys must name at least one tag key.');
    for (const key of keys) {
      if (/^aws:/i.test(key)) throw new EksApiError(400, 'BadRequestException', `Tag ${key} uses the aws: prefix, which is reserved for AWS use.`);
      delete tags[key];
    }
    return {};
  }
  let input: { tags?: unknown };
  try {
    input = JSON.parse(body || '{}') as { tags?: unknown };
  } catch {
    throw new EksApiError(400, 'SerializationException', 'The request body is not a JSON object.');
  }
  const added = checkTags(input.tags);
  const merged = { ...tags, ...added };
  // Tags with the aws: prefix "do not count against your tags per resource limit".
  if (Object.keys(merged).filter((k) => !/^aws:/i.test(k)).length > MAX_TAGS) {
    throw new EksApiError(400, 'BadRequestException', `A resource can have at most ${MAX_TAGS} tags; remove some first (UntagResource).`);
  }
  Object.assign(tags, added);
  return {};
}
