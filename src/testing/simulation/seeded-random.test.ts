// The seeded generator: equal seeds give equal streams, every helper stays in its range, nextInt
// is unbiased (chi-square with fixed seeds, so the bounds are deterministic and cannot flake), and
// forks are independent of each other and of the parent's draws.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from './seeded-random.js';

function draws(random: SeededRandom, count: number): number[] {
  return Array.from({ length: count }, () => random.nextUint32());
}

/** Pearson's chi-square statistic of `counts` against a uniform expectation. */
function chiSquare(counts: readonly number[]): number {
  const total = counts.reduce((sum, count) => sum + count, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
}

describe('SeededRandom', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    assert.deepEqual(draws(new SeededRandom(42), 100), draws(new SeededRandom(42), 100));
    assert.notDeepEqual(draws(new SeededRandom(42), 100), draws(new SeededRandom(43), 100));
    // The high half of a 53-bit seed counts too, and negative seeds are accepted.
    assert.notDeepEqual(draws(new SeededRandom(7), 10), draws(new SeededRandom(7 + 2 ** 32), 10));
    assert.notDeepEqual(draws(new SeededRandom(-1), 10), draws(new SeededRandom(2 ** 32 - 1), 10));
    assert.throws(() => new SeededRandom(1.5));
    assert.throws(() => new SeededRandom(2 ** 53));
  });

  it('is pinned: a change of algorithm would silently change every recorded failing seed', () => {
    assert.deepEqual(draws(new SeededRandom(1), 3), [412087674, 866853123, 858391459]);
  });

  it('draws nextInt uniformly (chi-square, 9 degrees of freedom, p = 0.001 bound 27.88)', () => {
    for (const seed of [1, 2, 3]) {
      const random = new SeededRandom(seed);
      const counts = new Array<number>(10).fill(0);
      for (let index = 0; index < 100_000; index++) counts[random.nextInt(10)]!++;
      assert.ok(chiSquare(counts) < 27.88, `seed ${seed}: chi-square ${chiSquare(counts)} for ${counts}`);
    }
  });

  it('rejects rather than folds the remainder, so a bound near 2^32 is not biased', () => {
    // With bound 3 * 2^30, `x % bound` would make [0, 2^30) twice as likely (1/2 instead of 1/3).
    const random = new SeededRandom(9);
    const bound = 3 * 2 ** 30;
    let low = 0;
    const total = 30_000;
    for (let index = 0; index < total; index++) if (random.nextInt(bound) < 2 ** 30) low++;
    assert.ok(Math.abs(low / total - 1 / 3) < 0.02, `fraction below 2^30: ${low / total}`);
  });

  it('supports bounds above 2^32 and a bound of 1', () => {
    const random = new SeededRandom(5);
    const bound = 2 ** 40 + 3;
    for (let index = 0; index < 1000; index++) {
      const value = random.nextInt(bound);
      assert.ok(Number.isInteger(value) && value >= 0 && value < bound);
    }
    assert.equal(random.nextInt(1), 0);
    assert.throws(() => random.nextInt(0));
    assert.throws(() => random.nextInt(2.5));
  });

  it('keeps float in [0, 1), between inclusive at both ends, and chance at its extremes', () => {
    const random = new SeededRandom(11);
    let sum = 0;
    const seen = new Set<number>();
    for (let index = 0; index < 10_000; index++) {
      const value = random.float();
      assert.ok(value >= 0 && value < 1);
      sum += value;
      seen.add(random.between(-2, 2));
      assert.equal(random.chance(0), false);
      assert.equal(random.chance(1), true);
    }
    assert.ok(Math.abs(sum / 10_000 - 0.5) < 0.02);
    assert.deepEqual([...seen].sort(), [-1, -2, 0, 1, 2]);
    assert.equal(random.between(7, 7), 7);
    assert.throws(() => random.between(3, 2));
  });

  it('picks from arrays and shuffles into a permutation', () => {
    const random = new SeededRandom(3);
    const items = ['a', 'b', 'c'];
    const picked = new Set(Array.from({ length: 100 }, () => random.pick(items)));
    assert.deepEqual([...picked].sort(), items);
    assert.throws(() => random.pick([]));
    const numbers = Array.from({ length: 50 }, (_, index) => index);
    const shuffled = random.shuffle([...numbers]);
    assert.notDeepEqual(shuffled, numbers);
    assert.deepEqual([...shuffled].sort((a, b) => a - b), numbers);
  });

  it('produces bytes of any length from the same stream', () => {
    assert.equal(new SeededRandom(4).bytes(0).length, 0);
    assert.deepEqual(new SeededRandom(4).bytes(7), new SeededRandom(4).bytes(7));
    assert.equal(new SeededRandom(4).bytes(7).length, 7);
    const histogram = new Array<number>(256).fill(0);
    for (const byte of new SeededRandom(4).bytes(256 * 400)) histogram[byte]!++;
    // 255 degrees of freedom: mean 255, standard deviation about 22.6.
    assert.ok(chiSquare(histogram) < 350, `byte chi-square ${chiSquare(histogram)}`);
  });

  it('forks streams from the seed and a label, never from the parent state', () => {
    const parent = new SeededRandom(100);
    const before = draws(parent.fork('network'), 20);
    draws(parent, 5);
    assert.deepEqual(draws(parent.fork('network'), 20), before, 'draws from the parent do not shift a fork');
    const untouched = new SeededRandom(100);
    untouched.fork('disk');
    assert.deepEqual(draws(untouched, 5), draws(new SeededRandom(100), 5), 'forking does not consume from the parent');
    assert.notDeepEqual(draws(parent.fork('disk'), 20), before);
    assert.notDeepEqual(draws(new SeededRandom(101).fork('network'), 20), before);
    assert.notDeepEqual(draws(parent.fork('a').fork('b'), 20), draws(parent.fork('ab'), 20));
    assert.deepEqual(draws(parent.fork('a').fork('b'), 20), draws(new SeededRandom(100).fork('a').fork('b'), 20));
  });

  it('forks with nearby labels give uncorrelated streams', () => {
    const parent = new SeededRandom(0);
    const first = parent.fork('node-1');
    const second = parent.fork('node-2');
    let agreements = 0;
    const total = 20_000;
    for (let index = 0; index < total; index++) if (first.nextInt(2) === second.nextInt(2)) agreements++;
    assert.ok(Math.abs(agreements / total - 0.5) < 0.02, `agreement rate ${agreements / total}`);
  });
});
