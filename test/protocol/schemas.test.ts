// The schema facts in schemas/ equal what Kafka's own specs say (when ../shared/kafka-specs is
// present), and the committed generated codecs are what the generator makes from them.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generate } from '../../scripts/codegen/main.js';
import { readSpecFacts, SPEC_FOLDERS } from '../../scripts/codegen/spec-facts.js';

const projectDir = fileURLToPath(new URL('../..', import.meta.url));
const specsDir = join(projectDir, '../shared/kafka-specs');
const schemasDir = join(projectDir, 'schemas');

/**
 * Schemas deliberately newer than ../shared/kafka-specs (Kafka's 4.0 development line), each with
 * the reference file it grew from. Kafka 4.1 renamed ListClientMetricsResources to
 * ListConfigResources and added its v1 (KIP-1142), and added AlterPartitionReassignments v1
 * (KIP-860). These are compared with the reference in the versions the reference has, field names
 * aside (the rename also renamed fields; names are not on the wire).
 */
const AHEAD_OF_REFERENCE: ReadonlyMap<string, string> = new Map([
  ['message/ListConfigResourcesRequest.json', 'message/ListClientMetricsResourcesRequest.json'],
  ['message/ListConfigResourcesResponse.json', 'message/ListClientMetricsResourcesResponse.json'],
  ['message/AlterPartitionReassignmentsRequest.json', 'message/AlterPartitionReassignmentsRequest.json'],
  ['message/AlterPartitionReassignmentsResponse.json', 'message/AlterPartitionReassignmentsResponse.json'],
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

describe('schema facts', () => {
  it('match ../shared/kafka-specs', (context) => {
    if (!existsSync(specsDir)) {
      context.skip(`${specsDir} is absent; nothing to compare against`);
      return;
    }
    const expected = readSpecFacts(specsDir);
    const actual = new Map<string, unknown>();
    for (const folder of SPEC_FOLDERS) {
      for (const file of readdirSync(join(schemasDir, folder))) {
        actual.set(`${folder}/${file}`, JSON.parse(readFileSync(join(schemasDir, folder, file), 'utf8')));
      }
    }
    const referenceOf = (path: string) => AHEAD_OF_REFERENCE.get(path) ?? path;
    assert.deepEqual([...actual.keys()].map(referenceOf).sort(), [...expected.keys()].sort());
    for (const [path, facts] of actual) {
      const reference = expected.get(referenceOf(path)) as Facts;
      if (!AHEAD_OF_REFERENCE.has(path)) {
        assert.deepEqual(facts, reference, path);
        continue;
      }
      const referenceMax = maxVersionOf(reference);
      assert.ok(maxVersionOf(facts as Facts) > referenceMax, `${path} is listed as ahead of the reference but is not`);
      assert.deepEqual(wireFacts(facts as Facts, referenceMax), wireFacts(reference, referenceMax), path);
    }
  });

  it('carry no descriptions or comments', () => {
    for (const folder of SPEC_FOLDERS) {
      for (const file of readdirSync(join(schemasDir, folder))) {
        const text = readFileSync(join(schemasDir, folder, file), 'utf8');
        for (const banned of ['"about"', '//', '"entityType"', '"mapKey"', '"listeners"', '"latestVersionUnstable"']) {
          assert.ok(!text.includes(banned), `${folder}/${file} contains ${banned}`);
        }
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
