// A seeded pseudo-random generator behind the RandomSource port, the one source of randomness in a
// simulation: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state, passes
// PractRand and BigCrush) with its state derived from the seed by the murmur3 fmix32 finalizer.
// `fork(label)` derives an independent generator from the seed and a label without consuming from
// this one, so each component draws from its own stream and adding a draw in one component never
// shifts another's.
import { assert } from '../../base/assert.js';
import type { RandomSource } from '../../base/clock.js';

const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_53 = 2 ** 53;
const GOLDEN_RATIO_32 = 0x9e3779b9;
/** sfc32's authors discard the first outputs so that similar seeds have diverged. */
const WARM_UP_ROUNDS = 12;

/** The murmur3 32-bit finalizer: a bijection on 32-bit words with full avalanche. */
function fmix32(value: number): number {
  let z = value | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Folds `label` into a copy of `key` (four 32-bit words). The label's length goes in first, so
 * fork('a').fork('b') and fork('ab') differ.
 */
function deriveKey(key: readonly number[], label: string): number[] {
  const words = [...key];
  const mix = (unit: number): void => {
    for (let index = 0; index < 4; index++) {
      const previous = words[(index + 3) & 3]!;
      words[index] = fmix32((words[index]! ^ unit) + Math.imul(index + 1, GOLDEN_RATIO_32) + previous);
    }
  };
  mix(label.length);
  for (let index = 0; index < label.length; index++) mix(label.charCodeAt(index));
  return words;
}

/** The key of a forked generator; module-private, so only `fork` can construct from a key. */
class ForkKey {
  constructor(readonly words: readonly number[]) {}
}

export class SeededRandom implements RandomSource {
  /** What this generator was derived from (never changes); forks hash it with their label. */
  readonly #key: readonly number[];
  #a: number;
  #b: number;
  #c: number;
  #counter: number;

  /** `seed` is any safe integer (53 bits); equal seeds give equal streams. */
  constructor(seed: number);
  constructor(seed: number | ForkKey) {
    if (seed instanceof ForkKey) {
      this.#key = seed.words;
    } else {
      assert(Number.isSafeInteger(seed), `seed must be a safe integer, got ${seed}`);
      // Both halves of the seed go into the key, so all 2^53 seeds give different streams.
      this.#key = [seed >>> 0, Math.floor(seed / TWO_POW_32) >>> 0, 0x243f6a88, 0x85a308d3];
    }
    this.#a = this.#b = this.#c = this.#counter = 0;
    this.#initialise();
  }

  /** The generator for `label`, a function of this generator's seed (and earlier labels) only. */
  fork(label: string): SeededRandom {
    return new (SeededRandom as unknown as new (key: ForkKey) => SeededRandom)(new ForkKey(deriveKey(this.#key, label)));
  }

  /** A uniformly random unsigned 32-bit integer. */
  nextUint32(): number {
    const result = (this.#a + this.#b + this.#counter) | 0;
    this.#counter = (this.#counter + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) + result;
    this.#c |= 0;
    return result >>> 0;
  }

  /** A uniformly random integer in [0, bound), unbiased (rejection sampling); bound up to 2^53. */
  nextInt(bound: number): number {
    assert(Number.isSafeInteger(bound) && bound >= 1, `bound must be a positive safe integer, got ${bound}`);
    if (bound <= TWO_POW_32) {
      // Reject the top TWO_POW_32 % bound values so every residue is equally likely.
      const limit = TWO_POW_32 - (TWO_POW_32 % bound);
      let value = this.nextUint32();
      while (value >= limit) value = this.nextUint32();
      return value % bound;
    }
    const limit = TWO_POW_53 - (TWO_POW_53 % bound);
    let value = this.#next53();
    while (value >= limit) value = this.#next53();
    return value % bound;
  }

  /** A uniformly random integer in [min, max], both inclusive. */
  between(min: number, max: number): number {
    assert(Number.isSafeInteger(min) && Number.isSafeInteger(max) && min <= max, `bad range [${min}, ${max}]`);
    return min + this.nextInt(max - min + 1);
  }

  /** A uniformly random float in [0, 1) with 53 random bits. */
  float(): number {
    return this.#next53() / TWO_POW_53;
  }

  /** True with probability `probability`; always draws one value, so the stream does not depend on p. */
  chance(probability: number): boolean {
    assert(!Number.isNaN(probability), 'probability is NaN');
    return this.float() < probability;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'pick from an empty array');
    return items[this.nextInt(items.length)]!;
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let index = items.length - 1; index > 0; index--) {
      const other = this.nextInt(index + 1);
      const held = items[index]!;
      items[index] = items[other]!;
      items[other] = held;
    }
    return items;
  }

  /** `length` random bytes. */
  bytes(length: number): Buffer {
    assert(Number.isSafeInteger(length) && length >= 0, `bad length ${length}`);
    const buffer = Buffer.allocUnsafe(length);
    let offset = 0;
    for (; offset + 4 <= length; offset += 4) buffer.writeUInt32LE(this.nextUint32(), offset);
    if (offset < length) {
      let word = this.nextUint32();
      for (; offset < length; offset++, word >>>= 8) buffer[offset] = word & 0xff;
    }
    return buffer;
  }

  #next53(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return high * 0x400_0000 + low;
  }

  #initialise(): void {
    const key = this.#key;
    // Each state word is a bijection of one key word, perturbed by a neighbour so that no key
    // maps to a degenerate state; the warm-up then spreads every key bit over the whole state.
    this.#a = fmix32(key[0]! + GOLDEN_RATIO_32) ^ key[3]!;
    this.#b = fmix32(key[1]! + Math.imul(2, GOLDEN_RATIO_32)) ^ key[0]!;
    this.#c = fmix32(key[2]! + Math.imul(3, GOLDEN_RATIO_32)) ^ key[1]!;
    this.#counter = fmix32(key[3]! + Math.imul(4, GOLDEN_RATIO_32)) ^ key[2]!;
    for (let round = 0; round < WARM_UP_ROUNDS; round++) this.nextUint32();
  }
}
