import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareBytes, keyBytes, keyString } from './key-order.js';

/** Random keys, short and long (past the 256 bytes where keyString changes method), rich in 0x00, 0x7f..0x80 and 0xff and in shared prefixes. */
function randomKeys(count: number): Uint8Array[] {
  let state = 99;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  const interesting = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
  const prefix = new Uint8Array(300).map(() => Math.floor(random() * 256));
  return Array.from({ length: count }, () => {
    const length = random() < 0.5 ? Math.floor(random() * 6) : 250 + Math.floor(random() * 20);
    const key = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      key[i] = random() < 0.6 ? prefix[i]! : interesting[Math.floor(random() * interesting.length)]!;
    }
    return key;
  });
}

describe('key order', () => {
  it('orders key strings exactly as compareBytes orders the keys, short and long', () => {
    const keys = randomKeys(400);
    assert.ok(keys.some((key) => key.length > 256) && keys.some((key) => key.length <= 256));
    for (const a of keys) {
      for (const b of keys.slice(0, 60)) {
        const bytesOrder = Math.sign(compareBytes(a, b));
        const stringOrder = keyString(a) < keyString(b) ? -1 : keyString(a) === keyString(b) ? 0 : 1;
        assert.equal(stringOrder, bytesOrder, `${Buffer.from(a).toString('hex')} vs ${Buffer.from(b).toString('hex')}`);
      }
    }
  });

  it('compares unsigned, a prefix first', () => {
    assert.ok(compareBytes(new Uint8Array([0x7f]), new Uint8Array([0x80])) < 0);
    assert.ok(compareBytes(new Uint8Array([0xff]), new Uint8Array([0xff, 0x00])) < 0);
    assert.ok(compareBytes(new Uint8Array([]), new Uint8Array([0x00])) < 0);
    assert.equal(compareBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])), 0);
  });

  it('maps a key string back to its bytes, from a view into a larger buffer too', () => {
    for (const key of randomKeys(100)) assert.deepEqual(keyBytes(keyString(key)), key);
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    assert.equal(keyString(backing.subarray(2, 5)), '\x01\x02\x03');
    const long = new Uint8Array(1000).fill(0xff);
    assert.equal(keyString(new Uint8Array([...long, 7]).subarray(1, 1001)), `${'\xff'.repeat(999)}\x07`);
  });
});
