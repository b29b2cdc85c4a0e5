// The schema facts in schemas/ equal what Kafka's own specs say: always against the reference facts
// committed in test/protocol/data/kafka-spec-facts.json (derived from ../shared/kafka-specs by
// scripts/kafka-spec-facts.ts), and that file against ../shared/kafka-specs itself when present
// (CONVEYOR_KAFKA_SPECS names another folder, e.g. /nonexistent to run as without it). The committed
// generated codecs are what the generator makes from schemas/.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generate } from '../../scripts/codegen/main.js';
import { type JsonObject, readSpecFacts } from '../../scripts/codegen/spec-facts.js';
import { inRange, NO_VERSIONS, parseVersions, versionList } from '../../scripts/codegen/schema-model.js';
import { REFERENCE_FACTS_FILE, committedReferenceFacts, referenceFactsText, referenceSpecsDir } from '../../scripts/kafka-spec-facts.js';

const projectDir = fileURLToPath(new URL('../..', import.meta.url));
const specsDir = referenceSpecsDir();
const schemasDir = join(projectDir, 'schemas');

/**
 * Schemas deliberately newer than ../shared/kafka-specs (Kafka's 4.0 development line), each with
 * the reference file it grew from. Kafka 4.1 renamed ListClientMetricsResources to
 * ListConfigResources and added its v1 (KIP-1142), and added AlterPartitionReassignments v1
 * (KIP-860). Kafka 4.0 added Vote v2 with the PreVote field (KIP-996) and DescribeCluster v2 with
 * IncludeFencedBrokers and IsFenced (KIP-1073), and DescribeGroups v6 with an error message per
 * group (KIP-1043). Kafka 4.1 added ConsumerGroupDescribe v1 with each member's MemberType (KIP-1099).
 * These are compared with the reference in the versions the reference has, field names
 * aside (the rename also renamed fields; names are not on the wire).
 */
const AHEAD_OF_REFERENCE: ReadonlyMap<string, string> = new Map([
  ['message/ListConfigResourcesRequest.json', 'message/ListClientMetricsResourcesRequest.json'],
  ['message/ListConfigResourcesResponse.json', 'message/ListClientMetricsResourcesResponse.json'],
  ['message/AlterPartitionReassignmentsRequest.json', 'message/AlterPartitionReassignmentsRequest.json'],
  ['message/AlterPartitionReassignmentsResponse.json', 'message/AlterPartitionReassignmentsResponse.json'],
  ['message/VoteRequest.json', 'message/VoteRequest.json'],
  ['message/VoteResponse.json', 'message/VoteResponse.json'],
  ['message/DescribeClusterRequest.json', 'message/DescribeClusterRequest.json'],
  ['message/DescribeClusterResponse.json', 'message/DescribeClusterResponse.json'],
  // DescribeGroups v6 (KIP-1043, Kafka 4.0: ErrorMessage per group), as Kafka 4.2.0 has it.
  ['message/DescribeGroupsRequest.json', 'message/DescribeGroupsRequest.json'],
  ['message/DescribeGroupsResponse.json', 'message/DescribeGroupsResponse.json'],
  // ConsumerGroupDescribe v1 (KIP-1099, Kafka 4.1: MemberType per member), as Kafka 4.2.0 has it.
  ['message/ConsumerGroupDescribeRequest.json', 'message/ConsumerGroupDescribeRequest.json'],
  ['message/ConsumerGroupDescribeResponse.json', 'message/ConsumerGroupDescribeResponse.json'],
]);

type Facts = { [key: string]: unknown };

/**
 * OffsetCommit and OffsetFetch v10 (Kafka 4.2, KIP-848: topics by TopicId instead of by name), as
 * Kafka 4.2.0 has them. Kafka narrowed each topic Name's versions (OffsetCommit 0+ to 0-9,
 * OffsetFetch's batched 8+ to 8-9) and made it ignorable, so these files no longer equal the
 * reference field by field below v10: they are compared on the wire in every version the
 * reference has (types, nullability and tags), as the share-group schemas are.
 */
const TOPIC_IDS_42: ReadonlySet<string> = new Set(
  ['OffsetCommit', 'OffsetFetch'].flatMap((name) => [`message/${name}Request.json`, `message/${name}Response.json`]),
);

/**
 * Share groups (KIP-932) as Kafka 4.2.0 has them (apache/kafka a18251bae0b8), where the reference
 * still has the 4.0 early-access shapes: share-group RPCs gained versions (ShareFetch and
 * ShareAcknowledge v1-v2, state RPCs v1 with DeliveryCompleteCount, Heartbeat and Describe v1),
 * keys 90-92 and the __share_group_state records (share-coordinator/) are new, and record type 9
 * (ShareGroupPartitionMetadata) is gone, replaced by MetadataHash in type 11. Kafka changed three
 * shapes in versions the reference already has; `changedInOldVersions` names exactly those fields,
 * the only wire differences allowed. Everything else must agree with the reference on the wire in
 * every version the reference has (types, nullability and tags; names and `about` aside).
 */
