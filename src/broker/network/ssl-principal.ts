// The principal of a TLS client that presented a certificate, as Kafka's default principal
// builder makes it: the certificate's subject as an RFC 2253 distinguished name (most specific
// attribute first: CN=alice,OU=...,O=...,C=...), mapped by ssl.principal.mapping.rules, and named
// User:<name>. A client without a certificate is User:ANONYMOUS.
//
// The rules are Kafka's: a comma-separated list of `RULE:pattern/replacement/` (optionally `L` or
// `U` after the last slash: lower or upper case) and `DEFAULT` (the name unchanged). The first
// rule whose pattern matches the whole name applies; `$1`... in the replacement are its groups.
// A name no rule matches is refused, as Kafka refuses it.
import type { X509Certificate } from 'node:crypto';

export const ANONYMOUS = 'User:ANONYMOUS';

type Rule = { kind: 'default' } | { kind: 'rule'; pattern: RegExp; replacement: string; letterCase: '' | 'L' | 'U' };

export class SslPrincipalMapper {
  private constructor(private readonly rules: readonly Rule[]) {}

  /** Parses ssl.principal.mapping.rules; throws with the offending part for anything else. */
  static parse(text: string): SslPrincipalMapper {
    const rules: Rule[] = [];
    let at = 0;
    const skipSeparators = () => {
      while (at < text.length && /[\s,]/.test(text[at]!)) at += 1;
    };
    for (skipSeparators(); at < text.length; skipSeparators()) {
      if (text.startsWith('DEFAULT', at)) {
        rules.push({ kind: 'default' });
        at += 'DEFAULT'.length;
        continue;
      }
      if (!text.startsWith('RULE:', at)) throw new Error(`'${text.slice(at)}' is not RULE:pattern/replacement/[LU] or DEFAULT`);
      at += 'RULE:'.length;
      const pattern = readUntilSlash();
      const replacement = readUntilSlash();
      let letterCase: '' | 'L' | 'U' = '';
      if (text[at] === 'L' || text[at] === 'U') letterCase = text[at++] as 'L' | 'U';
      let compiled: RegExp;
      try {
        compiled = new RegExp(`^(?:${pattern})$`);
      } catch (error) {
        throw new Error(`the pattern '${pattern}' is not a regular expression: ${(error as Error).message}`);
      }
      rules.push({ kind: 'rule', pattern: compiled, replacement, letterCase });
    }
    if (rules.length === 0) throw new Error('no rule given (DEFAULT keeps the name as it is)');
    return new SslPrincipalMapper(rules);

    /** The text up to the next slash not escaped by a backslash; the slash is consumed. */
    function readUntilSlash(): string {
      let part = '';
      for (; at < text.length; at += 1) {
        const char = text[at]!;
        if (char === '\\' && at + 1 < text.length) {
          part += text[at + 1] === '/' ? '/' : char + text[at + 1];
          at += 1;
        } else if (char === '/') {
          at += 1;
          return part;
        } else part += char;
      }
      throw new Error(`a rule ends before its closing '/': '${text}'`);
    }
  }

  /** The short name for distinguished name `name`; throws when no rule applies. */
  map(name: string): string {
    for (const rule of this.rules) {
      if (rule.kind === 'default') return name;
      if (!rule.pattern.test(name)) continue;
      const mapped = name.replace(rule.pattern, rule.replacement);
      return rule.letterCase === 'L' ? mapped.toLowerCase() : rule.letterCase === 'U' ? mapped.toUpperCase() : mapped;
    }
    throw new Error(`no rule of ssl.principal.mapping.rules applies to '${name}'`);
  }
}

/**
 * A certificate subject as RFC 2253 writes it: node:crypto lists the attributes one per line in
 * certificate order (C first, CN last); RFC 2253 starts with the last, separated by commas, with
 * `,+"\<>;` and a leading `#` or space, or a trailing space, escaped by a backslash.
 */
export function distinguishedName(certificate: X509Certificate): string {
  return certificate.subject
    .split('\n')
    .filter((line) => line.length > 0)
    .reverse()
    .map((attribute) => {
      const equals = attribute.indexOf('=');
      const value = attribute.slice(equals + 1).replace(/[,+"\\<>;]/g, (char) => `\\${char}`).replace(/^[#\s]|\s$/g, (char) => `\\${char}`);
      return `${attribute.slice(0, equals)}=${value}`;
    })
    .join(',');
}
