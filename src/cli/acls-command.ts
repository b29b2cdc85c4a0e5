// `conveyor acls --add|--remove|--list`: Kafka's kafka-acls tool (AclCommand) for Conveyor, with
// its option names and semantics. ACLs are built as Kafka builds them: every allowed principal
// (--allow-principal) gets every operation (--operation, ALL by default) from every allowed host
// (--allow-host, `*` by default), the same for --deny-principal and --deny-host, on every resource
// named (--topic, --group, --cluster, --transactional-id, --delegation-token, --user-principal or
// --user), as a pattern of --resource-pattern-type (literal by default for adding, listing and
// removing alike; prefixed to add, any or match to list or remove). --producer grants WRITE,
// DESCRIBE and CREATE on the topics (WRITE and DESCRIBE on the transactional ids, IDEMPOTENT_WRITE
// on the cluster with --idempotent); --consumer READ and DESCRIBE on the topics and READ on the
// groups. An operation a resource type has no use for is refused, as Kafka refuses it.
//
// Output is Kafka's: "Adding ACLs for resource `ResourcePattern(...)`:" with the entries, "Acl ...
// already exists.", "Current ACLs for resource `...`:". --remove asks first on a terminal (as
// Kafka) and refuses without one unless --force; unlike Kafka it then says what it removed.
// --json prints bindings for scripts. Names are parsed with src/metadata/acl.ts; the requests go
// through the admin client in Kafka's codes.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { AclBindingInfo, AclFilter, AdminClient } from '../client/admin-client.js';
import { ToolError } from '../client/cluster-client.js';
import {
  ANY_ACL_FILTER,
  AclOperation,
  AclPermissionType,
  AclResourceType,
  CLUSTER_RESOURCE_NAME,
  PatternType,
  WILDCARD_HOST,
  aclOperationName,
  aclPermissionTypeName,
  aclResourceTypeName,
  describeResourcePattern,
  parseAclOperation,
  parsePatternType,
  patternTypeName,
} from '../metadata/acl.js';
import { type ToolOptions, collect, print, toolOptions, withAdmin } from './output.js';

interface AclsOptions extends ToolOptions {
  add?: boolean;
  remove?: boolean;
  list?: boolean;
  topic: string[];
  group: string[];
  cluster?: boolean;
  transactionalId: string[];
  delegationToken: string[];
  userPrincipal: string[];
  user: string[];
  resourcePatternType: string;
  operation: string[];
  allowPrincipal: string[];
  denyPrincipal: string[];
  allowHost: string[];
  denyHost: string[];
  principal: string[];
  producer?: boolean;
  consumer?: boolean;
  idempotent?: boolean;
  force?: boolean;
}

/** A resource pattern, or a pattern filter when the pattern type is ANY or MATCH. */
interface Pattern {
  resourceType: number;
  resourceName: string;
  patternType: number;
}