const SHARE_GROUPS_42 = {
  newer: new Set(
    ['ShareGroupHeartbeat', 'ShareGroupDescribe', 'ShareFetch', 'ShareAcknowledge', 'WriteShareGroupState', 'ReadShareGroupStateSummary']
      .flatMap((name) => [`message/${name}Request.json`, `message/${name}Response.json`])
      .concat(['group-coordinator/ShareGroupMetadataValue.json', 'group-coordinator/ShareGroupStatePartitionMetadataValue.json']),
  ),
  changedInOldVersions: new Map<string, readonly string[]>([
    // ReadShareGroupStateSummaryResponse v0 gained LeaderEpoch (between StateEpoch and StartOffset).
    ['message/ReadShareGroupStateSummaryResponse.json', ['LeaderEpoch']],
    // Record type 11's value v0 gained MetadataHash; type 15's value v0 gained InitializingTopics first.
    ['group-coordinator/ShareGroupMetadataValue.json', ['MetadataHash']],
    ['group-coordinator/ShareGroupStatePartitionMetadataValue.json', ['InitializingTopics']],
  ]),
  added: new Set([
    ...['DescribeShareGroupOffsets', 'AlterShareGroupOffsets', 'DeleteShareGroupOffsets'].flatMap((name) => [
      `message/${name}Request.json`,
      `message/${name}Response.json`,
    ]),
    ...['ShareSnapshot', 'ShareUpdate'].flatMap((name) => [`share-coordinator/${name}Key.json`, `share-coordinator/${name}Value.json`]),
  ]),
  removed: new Set(['group-coordinator/ShareGroupPartitionMetadataKey.json', 'group-coordinator/ShareGroupPartitionMetadataValue.json']),
};

/** The wire layout of one version: fields present in it, with type, nullability and tag; no names. */
function wireAt(fields: Facts[], version: number, skip: readonly string[] = []): Facts[] {
  return fields
    .filter((field) => inRange(parseVersions(field.versions as string | undefined, parseVersions(field.taggedVersions as string | undefined, NO_VERSIONS)), version))
    .filter((field) => !skip.includes(field.name as string))
    .map((field) => {
      const tagged = inRange(parseVersions(field.taggedVersions as string | undefined, NO_VERSIONS), version);
      const children = field.fields as Facts[] | undefined;
      return {
        type: Array.isArray(children) ? String(field.type).replace(/[A-Za-z]+$/, 'struct') : field.type,
        nullable: inRange(parseVersions(field.nullableVersions as string | undefined, NO_VERSIONS), version),
        ...(tagged ? { tag: field.tag, default: field.default } : {}),
        ...(Array.isArray(children) ? { fields: wireAt(children, version, skip) } : {}),
      };
    });
}

/** A 4.2 share-group schema against its reference: same wire in every version the reference has, but the listed fields. */
function assertShareSchemaMatches(path: string, facts: Facts, reference: Facts): void {
  const changed = SHARE_GROUPS_42.changedInOldVersions.get(path) ?? [];
  const names = (list: Facts[]): string[] => list.flatMap((field) => [field.name as string, ...names((field.fields as Facts[] | undefined) ?? [])]);
  for (const name of changed) {
    assert.ok(names(facts.fields as Facts[]).includes(name), `${path}: ${name} is listed as added but is absent`);
    assert.ok(!names(reference.fields as Facts[]).includes(name), `${path}: ${name} is listed as added but the reference has it`);
  }
  assert.equal(facts.flexibleVersions, reference.flexibleVersions, path);
  const ours = parseVersions(facts.validVersions as string, NO_VERSIONS);
  for (const version of versionList(parseVersions(reference.validVersions as string, NO_VERSIONS))) {
    assert.ok(inRange(ours, version), `${path} dropped version ${version}`);
    const expected = wireAt(reference.fields as Facts[], version);
    assert.deepEqual(wireAt(facts.fields as Facts[], version, changed), expected, `${path} v${version}`);
    if (changed.length > 0) assert.notDeepEqual(wireAt(facts.fields as Facts[], version), expected, `${path} v${version} no longer differs`);
  }
}

/** A schema ahead of its reference: a newer last version, and the same wire in every version the reference has. */
function assertSameWireInReferenceVersions(path: string, facts: Facts, reference: Facts): void {
  assert.equal(facts.flexibleVersions, reference.flexibleVersions, path);
  assert.ok(maxVersionOf(facts) > maxVersionOf(reference), `${path} is listed as ahead of the reference but is not`);
  const ours = parseVersions(facts.validVersions as string, NO_VERSIONS);
  for (const version of versionList(parseVersions(reference.validVersions as string, NO_VERSIONS))) {
    assert.ok(inRange(ours, version), `${path} dropped version ${version}`);
    assert.deepEqual(wireAt(facts.fields as Facts[], version), wireAt(reference.fields as Facts[], version), `${path} v${version}`);
  }
}

