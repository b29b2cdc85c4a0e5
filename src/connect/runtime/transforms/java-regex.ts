// Java regular expressions (java.util.regex.Pattern) for RegexRouter and TopicNameMatches, run on
// JavaScript's RegExp. The common syntax is the same; this translates what differs and is likely in
// topic patterns: leading inline flags ((?i), (?s), (?m)), \Q...\E quoting, \A \z \Z anchors, and
// possessive quantifiers (a++, read as greedy ones; a topic name rarely tells them apart). Java-only
// syntax beyond that (atomic groups, class intersections, \p{Alpha}) fails to compile, with the
// JavaScript engine's message. Replacements follow Matcher.appendReplacement: $1, ${name}, \$.

/** A compiled Java pattern: `matches` is Matcher.matches (the whole input), `replaceFirst` Matcher.replaceFirst. */
export class JavaPattern {
  private readonly find: RegExp;
  private readonly whole: RegExp;

  /** Throws an Error (the engine's message) when the pattern does not compile. */
  constructor(readonly source: string) {
    const { body, flags } = translate(source);
    this.find = new RegExp(body, flags);
    this.whole = new RegExp(`^(?:${body})$`, flags);
  }

  matches(input: string): boolean {
    return this.whole.test(input);
  }

  /** The input with its first match replaced by `replacement`, expanded as Java does. */
  replaceFirst(input: string, replacement: string): string {
    const match = this.find.exec(input);
    if (!match) return input;
    const expanded = expandReplacement(replacement, match);
    return input.slice(0, match.index) + expanded + input.slice(match.index + match[0].length);
  }
}

/** Expands $n, ${name} and \x in a Java replacement string against a match. */
export function expandReplacement(replacement: string, match: RegExpExecArray): string {
  const groupCount = match.length - 1;
  let out = '';
  for (let index = 0; index < replacement.length; index++) {
    const char = replacement[index]!;
    if (char === '\\') {
      index++;
      if (index >= replacement.length) throw new Error('character to be escaped is missing');
      out += replacement[index];
    } else if (char !== '$') {
      out += char;
    } else {
      index++;
      if (index >= replacement.length) throw new Error('Illegal group reference: group index is missing');
      const reference = readGroupReference(replacement, index, groupCount, match);
      out += reference.text;
      index = reference.end - 1;
    }
  }
  return out;
}

/** The group reference starting at `start` (just after '$'): its text and where it ends. */
function readGroupReference(replacement: string, start: number, groupCount: number, match: RegExpExecArray): { text: string; end: number } {
  if (replacement[start] === '{') {
    const close = replacement.indexOf('}', start);
    const name = close < 0 ? '' : replacement.slice(start + 1, close);
    if (close < 0 || !/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error("named capturing group is missing trailing '}'");
    if (!match.groups || !(name in match.groups)) throw new Error(`No group with name {${name}}`);
    return { text: match.groups[name] ?? '', end: close + 1 };
  }
  if (!/[0-9]/.test(replacement[start] ?? '')) throw new Error('Illegal group reference');
  let group = Number(replacement[start]);
  if (group > groupCount) throw new Error(`No group ${group}`);
  let end = start + 1;
  // Java takes more digits while the number still names a group.
  while (end < replacement.length && /[0-9]/.test(replacement[end]!)) {
    const longer = group * 10 + Number(replacement[end]);
    if (longer > groupCount) break;
    group = longer;
    end++;
  }
  return { text: match[group] ?? '', end };
}

/** The JavaScript body and flags of a Java pattern. */
function translate(source: string): { body: string; flags: string } {
  let flags = '';
  let rest = source;
  for (let inline = /^\(\?([imsdux]+)\)/.exec(rest); inline; inline = /^\(\?([imsdux]+)\)/.exec(rest)) {
    for (const flag of inline[1]!) if ('ims'.includes(flag) && !flags.includes(flag)) flags += flag;
    rest = rest.slice(inline[0].length);
  }
  return { body: translateBody(rest), flags };
}

function translateBody(source: string): string {
  let out = '';
  let inClass = false;
  for (let index = 0; index < source.length; index++) {
    const char = source[index]!;
    if (char === '\\') {
      const next = source[index + 1];
      if (next === 'Q') {
        const end = source.indexOf('\\E', index + 2);
        const quoted = source.slice(index + 2, end < 0 ? source.length : end);
        out += quoted.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        index = end < 0 ? source.length : end + 1;
        continue;
      }
      out += inClass ? `\\${next ?? ''}` : anchorFor(next);
      index++;
      continue;
    }
    if (inClass) {
      if (char === ']') inClass = false;
      out += char;
      continue;
    }
    if (char === '[') {
      inClass = true;
      out += char;
      if (source[index + 1] === '^') out += source[++index];
      if (source[index + 1] === ']') out += `\\${source[++index]}`;
      continue;
    }
    out += char;
    if (isQuantifierEnd(source, index) && source[index + 1] === '+') index++; // possessive: read as greedy
  }
  return out;
}

/** Java's \A, \z and \Z as JavaScript lookarounds; other escapes pass through. */
function anchorFor(letter: string | undefined): string {
  switch (letter) {
    case 'A': return '(?<![\\s\\S])';
    case 'z': return '(?![\\s\\S])';
    case 'Z': return '(?=\\n?(?![\\s\\S]))';
    default: return `\\${letter ?? ''}`;
  }
}

/** Whether the character at `index` ends a quantifier (*, +, ?, or a {n,m} that follows an atom). */
function isQuantifierEnd(source: string, index: number): boolean {
  const char = source[index];
  if (char === '*' || char === '+' || char === '?') return source[index - 1] !== '(' && !escaped(source, index);
  return char === '}' && /\{\d+(,\d*)?\}$/.test(source.slice(0, index + 1));
}

function escaped(source: string, index: number): boolean {
  let backslashes = 0;
  for (let at = index - 1; at >= 0 && source[at] === '\\'; at--) backslashes++;
  return backslashes % 2 === 1;
}