/** An access control entry (who, from where, what, allowed or denied). */
interface Entry {
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

const { ALL, READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, CREATE_TOKENS, DESCRIBE_TOKENS } = AclOperation;

/** The operations each resource type supports besides ALL (Kafka's AclEntry.supportedOperations, 4.x). */
const SUPPORTED_OPERATIONS: ReadonlyMap<number, readonly number[]> = new Map([
  [AclResourceType.TOPIC, [READ, WRITE, CREATE, DESCRIBE, DELETE, ALTER, DESCRIBE_CONFIGS, ALTER_CONFIGS]],
  [AclResourceType.GROUP, [READ, DESCRIBE, DELETE, DESCRIBE_CONFIGS, ALTER_CONFIGS]],
  [AclResourceType.CLUSTER, [CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER, DESCRIBE]],
  [AclResourceType.TRANSACTIONAL_ID, [DESCRIBE, WRITE]],
  [AclResourceType.DELEGATION_TOKEN, [DESCRIBE]],
  [AclResourceType.USER, [CREATE_TOKENS, DESCRIBE_TOKENS]],
]);

/** Every operation an ACL can name, as Kafka's --operation help lists them (Pascal case). */
const OPERATION_NAMES = Object.entries(AclOperation)
  .filter(([, code]) => code !== AclOperation.UNKNOWN && code !== AclOperation.ANY)
  .map(([, code]) => pascal(aclOperationName(code)));

function pascal(name: string): string {
  return name
    .split('_')
    .map((word) => word.charAt(0) + word.slice(1).toLowerCase())
    .join('');
}

const CLUSTER_PATTERN: Pattern = { resourceType: AclResourceType.CLUSTER, resourceName: CLUSTER_RESOURCE_NAME, patternType: PatternType.LITERAL };
const PATTERN_TYPE_CHOICES = 'literal, prefixed, any or match';

export function registerAclsCommand(program: Command): void {
  toolOptions(program.command('acls').description("add, remove and list ACLs (Kafka's kafka-acls): --add, --remove or --list"))
    .option('--add', 'add ACLs')
    .option('--remove', 'remove ACLs (asks first, on a terminal, unless --force)')
    .option('--list', 'list ACLs, of the resources named or all; --principal lists those of a principal')
    .option('--topic <topic>', "a topic ('*' for all; repeatable)", collect, [])
    .option('--group <group>', "a consumer group ('*' for all; repeatable)", collect, [])
    .option('--cluster', 'the cluster (kafka-cluster)')
    .option('--transactional-id <id>', "a transactional id ('*' for all; repeatable)", collect, [])
    .option('--delegation-token <id>', "a delegation token ('*' for all; repeatable)", collect, [])
    .option('--user-principal <user>', 'a user as the resource (CreateTokens, DescribeTokens; repeatable)', collect, [])
    .option('--user <user>', 'the same as --user-principal', collect, [])
    .option('--resource-pattern-type <type>', `${PATTERN_TYPE_CHOICES}: literal or prefixed to add; any (any pattern type, the exact name) or match (every ACL that applies to the name) to list or remove`, 'literal')
    .option('--operation <operation>', `allowed or denied: ${OPERATION_NAMES.join(', ')} (repeatable; default All)`, collect, [])
    .option('--allow-principal <principal>', "principalType:name, e.g. User:alice or User:'*' for everyone (repeatable)", collect, [])
    .option('--deny-principal <principal>', 'principalType:name to deny; a DENY takes precedence over an ALLOW (repeatable)', collect, [])
    .option('--allow-host <host>', "a host --allow-principal applies from (repeatable; default '*', every host)", collect, [])
    .option('--deny-host <host>', "a host --deny-principal applies from (repeatable; default '*')", collect, [])
    .option('--principal <principal>', 'with --list: only the ACLs of this principal (repeatable)', collect, [])
    .option('--producer', 'the ACLs of a producer: WRITE, DESCRIBE and CREATE on the topics (WRITE and DESCRIBE on --transactional-id)')
    .option('--idempotent', 'with --producer: IDEMPOTENT_WRITE on the cluster too')
    .option('--consumer', 'the ACLs of a consumer: READ and DESCRIBE on the topics, READ on the groups')
    .option('--force', 'remove without asking')
    .action((options: AclsOptions) => acls(options));
}

async function acls(options: AclsOptions): Promise<void> {
  checkArguments(options);
  const patternType = parsePatternTypeOption(options.resourcePatternType);
  if (options.add) {
    if (patternType !== PatternType.LITERAL && patternType !== PatternType.PREFIXED) {
      throw new ToolError(`A '--resource-pattern-type' value of '${patternTypeName(patternType)}' is not valid when adding acls.`);
    }
    const toAdd = resourcesToEntries(options, patternType);
    if ([...toAdd.values()].some(({ entries }) => entries.length === 0)) {
      throw new ToolError('You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.');
    }
    await withAdmin(options, (admin) => addAcls(admin, toAdd, options));
  } else if (options.remove) {
    const toRemove = resourcesToEntries(options, patternType);
    if (!options.force && !process.stdin.isTTY) {
      throw new ToolError('--remove asks before removing ACLs and standard input is not a terminal: add --force to remove without asking');
    }
    await withAdmin(options, (admin) => removeAcls(admin, toRemove, options));
  } else {
    const filters = resourcePatterns(options, patternType, false);
    const principals = options.principal.map((principal) => parsePrincipal(principal, '--principal'));
    await withAdmin(options, (admin) => listAcls(admin, filters, principals, options));
  }
}

/** Kafka's AclCommandOptions.checkArgs: one action, and the options that go with it. */
function checkArguments(options: AclsOptions): void {
  const actions = [options.add, options.remove, options.list].filter(Boolean).length;
  if (actions !== 1) throw new ToolError('Command must include exactly one action: --list, --add, --remove.');
  const given: Record<string, boolean> = {
    '--producer': options.producer === true,
    '--consumer': options.consumer === true,
    '--allow-host': options.allowHost.length > 0,
    '--allow-principal': options.allowPrincipal.length > 0,
    '--deny-host': options.denyHost.length > 0,
    '--deny-principal': options.denyPrincipal.length > 0,
    '--operation': options.operation.length > 0,
  };
  const invalidWith = (option: string, active: boolean, others: string[]) => {
    if (!active) return;
    const clash = others.find((other) => given[other]);
    if (clash) throw new ToolError(`Option ${option} can't be used with option ${clash}`);
  };
  invalidWith('--list', options.list === true, ['--producer', '--consumer', '--allow-host', '--allow-principal', '--deny-host', '--deny-principal']);
  invalidWith('--producer', options.producer === true, ['--operation', '--deny-principal', '--deny-host']);
  invalidWith('--consumer', options.consumer === true, ['--operation', '--deny-principal', '--deny-host']);
  if (options.principal.length > 0 && !options.list) throw new ToolError('The --principal option is only available if --list is set');
  if (options.producer && options.topic.length === 0) throw new ToolError('With --producer you must specify a --topic');
  if (options.idempotent && !options.producer) throw new ToolError('The --idempotent option is only available if --producer is set');
  if (options.consumer && (options.topic.length === 0 || options.group.length === 0 || (!options.producer && (options.cluster || options.transactionalId.length > 0)))) {
    throw new ToolError('With --consumer you must specify a --topic and a --group and no --cluster or --transactional-id option should be specified.');
  }
}

function parsePatternTypeOption(text: string): number {
  const code = parsePatternType(text);
  if (code === PatternType.UNKNOWN) throw new ToolError(`Unknown resource-pattern-type: ${text} (${PATTERN_TYPE_CHOICES})`);
  return code;
}

/** A principal as Kafka's SecurityUtils.parseKafkaPrincipal takes it: principalType:name. */
function parsePrincipal(text: string, option: string): string {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  if (colon <= 0) throw new ToolError(`${option}: expected a string in format principalType:principalName but got '${text}'`);
  return trimmed;
}

const patternKey = (pattern: Pattern) => JSON.stringify([pattern.resourceType, pattern.resourceName, pattern.patternType]);

/** The resource patterns (or filters) the options name, in option order (Kafka's getResourceFilter). */
function resourcePatterns(options: AclsOptions, patternType: number, required: boolean): Pattern[] {
  const patterns: Pattern[] = [];
  const add = (resourceType: number, names: readonly string[], trim = true) => {
    for (const name of names) patterns.push({ resourceType, resourceName: trim ? name.trim() : name, patternType });
  };
  add(AclResourceType.TOPIC, options.topic);
  if (options.cluster || options.idempotent) {
    // Kafka drops --cluster silently unless the pattern type is literal; here a filter of any or
    // match keeps it (the cluster's one literal pattern), and prefixed is refused.
    if (patternType === PatternType.PREFIXED) throw new ToolError("--cluster takes --resource-pattern-type literal (or, to list or remove, any or match)");
    patterns.push(patternType === PatternType.LITERAL ? CLUSTER_PATTERN : { ...CLUSTER_PATTERN, patternType });
  }
  add(AclResourceType.GROUP, options.group);
  add(AclResourceType.TRANSACTIONAL_ID, options.transactionalId, false);
  add(AclResourceType.DELEGATION_TOKEN, options.delegationToken);
  add(AclResourceType.USER, [...options.userPrincipal, ...options.user]);
  if (patterns.length === 0 && required) {
    throw new ToolError('You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --transactional-id <id> or --delegation-token <Delegation Token ID> or --user-principal <user>');
  }
  const unique = new Map(patterns.map((pattern) => [patternKey(pattern), pattern]));
  return [...unique.values()];
}

/** The entries for `operations`: allowed principals from allowed hosts, denied ones from denied hosts (Kafka's getAcl). */
function entriesFor(options: AclsOptions, operations: readonly number[]): Entry[] {
  const entries: Entry[] = [];
  const hostsOf = (hosts: readonly string[], principals: readonly string[]) => (hosts.length > 0 ? hosts.map((host) => host.trim()) : principals.length > 0 ? [WILDCARD_HOST] : []);
  const build = (principalTexts: readonly string[], hostTexts: readonly string[], permissionType: number, option: string) => {
    const principals = principalTexts.map((principal) => parsePrincipal(principal, option));
    for (const principal of principals) for (const operation of operations) for (const host of hostsOf(hostTexts, principals)) entries.push({ principal, host, operation, permissionType });
  };
  build(options.allowPrincipal, options.allowHost, AclPermissionType.ALLOW, '--allow-principal');
  build(options.denyPrincipal, options.denyHost, AclPermissionType.DENY, '--deny-principal');
  const unique = new Map(entries.map((entry) => [JSON.stringify(entry), entry]));
  return [...unique.values()];
}

/** Each resource pattern (or filter) with the entries to add or remove there (Kafka's getResourceFilterToAcls). */
function resourcesToEntries(options: AclsOptions, patternType: number): Map<string, { pattern: Pattern; entries: Entry[] }> {
  const result = new Map<string, { pattern: Pattern; entries: Entry[] }>();
  const put = (pattern: Pattern, entries: Entry[], merge: boolean) => {
    const key = patternKey(pattern);
    const existing = merge ? result.get(key) : undefined;
    const all = existing ? [...existing.entries, ...entries] : entries;
    result.set(key, { pattern, entries: [...new Map(all.map((entry) => [JSON.stringify(entry), entry])).values()] });
  };
  const patterns = resourcePatterns(options, patternType, true);
  const ofType = (type: number) => patterns.filter((pattern) => pattern.resourceType === type);
  if (!options.producer && !options.consumer) {
    const operations = options.operation.length === 0 ? [ALL] : options.operation.map(parseOperation);
    const entries = entriesFor(options, operations);
    for (const pattern of patterns) put(pattern, entries, false);
  }
  if (options.producer) {
    for (const topic of ofType(AclResourceType.TOPIC)) put(topic, entriesFor(options, [WRITE, DESCRIBE, CREATE]), false);
    for (const id of ofType(AclResourceType.TRANSACTIONAL_ID)) put(id, entriesFor(options, [WRITE, DESCRIBE]), false);
    if (options.idempotent) put(CLUSTER_PATTERN, entriesFor(options, [IDEMPOTENT_WRITE]), false);
  }
  if (options.consumer) {
    for (const topic of ofType(AclResourceType.TOPIC)) put(topic, entriesFor(options, [READ, DESCRIBE]), true);
    for (const group of ofType(AclResourceType.GROUP)) put(group, entriesFor(options, [READ]), true);
  }
  validateOperations(result.values());
  return result;
}

function parseOperation(text: string): number {
  const code = parseAclOperation(text);
  if (code === AclOperation.UNKNOWN) throw new ToolError(`--operation: unknown operation '${text}'; valid operations are ${OPERATION_NAMES.join(', ')}`);
  return code;
}

/** Kafka's validateOperation: each resource type takes its own operations and ALL. */
function validateOperations(resources: Iterable<{ pattern: Pattern; entries: Entry[] }>): void {
  for (const { pattern, entries } of resources) {
    const valid = [...(SUPPORTED_OPERATIONS.get(pattern.resourceType) ?? []), ALL];
    const unsupported = [...new Set(entries.map(({ operation }) => operation).filter((operation) => !valid.includes(operation)))];
    if (unsupported.length > 0) {
      throw new ToolError(
        `ResourceType ${aclResourceTypeName(pattern.resourceType)} only supports operations ${valid.map(aclOperationName).join(', ')} (not ${unsupported.map(aclOperationName).join(', ')})`,
      );
    }
  }
}

/** Kafka's ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL). */
function patternText(pattern: Pattern): string {
  return describeResourcePattern(pattern.resourceType, pattern.resourceName, pattern.patternType);
}

/** Kafka's AccessControlEntry: (principal=User:alice, host=*, operation=READ, permissionType=ALLOW). */
function entryText(entry: Entry): string {
  return `(principal=${entry.principal}, host=${entry.host}, operation=${aclOperationName(entry.operation)}, permissionType=${aclPermissionTypeName(entry.permissionType)})`;
}

/** Kafka's AclBinding: (pattern=ResourcePattern(...), entry=(...)). */
function bindingText(pattern: Pattern, entry: Entry): string {
  return `(pattern=${patternText(pattern)}, entry=${entryText(entry)})`;
}

/** A binding for --json, with Kafka's names for the codes. */
function bindingJson(binding: AclBindingInfo) {
  return {
    resourceType: aclResourceTypeName(binding.resourceType),
    resourceName: binding.resourceName,
    patternType: patternTypeName(binding.patternType),
    principal: binding.principal,
    host: binding.host,
    operation: aclOperationName(binding.operation),
    permissionType: aclPermissionTypeName(binding.permissionType),
  };
}

const sameEntry = (a: Entry, b: Entry) => a.principal === b.principal && a.host === b.host && a.operation === b.operation && a.permissionType === b.permissionType;
const exactFilter = (pattern: Pattern, entry?: Entry): AclFilter => ({
  ...pattern,
  principal: entry?.principal ?? null,
  host: entry?.host ?? null,
  operation: entry?.operation ?? AclOperation.ANY,
  permissionType: entry?.permissionType ?? AclPermissionType.ANY,
});

async function addAcls(admin: AdminClient, resources: Map<string, { pattern: Pattern; entries: Entry[] }>, options: AclsOptions): Promise<void> {
  const lines: string[] = [];
  const added: AclBindingInfo[] = [];
  const existing: AclBindingInfo[] = [];
  const failed: (AclBindingInfo & { error: string | null; message: string | null })[] = [];
  for (const { pattern, entries } of resources.values()) {
    const present = await admin.describeAcls(exactFilter(pattern));
    const missing: Entry[] = [];
    for (const entry of entries) {
      if (present.some((binding) => sameEntry(binding, entry))) {
        lines.push(`Acl ${bindingText(pattern, entry)} already exists.`);
        existing.push({ ...pattern, ...entry });
      } else {
        missing.push(entry);
      }
    }
    if (missing.length === 0) continue;
    lines.push(`Adding ACLs for resource \`${patternText(pattern)}\`: \n ${missing.map((entry) => `\t${entryText(entry)}`).join('\n')}\n`);
    const results = await admin.createAcls(missing.map((entry) => ({ ...pattern, ...entry })));
    results.forEach((result, index) => {
      const binding = { ...pattern, ...missing[index]! };
      if (result.error === null) added.push(binding);
      else failed.push({ ...binding, error: result.error, message: result.message });
    });
  }
  print(options, { added: added.map(bindingJson), existing: existing.map(bindingJson), failed: failed.map((binding) => ({ ...bindingJson(binding), error: binding.error, message: binding.message })) }, () => lines.join('\n'));
  reportFailures(failed, 'created');
}

function reportFailures(failed: readonly (AclBindingInfo & { error: string | null; message: string | null })[], done: string): void {
  if (failed.length === 0) return;
  for (const binding of failed) process.stderr.write(`${bindingText(binding, binding)}: ${binding.error}${binding.message ? ` (${binding.message})` : ''}\n`);
  throw new ToolError(`${failed.length} ACL${failed.length === 1 ? '' : 's'} not ${done}`);
}

async function confirm(question: string, options: AclsOptions): Promise<boolean> {
  // The question goes where Kafka's goes (standard output), unless that carries JSON.
  const output = options.json ? process.stderr : process.stdout;
  const prompt = createInterface({ input: process.stdin, output });
  try {
    const answer = await prompt.question(`${question}\n`);
    return answer.trim().toLowerCase() === 'y';
  } finally {
    prompt.close();
  }
}

async function removeAcls(admin: AdminClient, resources: Map<string, { pattern: Pattern; entries: Entry[] }>, options: AclsOptions): Promise<void> {
  const lines: string[] = [];
  const removed: AclBindingInfo[] = [];
  const failed: (AclBindingInfo & { error: string | null; message: string | null })[] = [];
  for (const { pattern, entries } of resources.values()) {
    const question =
      entries.length === 0
        ? `Are you sure you want to delete all ACLs for resource filter \`${patternText(pattern)}\`? (y/n)`
        : `Are you sure you want to remove ACLs: \n ${entries.map((entry) => `\t${entryText(entry)}`).join('\n')}\n from resource filter \`${patternText(pattern)}\`? (y/n)`;
    if (!options.force && !(await confirm(question, options))) continue;
    const filters = entries.length === 0 ? [exactFilter(pattern)] : entries.map((entry) => exactFilter(pattern, entry));
    const results = await admin.deleteAcls(filters);
    let count = 0;
    for (const result of results) {
      if (result.error !== null) {
        failed.push({ ...pattern, principal: '<any>', host: '<any>', operation: AclOperation.ANY, permissionType: AclPermissionType.ANY, error: result.error, message: result.message });
        continue;
      }
      for (const binding of result.matching) {
        if (binding.error === null) {
          removed.push(binding);
          lines.push(`Removed ACL ${bindingText(binding, binding)}`);
          count++;
        } else {
          failed.push(binding);
        }
      }
    }
    if (count === 0 && results.every((result) => result.error === null)) lines.push(`No ACLs matched resource filter \`${patternText(pattern)}\``);
  }
  if (lines.length === 0 && failed.length === 0 && !options.json) return;
  print(options, { removed: removed.map(bindingJson), failed: failed.map((binding) => ({ ...bindingJson(binding), error: binding.error, message: binding.message })) }, () => lines.join('\n'));
  reportFailures(failed, 'removed');
}


const byPattern = (a: Pattern, b: Pattern) => a.resourceType - b.resourceType || a.patternType - b.patternType || a.resourceName.localeCompare(b.resourceName);
const byEntry = (a: Entry, b: Entry) =>
  a.principal.localeCompare(b.principal) || a.permissionType - b.permissionType || aclOperationName(a.operation).localeCompare(aclOperationName(b.operation)) || a.host.localeCompare(b.host);

async function listAcls(admin: AdminClient, filters: readonly Pattern[], principals: readonly string[], options: AclsOptions): Promise<void> {
  const found = filters.length === 0 ? await admin.describeAcls(ANY_ACL_FILTER) : (await Promise.all(filters.map((filter) => admin.describeAcls(exactFilter(filter))))).flat();
  const unique = [...new Map(found.map((binding) => [JSON.stringify(bindingJson(binding)), binding])).values()];
  const bindings = unique.sort((a, b) => byPattern(a, b) || byEntry(a, b));
  const printResources = (shown: readonly AclBindingInfo[]) => {
    const groups = new Map<string, { pattern: Pattern; entries: Entry[] }>();
    for (const binding of shown) {
      const key = patternKey(binding);
      const group = groups.get(key) ?? { pattern: binding, entries: [] };
      group.entries.push(binding);
      groups.set(key, group);
    }
    return [...groups.values()].map(({ pattern, entries }) => `Current ACLs for resource \`${patternText(pattern)}\`:\n${entries.map((entry) => `\t${entryText(entry)}`).join('\n')}\n`);
  };
  // Like Kafka's tool, nothing at all when no ACL matches.
  if (bindings.length === 0 && principals.length === 0 && !options.json) return;
  if (principals.length === 0) {
    print(options, bindings.map(bindingJson), () => printResources(bindings).join('\n'));
    return;
  }
  const shown = bindings.filter((binding) => principals.includes(binding.principal));
  print(options, shown.map(bindingJson), () => principals.flatMap((principal) => [`ACLs for principal \`${principal}\``, ...printResources(bindings.filter((binding) => binding.principal === principal))]).join('\n'));
}