/** What goes on the wire in versions up to `maxVersion`: fields without names, newer fields dropped. */
function wireFacts(facts: Facts, maxVersion: number): Facts {
  const fields = (list: Facts[]): Facts[] =>
    list
      .filter((field) => Number.parseInt(String(field.versions), 10) <= maxVersion)
      .map(({ name: _name, fields: children, ...rest }) => ({
        ...rest,
        type: Array.isArray(children) ? String(rest.type).replace(/[A-Za-z]+$/, 'struct') : rest.type,
        ...(Array.isArray(children) ? { fields: fields(children as Facts[]) } : {}),
      }));
  return { apiKey: facts.apiKey, type: facts.type, flexibleVersions: facts.flexibleVersions, fields: fields(facts.fields as Facts[]) };
}

function maxVersionOf(facts: Facts): number {
  return Number(String(facts.validVersions).split('-').at(-1));
}

/** Every file of schemas/, keyed as the reference keys them. */
function schemaFacts(): Map<string, Facts> {
  const actual = new Map<string, Facts>();
  for (const folder of readdirSync(schemasDir).sort()) {
    for (const file of readdirSync(join(schemasDir, folder))) {
      actual.set(`${folder}/${file}`, JSON.parse(readFileSync(join(schemasDir, folder, file), 'utf8')) as Facts);
    }
  }
  return actual;
}

/** schemas/ equals `expected`, except the schemas ahead of it, which must agree on the wire in the versions it has. */
function assertSchemasMatch(expected: ReadonlyMap<string, JsonObject>): void {
  const actual = schemaFacts();
  const referenceOf = (path: string) => AHEAD_OF_REFERENCE.get(path) ?? path;
  for (const path of SHARE_GROUPS_42.added) assert.ok(!expected.has(path), `${path} is listed as new in Kafka 4.2 but the reference has it`);
  for (const path of SHARE_GROUPS_42.removed) assert.ok(expected.has(path), `${path} is listed as removed but the reference lacks it`);
  const kept = [...actual.keys()].filter((path) => !SHARE_GROUPS_42.added.has(path));
  const referenced = [...expected.keys()].filter((path) => !SHARE_GROUPS_42.removed.has(path));
  assert.deepEqual(kept.map(referenceOf).sort(), referenced.sort());
  for (const path of SHARE_GROUPS_42.added) assert.ok(actual.has(path), `${path} is listed as new in Kafka 4.2 but absent from schemas/`);
  for (const [path, facts] of actual) {
    if (SHARE_GROUPS_42.added.has(path)) continue;
    const reference = expected.get(referenceOf(path)) as Facts;
    if (SHARE_GROUPS_42.newer.has(path)) {
      assertShareSchemaMatches(path, facts, reference);
      continue;
    }
    if (TOPIC_IDS_42.has(path)) {
      assertSameWireInReferenceVersions(path, facts, reference);
      continue;
    }
    if (!AHEAD_OF_REFERENCE.has(path)) {
      assert.deepEqual(facts, reference, path);
      continue;
    }
    const referenceMax = maxVersionOf(reference);
    assert.ok(maxVersionOf(facts) > referenceMax, `${path} is listed as ahead of the reference but is not`);
    assert.deepEqual(wireFacts(facts, referenceMax), wireFacts(reference, referenceMax), path);
  }
}

describe('schema facts', () => {
  it('match the committed reference facts (test/protocol/data/kafka-spec-facts.json)', () => {
    assertSchemasMatch(committedReferenceFacts());
  });

  it('committed reference facts match ../shared/kafka-specs, when present', (context) => {
    if (!existsSync(specsDir)) {
      context.skip(`${specsDir} is absent: schemas/ was checked against the committed reference facts only`);
      return;
    }
    const committed = readFileSync(REFERENCE_FACTS_FILE, 'utf8');
    assert.ok(committed === referenceFactsText(specsDir), `${REFERENCE_FACTS_FILE} differs from ${specsDir}: run tsx scripts/kafka-spec-facts.ts`);
    // Also straight from the specs, so a fault in reading the committed file cannot hide a difference.
    assertSchemasMatch(readSpecFacts(specsDir));
  });

  it('carry no descriptions or comments (schemas/ and the committed reference facts)', () => {
    const texts = new Map<string, string>([[REFERENCE_FACTS_FILE, readFileSync(REFERENCE_FACTS_FILE, 'utf8')]]);
    for (const folder of readdirSync(schemasDir)) {
      for (const file of readdirSync(join(schemasDir, folder))) texts.set(`${folder}/${file}`, readFileSync(join(schemasDir, folder, file), 'utf8'));
    }
    for (const [path, text] of texts) {
      for (const banned of ['"about"', '//', '"entityType"', '"mapKey"', '"listeners"', '"latestVersionUnstable"']) {
        assert.ok(!text.includes(banned), `${path} contains ${banned}`);
      }
    }
  });
});

describe('generated codecs', () => {
  it('are up to date with schemas/ (npm run codegen)', () => {
    for (const [path, text] of generate()) {
      const committed = readFileSync(join(projectDir, 'src/protocol/messages', path), 'utf8');
      assert.ok(committed === text, `src/protocol/messages/${path} is stale: run npm run codegen`);
    }
  });
});
