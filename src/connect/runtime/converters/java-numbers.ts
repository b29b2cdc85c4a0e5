// Numbers written and read the way a Java worker does, so that the bytes our converters produce
// are the bytes Kafka's produce: Double.toString and Float.toString (shortest digits, "1.0",
// "1.0E10"), BigDecimal's toString ("1.50", "1E+3"), BigDecimal's reading of decimal text
// (unscaled value and scale, exactly) and Java's narrowing casts (truncate, keep the low bits).

/** A decimal number as Java's BigDecimal holds it: value = unscaled × 10^-scale. */
export interface DecimalParts {
  readonly unscaled: bigint;
  readonly scale: number;
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const MAX_SCALE = 2 ** 31 - 1;

/** Parses decimal text ("-12.50", "1e3", "+.5") exactly; undefined when it is not a number. */
export function parseDecimalText(text: string): DecimalParts | undefined {
  const match = DECIMAL_TEXT.exec(text);
  if (!match) return undefined;
  const [, sign, whole = '', fraction = '', exponent] = match;
  if (whole === '' && fraction === '') return undefined;
  const scale = fraction.length - (exponent === undefined ? 0 : Number(exponent));
  if (!Number.isSafeInteger(scale) || Math.abs(scale) > MAX_SCALE) return undefined;
  return { unscaled: BigInt(`${sign === '-' ? '-' : ''}${whole}${fraction}` || '0'), scale };
}

/** Whether the decimal has no fractional part (1.0 and 1e3 do). */
export function isWholeNumber({ unscaled, scale }: DecimalParts): boolean {
  if (scale <= 0 || unscaled === 0n) return true;
  return scale <= digitCount(unscaled) && unscaled % 10n ** BigInt(scale) === 0n;
}

/** The integer part (truncated toward zero); undefined when it would have more than `maxDigits` digits. */
export function integerPart({ unscaled, scale }: DecimalParts, maxDigits = 1000): bigint | undefined {
  if (scale <= 0) {
    if (unscaled === 0n) return 0n;
    if (digitCount(unscaled) - scale > maxDigits) return undefined;
    return unscaled * 10n ** BigInt(-scale);
  }
  if (scale > digitCount(unscaled)) return 0n;
  return unscaled / 10n ** BigInt(scale);
}

/**
 * What Java's narrowing gives for a decimal: its integer part's low `bits` bits, signed (BigDecimal's
 * intValue/longValue, then (byte) or (short) casts).
 */
export function javaNarrow(decimal: DecimalParts, bits: 8 | 16 | 32 | 64): bigint {
  // 10^k is a multiple of 2^k, so once k ≥ bits the low bits of the value are all zero.
  if (decimal.scale <= -bits) return 0n;
  return BigInt.asIntN(bits, integerPart(decimal, Number.POSITIVE_INFINITY)!);
}

function digitCount(value: bigint): number {
  return (value < 0n ? -value : value).toString().length;
}

/** BigDecimal.toString: plain when the scale is not negative and the exponent is at least -6, else "1.5E+7". */
export function bigDecimalText(unscaled: bigint, scale: number): string {
  const sign = unscaled < 0n ? '-' : '';
  const coefficient = (unscaled < 0n ? -unscaled : unscaled).toString();
  const adjusted = -scale + (coefficient.length - 1);
  if (scale >= 0 && adjusted >= -6) {
    if (scale === 0) return sign + coefficient;
    if (coefficient.length > scale) return `${sign}${coefficient.slice(0, -scale)}.${coefficient.slice(-scale)}`;
    return `${sign}0.${'0'.repeat(scale - coefficient.length)}${coefficient}`;
  }
  const mantissa = coefficient.length > 1 ? `${coefficient[0]}.${coefficient.slice(1)}` : coefficient;
  return `${sign}${mantissa}E${adjusted >= 0 ? '+' : ''}${adjusted}`;
}

/** Java's Double.toString (JDK 19 and later: the shortest digits that read back as the same double). */
export function javaDoubleText(value: number): string {
  return javaFloatingText(value, (candidate, magnitude) => Number(candidate) === magnitude, 17);
}

/** Java's Float.toString of a float32 value (the shortest digits that read back as the same float). */
export function javaFloatText(value: number): string {
  const single = Math.fround(value);
  return javaFloatingText(single, (candidate, magnitude) => Math.fround(Number(candidate)) === magnitude, 9);
}

/** Whether decimal text reads back as `magnitude` (a double, or a float32). */
type ReadsBack = (text: string, magnitude: number) => boolean;

function javaFloatingText(value: number, readsBack: ReadsBack, maxDigits: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const magnitude = Math.abs(value);
  const { digits, exponent } = shortestDigits(magnitude, readsBack, maxDigits);
  return (value < 0 ? '-' : '') + javaLayout(digits, exponent);
}

/**
 * The fewest significant digits that read back as `magnitude`, the closest such decimal. As Java,
 * when one digit is enough, the closest decimal of one or two digits is taken (4.9E-324, not 5E-324).
 */
function shortestDigits(magnitude: number, readsBack: ReadsBack, maxDigits: number): { digits: string; exponent: number } {
  for (let precision = 1; precision <= maxDigits; precision++) {
    let text = magnitude.toExponential(precision - 1);
    if (!readsBack(text, magnitude)) continue;
    if (precision === 1) {
      const twoDigits = magnitude.toExponential(1);
      if (readsBack(twoDigits, magnitude)) text = twoDigits;
    }
    const [mantissa = '', exponent = '0'] = text.split('e');
    return { digits: mantissa.replace('.', '').replace(/0+$/, '') || '0', exponent: Number(exponent) };
  }
  const [mantissa = '', exponent = '0'] = magnitude.toExponential().split('e');
  return { digits: mantissa.replace('.', ''), exponent: Number(exponent) };
}

/** Java's layout: plain for 10^-3 ≤ |v| < 10^7 ("100.0", "0.001"), else "1.25E-5" / "1.0E10". */
function javaLayout(digits: string, exponent: number): string {
  if (exponent >= -3 && exponent < 7) {
    if (exponent < 0) return `0.${'0'.repeat(-exponent - 1)}${digits}`;
    const whole = digits.padEnd(exponent + 1, '0').slice(0, exponent + 1);
    return `${whole}.${digits.slice(exponent + 1) || '0'}`;
  }
  return `${digits[0]}.${digits.slice(1) || '0'}E${exponent}`;
}
