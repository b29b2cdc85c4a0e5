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
    assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
    for (const [path, facts] of expected) assert.deepEqual(actual.get(path), facts, path);
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
