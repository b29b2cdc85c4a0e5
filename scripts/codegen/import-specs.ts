// Refreshes schemas/ from Apache Kafka's spec files in ../shared/kafka-specs, keeping facts only.
// Run by hand when the reference specs change: `tsx scripts/codegen/import-specs.ts [specs-dir]`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatFacts, readSpecFacts } from './spec-facts.js';

const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const specsDir = resolve(process.argv[2] ?? join(projectDir, '../shared/kafka-specs'));

const facts = readSpecFacts(specsDir);
for (const [path, schema] of facts) {
  const target = join(projectDir, 'schemas', path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, formatFacts(schema));
}
console.log(`wrote ${facts.size} schema files from ${specsDir}`);
