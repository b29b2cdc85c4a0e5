// Kafka's StandardAuthorizer: the ACLs replayed from the metadata log (added and removed by id)
// and the decision for each action a request needs. Super users may do anything; otherwise a
// DENY that applies wins, then an ALLOW that applies; with neither, the action is denied when any
// ACL exists for the resource (whoever it names) and allow.everyone.if.no.acl.found decides when
// none does. Decisions are logged as Kafka's authorizer logs them: denials at info, grants at debug.
//
// authorize() is on the request path, so ACLs are indexed per resource type: LITERAL ones by name
// (the wildcard `*` is simply the name "*"), PREFIXED ones by prefix together with the distinct
// prefix lengths present, ascending. A resource name is then checked with one map lookup for its
// literal ACLs, one for the wildcard, and one per distinct prefix length no longer than the name:
// a handful of lookups however many ACLs there are, where Kafka walks a sorted set; no ACL that
// cannot apply is ever looked at.
import type { Logger } from '../../base/logger.js';
import {
  AclOperation,
  AclPermissionType,
  AclResourceType,
  type AclBinding,
  type AclBindingFilter,
  aclOperationName,
  describeAcl,
  matchesFilter,
  PatternType,
  patternTypeName,
  resourceTypeDisplayName,
  WILDCARD_HOST,
  WILDCARD_PRINCIPAL,
  WILDCARD_RESOURCE,
} from '../../metadata/acl.js';

export interface StandardAuthorizerOptions {
  /** super.users: principals (`User:admin`) allowed everything, compared as strings. */
  superUsers: readonly string[];
  /** allow.everyone.if.no.acl.found: the decision when no ACL exists for the resource. */
  allowEveryoneIfNoAclFound: boolean;
  logger: Logger;
}

/** One action of a request: may `principal`, connected from `host`, do `operation` on the resource? */
export interface AuthorizableAction {
  principal: string;
  /** The client's address as text (Kafka's InetAddress.getHostAddress()). */
  host: string;
  operation: number;
  resourceType: number;
  resourceName: string;
  /** Log a denial at info: the resource was asked for explicitly. Default true. */
  logIfDenied?: boolean;
  /** Log a grant at debug: access is granted by this decision. Default true. */
  logIfAllowed?: boolean;
}

/** What decided an action: Kafka's MatchingRule, named as Kafka's audit log names it. */
interface Rule {
  readonly allowed: boolean;
  readonly acl?: AclBinding;
  readonly name?: string;
}

const SUPER_USER_RULE: Rule = { allowed: true, name: 'SuperUser' };
const DEFAULT_ALLOW_RULE: Rule = { allowed: true, name: 'DefaultAllow' };
const DEFAULT_DENY_RULE: Rule = { allowed: false, name: 'DefaultDeny' };

/** The operations an ALLOW ACL for which also allows DESCRIBE. */
const IMPLIES_DESCRIBE: ReadonlySet<number> = new Set([
  AclOperation.DESCRIBE,
  AclOperation.READ,
  AclOperation.WRITE,
  AclOperation.DELETE,
  AclOperation.ALTER,
]);
/** The operations an ALLOW ACL for which also allows DESCRIBE_CONFIGS. */
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<number> = new Set([AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]);

/** The resource name Kafka's authorizeByResourceType first authorizes, so super users always pass. */
const HARDCODED_RESOURCE_NAME = 'hardcode';

/** The ACLs of one resource type. */
interface ResourceTypeIndex {
  /** LITERAL ACLs by resource name, the wildcard under "*". */
  readonly literal: Map<string, AclBinding[]>;
  /** PREFIXED ACLs by prefix. */
  readonly prefixed: Map<string, AclBinding[]>;
  /** How many prefixes of each length `prefixed` holds. */
  readonly prefixLengthCounts: Map<number, number>;
  /** The lengths `prefixLengthCounts` holds, ascending. */
  prefixLengths: number[];
}

type Verdict = 'allow' | 'deny' | undefined;

