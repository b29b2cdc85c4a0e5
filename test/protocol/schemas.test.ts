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
import { type JsonObject, readSpecFacts, SPEC_FOLDERS } from '../../scripts/codegen/spec-facts.js';
import { REFERENCE_FACTS_FILE, committedReferenceFacts, referenceFactsText, referenceSpecsDir } from '../../scripts/kafka-spec-facts.js';

const projectDir = fileURLToPath(new URL('../..', import.meta.url));
const specsDir = referenceSpecsDir();
const schemasDir = join(projectDir, 'schemas');

/**
 * Schemas deliberately newer than ../shared/kafka-specs (Kafka's 4.0 development line), each with
 * the reference file it grew from. Kafka 4.1 renamed ListClientMetricsResources to
 * ListConfigResources and added its v1 (KIP-1142), and added AlterPartitionReassignments v1
 * (KIP-860). Kafka 4.0 added Vote v2 with the PreVote field (KIP-996) and DescribeCluster v2 with
 * IncludeFencedBrokers and IsFenced (KIP-1073). These are compared with the reference in the versions the reference has, field names
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
]);

type Facts = { [key: string]: unknown };

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
  for (const folder of SPEC_FOLDERS) {
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
  assert.deepEqual([...actual.keys()].map(referenceOf).sort(), [...expected.keys()].sort());
  for (const [path, facts] of actual) {
    const reference = expected.get(referenceOf(path)) as Facts;
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
    for (const folder of SPEC_FOLDERS) {
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
