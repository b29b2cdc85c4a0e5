// The controller's ACL decisions (CreateAcls, DeleteAcls), as Kafka's AclControlManager makes them:
// each binding to create is checked (src/metadata/acl.ts) and gets a new id, unless an identical
// ACL exists already or earlier in the same request (then it succeeds without a record); each
// delete filter is checked and removes every ACL it matches, an ACL matched by several filters once.
import { ErrorCode } from '../base/error-codes.js';
import { type AclBinding, type AclBindingFilter, type NewAclBinding, bindingProblem, filterProblem, matchesFilter } from './acl.js';
import type { MetadataImage } from './metadata-image.js';
import type { MetadataRecord } from './metadata-record.js';

export interface AclCreateResult {
  errorCode: number;
  errorMessage: string | null;
}

export interface AclDeleteResult {
  errorCode: number;
  errorMessage: string | null;
  /** The ACLs the filter matched (all removed). */
  matching: AclBinding[];
}

/** The same ACL whatever its id. */
function contentKey(binding: NewAclBinding): string {
  const { resourceType, resourceName, patternType, principal, host, operation, permissionType } = binding;
  return JSON.stringify([resourceType, resourceName, patternType, principal, host, operation, permissionType]);
}

export function aclCreations(image: MetadataImage, bindings: readonly NewAclBinding[], newId: () => string): { records: MetadataRecord[]; results: AclCreateResult[] } {
  const present = new Set([...image.acls.values()].map(contentKey));
  const records: MetadataRecord[] = [];
  const results = bindings.map((binding): AclCreateResult => {
    const problem = bindingProblem(binding);
    if (problem) return { errorCode: problem.errorCode, errorMessage: problem.message };
    const key = contentKey(binding);
    if (!present.has(key)) {
      present.add(key);
      let id = newId();
      while (image.acls.has(id)) id = newId();
      const { resourceType, resourceName, patternType, principal, host, operation, permissionType } = binding;
      records.push({ type: 'AccessControlEntry', id, resourceType, resourceName, patternType, principal, host, operation, permissionType });
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  });
  return { records, results };
}

export function aclDeletions(image: MetadataImage, filters: readonly AclBindingFilter[]): { records: MetadataRecord[]; results: AclDeleteResult[] } {
  const removed = new Set<string>();
  const records: MetadataRecord[] = [];
  const results = filters.map((filter): AclDeleteResult => {
    const problem = filterProblem(filter);
    if (problem) return { errorCode: problem.errorCode, errorMessage: problem.message, matching: [] };
    const matching = [...image.acls.values()].filter((acl) => matchesFilter(acl, filter));
    for (const { id } of matching) {
      if (removed.has(id)) continue;
      removed.add(id);
      records.push({ type: 'RemoveAccessControlEntry', id });
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, matching };
  });
  return { records, results };
}