/**
 * Whether `acl`, which applies to the resource, allows or denies `operation` for `principal` at
 * `host`, or says nothing about it (Kafka's StandardAuthorizerData.findResult). ALL matches every
 * operation; an ALLOW of READ, WRITE, DELETE or ALTER also allows DESCRIBE and an ALLOW of
 * ALTER_CONFIGS also allows DESCRIBE_CONFIGS, but a DENY denies only its own operation.
 */
export function aclVerdict(acl: AclBinding, principal: string, host: string, operation: number): Verdict {
  if (acl.principal !== principal && acl.principal !== WILDCARD_PRINCIPAL) return undefined;
  if (acl.host !== WILDCARD_HOST && acl.host !== host) return undefined;
  const allow = acl.permissionType === AclPermissionType.ALLOW;
  if (acl.operation !== AclOperation.ALL && acl.operation !== operation) {
    if (!allow) return undefined;
    if (operation === AclOperation.DESCRIBE) {
      if (!IMPLIES_DESCRIBE.has(acl.operation)) return undefined;
    } else if (operation === AclOperation.DESCRIBE_CONFIGS) {
      if (!IMPLIES_DESCRIBE_CONFIGS.has(acl.operation)) return undefined;
    } else {
      return undefined;
    }
  }
  return allow ? 'allow' : 'deny';
}

/** A key equal for two ACLs exactly when every field but the id is. */
function contentKey(acl: AclBinding): string {
  return JSON.stringify([acl.resourceType, acl.resourceName, acl.patternType, acl.principal, acl.host, acl.operation, acl.permissionType]);
}

function addTo(map: Map<string, AclBinding[]>, key: string, acl: AclBinding): number {
  const list = map.get(key);
  if (list) {
    list.push(acl);
    return list.length;
  }
  map.set(key, [acl]);
  return 1;
}

/** Removes `acl` from the list under `key`; returns how many remain. */
function removeFrom(map: Map<string, AclBinding[]>, key: string, acl: AclBinding): number {
  const list = map.get(key);
  if (!list) return 0;
  const at = list.indexOf(acl);
  if (at >= 0) list.splice(at, 1);
  if (list.length === 0) map.delete(key);
  return list.length;
}

export class StandardAuthorizer {
  private readonly superUsers: ReadonlySet<string>;
  private readonly noAclRule: Rule;
  private readonly logger: Logger;
  private readonly byId = new Map<string, AclBinding>();
  private readonly contentKeys = new Set<string>();
  private readonly byType = new Map<number, ResourceTypeIndex>();

  constructor(options: StandardAuthorizerOptions) {
    this.superUsers = new Set(options.superUsers);
    this.noAclRule = options.allowEveryoneIfNoAclFound ? DEFAULT_ALLOW_RULE : DEFAULT_DENY_RULE;
    this.logger = options.logger;
  }

  get aclCount(): number {
    return this.byId.size;
  }

  /** Every ACL, in the order added. */
  acls(): Iterable<AclBinding> {
    return this.byId.values();
  }

  /** The ACLs `filter` matches (DescribeAcls, DeleteAcls), in the order added. */
  findAcls(filter: AclBindingFilter): AclBinding[] {
    const found: AclBinding[] = [];
    for (const acl of this.byId.values()) if (matchesFilter(acl, filter)) found.push(acl);
    return found;
  }

  /**
   * Adds an ACL as an AccessControlEntryRecord is replayed. Like Kafka's AclCache, refuses (throws)
   * an id already present or an ACL identical to one present, which the controller never writes.
   */
  addAcl(binding: AclBinding): void {
    if (this.byId.has(binding.id)) throw new Error(`An ACL with ID ${binding.id} already exists.`);
    const acl: AclBinding = Object.freeze({ ...binding });
    const key = contentKey(acl);
    if (this.contentKeys.has(key)) throw new Error(`Unable to add the ACL with ID ${acl.id}: the same ACL exists under another ID.`);
    this.byId.set(acl.id, acl);
    this.contentKeys.add(key);
    if (acl.patternType === PatternType.LITERAL) {
      addTo(this.indexFor(acl.resourceType).literal, acl.resourceName, acl);
    } else if (acl.patternType === PatternType.PREFIXED) {
      const index = this.indexFor(acl.resourceType);
      if (addTo(index.prefixed, acl.resourceName, acl) === 1) this.countPrefixLength(index, acl.resourceName.length, 1);
    } else {
      this.logger.warn(`ACL ${acl.id} has pattern type ${patternTypeName(acl.patternType)}, which applies to no resource`);
    }
    this.logger.debug(`Added ACL ${acl.id}: ${describeAcl(acl)}`);
  }

