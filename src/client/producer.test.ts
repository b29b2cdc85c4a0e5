// The producer's murmur2 partitioner must place keys where Kafka's default partitioner does; kafkajs
// implements the same function, so the two must agree for every key.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { murmur2 } from './producer.js';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;

test('murmur2 agrees with kafkajs (Kafka default partitioner) on keys of every length', () => {
  for (let length = 0; length < 40; length++) {
    const key = Buffer.from(Array.from({ length }, (_, index) => (index * 37 + length) % 256));
    assert.equal(murmur2(key), kafkajsMurmur2(key), `key of ${length} bytes`);
  }
  for (const text of ['a', 'k1', 'user-42', 'conveyor', '21']) assert.equal(murmur2(Buffer.from(text)), kafkajsMurmur2(Buffer.from(text)), text);
});
