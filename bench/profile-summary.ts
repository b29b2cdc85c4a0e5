// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, largest first, so
// the hot spots of a broker under load can be read without a browser.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const [file, limitText] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file!, 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
const hitsById = new Map<number, number>();
for (const sample of profile.samples) hitsById.set(sample, (hitsById.get(sample) ?? 0) + 1);
const byFunction = new Map<string, number>();
for (const node of profile.nodes) {
  const hits = hitsById.get(node.id) ?? 0;
  if (hits === 0) continue;
  const url = node.callFrame.url.replace(/^.*\/(src|node_modules)\//, '$1/');
  const key = `${node.callFrame.functionName || '(anonymous)'} ${url}:${node.callFrame.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
}
const total = profile.samples.length;
for (const [key, hits] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(limitText ?? 30))) {
  process.stdout.write(`${((hits / total) * 100).toFixed(1).padStart(5)}%  ${key}\n`);
}
