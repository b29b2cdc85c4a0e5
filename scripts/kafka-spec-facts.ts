// Writes test/protocol/data/kafka-spec-facts.json: the protocol facts of Apache Kafka's spec files in
// ../shared/kafka-specs (the reference schemas/ was imported from), reduced by spec-facts.ts to names,
// types, version ranges, tags and defaults; no descriptions or comments. test/protocol/schemas.test.ts
// compares schemas/ against this file on every run, and this file against ../shared when present.
//
//   tsx scripts/kafka-spec-facts.ts [--check] [specs-dir]
// --check writes nothing and exits 1 when the committed file differs from what the specs give.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type JsonObject, readSpecFacts } from './codegen/spec-facts.js';

const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the committed reference facts live. */
export const REFERENCE_FACTS_FILE = join(projectDir, 'test/protocol/data/kafka-spec-facts.json');

/** The reference specs: CONVEYOR_KAFKA_SPECS, or ../shared/kafka-specs beside the project. */
export function referenceSpecsDir(): string {
  return resolve(process.env.CONVEYOR_KAFKA_SPECS || join(projectDir, '../shared/kafka-specs'));
}

/** The file's text for the specs in `specsDir`: one spec file per line, sorted, so diffs stay reviewable. */
export function referenceFactsText(specsDir: string): string {
  const facts = readSpecFacts(specsDir);
  const lines = [...facts.keys()].sort().map((path) => `  ${JSON.stringify(path)}: ${JSON.stringify(facts.get(path))}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}

/** The committed reference facts, keyed by `<folder>/<Name>.json` as readSpecFacts keys them. */
export function committedReferenceFacts(): Map<string, JsonObject> {
  return new Map(Object.entries(JSON.parse(readFileSync(REFERENCE_FACTS_FILE, 'utf8')) as Record<string, JsonObject>));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const specsDir = resolve(args.find((arg) => arg !== '--check') ?? referenceSpecsDir());
  if (!existsSync(specsDir)) {
    console.error(`${specsDir} is absent: nothing to derive the reference facts from`);
    process.exit(2);
  }
  const text = referenceFactsText(specsDir);
  if (check) {
    const same = existsSync(REFERENCE_FACTS_FILE) && readFileSync(REFERENCE_FACTS_FILE, 'utf8') === text;
    console.log(same ? `${REFERENCE_FACTS_FILE} matches ${specsDir}` : `${REFERENCE_FACTS_FILE} differs from ${specsDir}: run tsx scripts/kafka-spec-facts.ts`);
    process.exit(same ? 0 : 1);
  }
  writeFileSync(REFERENCE_FACTS_FILE, text);
  console.log(`wrote ${REFERENCE_FACTS_FILE} from ${specsDir}`);
}