  /** Removes the ACL a RemoveAccessControlEntryRecord names; an unknown id throws, as in Kafka. */
  removeAcl(id: string): void {
    const acl = this.byId.get(id);
    if (!acl) throw new Error(`ID ${id} not found in the authorizer's ACLs.`);
    this.byId.delete(id);
    this.contentKeys.delete(contentKey(acl));
    const index = this.byType.get(acl.resourceType);
    if (index) {
      if (acl.patternType === PatternType.LITERAL) {
        removeFrom(index.literal, acl.resourceName, acl);
      } else if (acl.patternType === PatternType.PREFIXED) {
        if (removeFrom(index.prefixed, acl.resourceName, acl) === 0) this.countPrefixLength(index, acl.resourceName.length, -1);
      }
      if (index.literal.size === 0 && index.prefixed.size === 0) this.byType.delete(acl.resourceType);
    }
    this.logger.debug(`Removed ACL ${id}: ${describeAcl(acl)}`);
  }

  /** Whether the action is allowed, logging the decision as Kafka's authorizer does. */
  authorize(action: AuthorizableAction): boolean {
    const rule = this.superUsers.has(action.principal)
      ? SUPER_USER_RULE
      : this.findRule(action.principal, action.host, action.operation, action.resourceType, action.resourceName);
    this.logDecision(action, rule);
    return rule.allowed;
  }

  /**
   * Whether `principal` may do `operation` on at least one resource of `resourceType` (KIP-679, as
   * Kafka's default Authorizer.authorizeByResourceType): yes when a resource named "hardcode"
   * would be allowed (super users, a wildcard ALLOW, allow.everyone.if.no.acl.found with no ACL
   * there); otherwise yes when some ALLOW for the operation (or ALL) applying to the principal and
   * host is not overridden: a DENY on the wildcard `*` overrides every ALLOW, a LITERAL ALLOW is
   * overridden by a LITERAL DENY of the same name or a PREFIXED DENY of one of its prefixes, a
   * PREFIXED ALLOW by a PREFIXED DENY of one of its prefixes. Implied operations do not count here.
   */
  authorizeByResourceType(principal: string, host: string, operation: number, resourceType: number): boolean {
    checkResourceTypeArgs(operation, resourceType);
    const hardcoded = { principal, host, operation, resourceType, resourceName: HARDCODED_RESOURCE_NAME, logIfAllowed: true, logIfDenied: false };
    if (this.authorize(hardcoded)) return true;
    const index = this.byType.get(resourceType);
    if (!index) return false;
    const deniedLiterals = new Set<string>();
    const deniedPrefixes = new Set<string>();
    const allowedLiterals: string[] = [];
    const allowedPrefixes: string[] = [];
    for (const [patternType, lists] of [
      [PatternType.LITERAL, index.literal],
      [PatternType.PREFIXED, index.prefixed],
    ] as const) {
      for (const [name, acls] of lists) {
        for (const acl of acls) {
          if (acl.host !== host && acl.host !== WILDCARD_HOST) continue;
          if (acl.principal !== principal && acl.principal !== WILDCARD_PRINCIPAL) continue;
          if (acl.operation !== operation && acl.operation !== AclOperation.ALL) continue;
          const literal = patternType === PatternType.LITERAL;
          if (acl.permissionType === AclPermissionType.DENY) {
            if (literal && name === WILDCARD_RESOURCE) return false;
            (literal ? deniedLiterals : deniedPrefixes).add(name);
          } else if (acl.permissionType === AclPermissionType.ALLOW) {
            (literal ? allowedLiterals : allowedPrefixes).push(name);
          }
        }
      }
    }
    if (allowedLiterals.includes(WILDCARD_RESOURCE)) return true;
    const dominated = (name: string) => {
      for (let length = 1; length <= name.length; length++) if (deniedPrefixes.has(name.slice(0, length))) return true;
      return false;
    };
    if (allowedLiterals.some((name) => !deniedLiterals.has(name) && !dominated(name))) return true;
    return allowedPrefixes.some((name) => !dominated(name));
  }

