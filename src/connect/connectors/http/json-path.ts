// The small subset of JSONPath the HTTP connectors need to find things in a response body or a
// record: `$` (the whole value), member names (`$.data.items`, `$['odd key']`) and array indexes
// (`$.pages[0]`). The leading `$` may be left out (`data.items`). No wildcards, filters or slices:
// each path names exactly one place, so a missing one reads as undefined rather than as a list.

export type JsonPathStep = string | number;

/** The steps of `path`; throws an Error saying what is wrong with it. */
export function parseJsonPath(path: string): JsonPathStep[] {
  const text = path.trim();
  const steps: JsonPathStep[] = [];
  let index = 0;
  if (text.startsWith('$')) index = 1;
  else if (text !== '' && !text.startsWith('.') && !text.startsWith('[')) {
    // A bare name first (data.items): read as $.data.items.
    const end = nameEnd(text, 0);
    steps.push(text.slice(0, end));
    index = end;
  }
  while (index < text.length) {
    const char = text[index];
    if (char === '.') {
      const end = nameEnd(text, index + 1);
      if (end === index + 1) throw new Error(`JSON path '${path}' has an empty member name at position ${index + 1}`);
      steps.push(text.slice(index + 1, end));
      index = end;
    } else if (char === '[') {
      const close = text.indexOf(']', index);
      if (close < 0) throw new Error(`JSON path '${path}' has an unclosed '['`);
      const inner = text.slice(index + 1, close).trim();
      const quoted = /^'(.*)'$|^"(.*)"$/.exec(inner);
      if (quoted) steps.push(quoted[1] ?? quoted[2] ?? '');
      else if (/^\d+$/.test(inner)) steps.push(Number(inner));
      else throw new Error(`JSON path '${path}' has '[${inner}]': only array indexes and quoted names are supported`);
      index = close + 1;
    } else {
      throw new Error(`JSON path '${path}' has an unexpected '${char}' at position ${index}`);
    }
  }
  return steps;
}

function nameEnd(text: string, from: number): number {
  let end = from;
  while (end < text.length && text[end] !== '.' && text[end] !== '[') end++;
  return end;
}

/** The value at `steps` in `value`, or undefined when some step is not there. */
export function readJsonPath(value: unknown, steps: readonly JsonPathStep[]): unknown {
  let current = value;
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    if (typeof step === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[step];
    } else {
      if (Array.isArray(current)) return undefined;
      current = Object.prototype.hasOwnProperty.call(current, step) ? (current as Record<string, unknown>)[step] : undefined;
    }
  }
  return current;
}

/** A config validator's check: the error sentence for a bad path, or undefined. */
export function jsonPathProblem(name: string, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  try {
    parseJsonPath(String(value));
    return undefined;
  } catch (error) {
    return `Invalid value ${String(value)} for configuration ${name}: ${(error as Error).message}`;
  }
}