  /** The rule deciding an action of a principal that is not a super user. */
  private findRule(principal: string, host: string, operation: number, resourceType: number, name: string): Rule {
    const index = this.byType.get(resourceType);
    if (!index) return this.noAclRule;
    let found = false;
    let allowAcl: AclBinding | undefined;
    const visit = (acls: AclBinding[] | undefined): AclBinding | undefined => {
      if (!acls) return undefined;
      found = true;
      for (const acl of acls) {
        const verdict = aclVerdict(acl, principal, host, operation);
        if (verdict === 'deny') return acl;
        if (verdict === 'allow') allowAcl = acl;
      }
      return undefined;
    };
    let denyAcl = visit(index.literal.get(name)) ?? (name === WILDCARD_RESOURCE ? undefined : visit(index.literal.get(WILDCARD_RESOURCE)));
    for (const length of index.prefixLengths) {
      if (denyAcl || length > name.length) break;
      denyAcl = visit(index.prefixed.get(name.slice(0, length)));
    }
    if (denyAcl) return { allowed: false, acl: denyAcl };
    if (allowAcl) return { allowed: true, acl: allowAcl };
    return found ? DEFAULT_DENY_RULE : this.noAclRule;
  }

  private logDecision(action: AuthorizableAction, rule: Rule): void {
    if (rule.allowed ? action.logIfAllowed === false : action.logIfDenied === false) return;
    const message =
      `Principal = ${action.principal} is ${rule.allowed ? 'Allowed' : 'Denied'} operation = ${aclOperationName(action.operation)}` +
      ` from host = ${action.host} on resource = ${resourceTypeDisplayName(action.resourceType)}:LITERAL:${action.resourceName}` +
      ` based on rule ${rule.acl ? `MatchingAcl(acl=${describeAcl(rule.acl)})` : rule.name}`;
    if (rule.allowed) this.logger.debug(message);
    else this.logger.info(message);
  }

  private indexFor(resourceType: number): ResourceTypeIndex {
    let index = this.byType.get(resourceType);
    if (!index) {
      index = { literal: new Map(), prefixed: new Map(), prefixLengthCounts: new Map(), prefixLengths: [] };
      this.byType.set(resourceType, index);
    }
    return index;
  }

  private countPrefixLength(index: ResourceTypeIndex, length: number, delta: 1 | -1): void {
    const count = (index.prefixLengthCounts.get(length) ?? 0) + delta;
    if (count > 0) index.prefixLengthCounts.set(length, count);
    else index.prefixLengthCounts.delete(length);
    if (count === (delta === 1 ? 1 : 0)) index.prefixLengths = [...index.prefixLengthCounts.keys()].sort((a, b) => a - b);
  }
}

/** Kafka's SecurityUtils.authorizeByResourceTypeCheckArgs: filter and unknown values are mistakes. */
function checkResourceTypeArgs(operation: number, resourceType: number): void {
  if (resourceType === AclResourceType.ANY) throw new Error('Must specify a non-filter resource type for authorizeByResourceType');
  if (resourceType === AclResourceType.UNKNOWN) throw new Error('Unknown resource type');
  if (operation === AclOperation.ANY) throw new Error('Must specify a non-filter operation type for authorizeByResourceType');
  if (operation === AclOperation.UNKNOWN) throw new Error('Unknown operation type');
}
