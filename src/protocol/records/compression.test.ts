import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { compressSync as rawSnappyCompress } from 'snappy';
import { CompressionType } from './batch-header.js';
import { CompressionError, CompressionFailure } from './compression-error.js';
import { compress, compressSync, decompress, decompressSync } from './compression.js';
import { isXerialFramed } from './snappy-codec.js';

const zstdBinding = createRequire(import.meta.url)('zstd-napi/binding') as typeof import('zstd-napi/binding.js');

const CODECS = [CompressionType.gzip, CompressionType.snappy, CompressionType.lz4, CompressionType.zstd] as const;
const MiB = 1024 * 1024;

function compressible(bytes: number): Buffer {
  const text = Buffer.from('conveyor record payload 0123456789 ');
  const data = Buffer.alloc(bytes);
  for (let position = 0; position < bytes; position += text.length) text.copy(data, position);
  return data;
}

function assertFailure(error: unknown, failure: string): boolean {
  assert.ok(error instanceof CompressionError, `expected CompressionError, got ${String(error)}`);
  assert.equal(error.failure, failure);
  return true;
}

/** xxHash32 with seed 0, only to check the LZ4 frame descriptor checksum the way Java does. */
function xxhash32(data: Buffer): number {
  const p1 = 2654435761;
  const p2 = 2246822519;
  const p3 = 3266489917;
  const p4 = 668265263;
  const p5 = 374761393;
  const rotl = (value: number, bits: number) => ((value << bits) | (value >>> (32 - bits))) >>> 0;
  const round = (acc: number, lane: number) => Math.imul(rotl((acc + Math.imul(lane, p2)) >>> 0, 13), p1) >>> 0;
  let position = 0;
  let hash: number;
  if (data.length >= 16) {
    let v1 = (p1 + p2) >>> 0;
    let v2 = p2;
    let v3 = 0;
    let v4 = (0 - p1) >>> 0;
    for (; position + 16 <= data.length; position += 16) {
      v1 = round(v1, data.readUInt32LE(position));
      v2 = round(v2, data.readUInt32LE(position + 4));
      v3 = round(v3, data.readUInt32LE(position + 8));
      v4 = round(v4, data.readUInt32LE(position + 12));
    }
    hash = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0;
  } else {
    hash = p5;
  }
  hash = (hash + data.length) >>> 0;
  for (; position + 4 <= data.length; position += 4) {
    hash = Math.imul(rotl((hash + Math.imul(data.readUInt32LE(position), p3)) >>> 0, 17), p4) >>> 0;
  }
  for (; position < data.length; position++) hash = Math.imul(rotl((hash + Math.imul(data[position]!, p5)) >>> 0, 11), p1) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 15), p2) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 13), p3) >>> 0;
  return (hash ^ (hash >>> 16)) >>> 0;
}

function lz4HeaderChecksum(descriptor: Buffer): number {
  return (xxhash32(descriptor) >>> 8) & 0xff;
}

/** Rewrites an lz4-napi frame to declare its content size, as some writers do. */
function withContentSize(frame: Buffer, contentSize: number): Buffer {
  const descriptor = Buffer.alloc(10);
  descriptor[0] = frame[4]! | 0x08;
  descriptor[1] = frame[5]!;
  descriptor.writeBigUInt64LE(BigInt(contentSize), 2);
  return Buffer.concat([frame.subarray(0, 4), descriptor, Buffer.from([lz4HeaderChecksum(descriptor)]), frame.subarray(7)]);
}

/** A hand-made frame with linked (dependent) blocks: the second block copies from the first. */
function linkedBlockFrame(): Buffer {
  const descriptor = Buffer.from([0x40, 0x40]); // version 1, linked blocks, 64 KiB blocks
  const magic = Buffer.from([0x04, 0x22, 0x4d, 0x18]);
  const first = Buffer.from('abcdefgh');
  const firstSize = Buffer.alloc(4);
  firstSize.writeUInt32LE((first.length | 0x80000000) >>> 0);
  // Match of 8 bytes at distance 8 (into the previous block), then one literal 'z'.
  const second = Buffer.from([0x04, 0x08, 0x00, 0x10, 0x7a]);
  const secondSize = Buffer.alloc(4);
  secondSize.writeUInt32LE(second.length);
  const endMark = Buffer.alloc(4);
  return Buffer.concat([magic, descriptor, Buffer.from([lz4HeaderChecksum(descriptor)]), firstSize, first, secondSize, second, endMark]);
}

describe('compression round trips', () => {
  const inputs: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from([7])],
    ['random 100 KiB', randomBytes(100 * 1024)],
    ['compressible 3 MiB', compressible(3 * MiB)],
  ];
  for (const codec of CODECS) {
    for (const [name, input] of inputs) {
      it(`codec ${codec}: ${name} (async and sync)`, async () => {
        const compressed = await compress(codec, input);
        assert.deepEqual(await decompress(codec, compressed, input.length), input);
        assert.deepEqual(decompressSync(codec, compressSync(codec, input), input.length), input);
        assert.deepEqual(decompressSync(codec, compressed, input.length), input);
      });
    }
  }

  it('codec 0 passes bytes through, within the bound', () => {
    const data = Buffer.from('plain');
    assert.equal(compressSync(CompressionType.none, data), data);
    assert.equal(decompressSync(CompressionType.none, data, 5), data);
    assert.throws(() => decompressSync(CompressionType.none, data, 4), (error) => assertFailure(error, CompressionFailure.outputTooLarge));
  });
});

describe('compression failures are typed', () => {
  for (const codec of [5, 6, 7, -1]) {
    it(`unknown codec id ${codec}`, async () => {
      assert.throws(() => compressSync(codec, Buffer.from('x')), (error) => assertFailure(error, CompressionFailure.unknownCodec));
      await assert.rejects(decompress(codec, Buffer.from('x'), 10), (error) => assertFailure(error, CompressionFailure.unknownCodec));
    });
  }

  for (const codec of CODECS) {
    it(`codec ${codec}: output beyond maxBytes (zip bomb)`, async () => {
      const bomb = compressSync(codec, Buffer.alloc(8 * MiB));
      assert.ok(bomb.length < MiB / 2, `bomb is ${bomb.length} bytes`);
      await assert.rejects(decompress(codec, bomb, MiB), (error) => assertFailure(error, CompressionFailure.outputTooLarge));
      assert.throws(() => decompressSync(codec, bomb, MiB), (error) => assertFailure(error, CompressionFailure.outputTooLarge));
      const error = await decompress(codec, bomb, MiB).catch((caught: unknown) => caught);
      assert.equal((error as CompressionError).errorCode, 10);
    });

    it(`codec ${codec}: garbage and truncation are corrupt, never raw library errors`, async () => {
      const compressed = compressSync(codec, compressible(200_000));
      const samples = [randomBytes(300), compressed.subarray(0, compressed.length - 7), Buffer.alloc(0), Buffer.from([0xff])];
      for (const sample of samples) {
        for (const run of [() => decompress(codec, sample, MiB), async () => decompressSync(codec, sample, MiB)]) {
          const outcome = await run().then(
            (output) => output,
            (error: unknown) => error,
          );
          if (outcome instanceof Buffer) continue; // Some truncations still decode (e.g. empty snappy).
          assert.ok(outcome instanceof CompressionError, `codec ${codec}: ${String(outcome)}`);
          assert.notEqual(outcome.failure, CompressionFailure.unknownCodec);
        }
      }
    });
  }
});

describe('snappy framing', () => {
  it('writes xerial framing in 32 KiB blocks, as Java does', () => {
    const framed = compressSync(CompressionType.snappy, compressible(100_000));
    assert.ok(isXerialFramed(framed));
    assert.deepEqual(framed.subarray(8, 16), Buffer.from([0, 0, 0, 1, 0, 0, 0, 1]));
    let blocks = 0;
    for (let position = 16; position < framed.length; position += 4 + framed.readInt32BE(position)) blocks++;
    assert.equal(blocks, 4);
  });

  it('reads raw snappy blocks (librdkafka, platformatic)', async () => {
    const input = compressible(70_000);
    const raw = rawSnappyCompress(input);
    assert.ok(!isXerialFramed(raw));
    assert.deepEqual(await decompress(CompressionType.snappy, raw, input.length), input);
    assert.deepEqual(decompressSync(CompressionType.snappy, raw, input.length), input);
  });

  it('checks the declared length of a raw block before decompressing it', () => {
    const raw = rawSnappyCompress(Buffer.alloc(2 * MiB));
    assert.throws(() => decompressSync(CompressionType.snappy, raw, MiB), (error) => assertFailure(error, CompressionFailure.outputTooLarge));
  });
});

describe('lz4 frames', () => {
  it('lz4-napi writes what Java and librdkafka read: FLG 0x60, valid block size and header checksum', () => {
    const frame = compressSync(CompressionType.lz4, compressible(300_000));
    assert.equal(frame.readUInt32LE(0), 0x184d2204);
    const flg = frame[4]!;
    assert.equal(flg & 0xc0, 0x40, 'version 01');
    assert.equal(flg & 0x20, 0x20, 'independent blocks (Java rejects linked blocks)');
    assert.equal(flg & 0x0b, 0, 'no content size, reserved bit or dictionary id');
    const blockSizeCode = (frame[5]! >> 4) & 0x07;
    assert.ok(blockSizeCode >= 4 && blockSizeCode <= 7, `block size code ${blockSizeCode}`);
    assert.equal(frame[5]! & 0x8f, 0, 'reserved BD bits clear');
    assert.equal(frame[6], lz4HeaderChecksum(frame.subarray(4, 6)), 'frame descriptor checksum as Java verifies it');
  });

  it('reads frames with content size, block checksums and content checksum', async () => {
    const input = compressible(200_000);
    const checksummed = compressFrameSync(input, { contentChecksum: true, blockChecksums: true });
    assert.equal(checksummed[4]! & 0x14, 0x14);
    const sized = withContentSize(compressFrameSync(input), input.length);
    for (const frame of [checksummed, sized]) {
      assert.deepEqual(await decompress(CompressionType.lz4, frame, input.length), input);
      assert.deepEqual(decompressSync(CompressionType.lz4, frame, input.length), input);
    }
  });

  it('rejects a declared content size beyond the budget before decoding', () => {
    const frame = withContentSize(compressFrameSync(Buffer.alloc(1000)), 10 * MiB);
    assert.throws(() => decompressSync(CompressionType.lz4, frame, MiB), (error) => assertFailure(error, CompressionFailure.outputTooLarge));
  });

  it('reads linked-block frames and uncompressed blocks (lz4-napi agrees)', async () => {
    const frame = linkedBlockFrame();
    const expected = Buffer.from('abcdefghabcdefghz');
    assert.deepEqual(decompressFrameSync(frame), expected);
    assert.deepEqual(decompressSync(CompressionType.lz4, frame, MiB), expected);
    assert.deepEqual(await decompress(CompressionType.lz4, frame, MiB), expected);
    assert.deepEqual(decompressSync(CompressionType.lz4, frame, expected.length), expected);
    assert.throws(() => decompressSync(CompressionType.lz4, frame, expected.length - 1), (error) => assertFailure(error, CompressionFailure.outputTooLarge));
  });

  it('the bounded decoder agrees with lz4-napi on random and compressible data', () => {
    for (const input of [randomBytes(150_000), compressible(400_000), Buffer.concat([randomBytes(1000), Buffer.alloc(90_000, 1)])]) {
      const frame = compressFrameSync(input, { contentChecksum: true });
      assert.deepEqual(decompressFrameSync(frame), input);
      assert.deepEqual(decompressSync(CompressionType.lz4, frame, input.length), input);
    }
  });

  it('rejects a declared content size that the blocks do not match', () => {
    const frame = withContentSize(compressFrameSync(Buffer.alloc(1000, 3)), 999);
    assert.throws(() => decompressSync(CompressionType.lz4, frame, MiB), (error) => assertFailure(error, CompressionFailure.corrupt));
  });
});

describe('zstd frames', () => {
  it('reads frames without a content size (streamed, as zstd-jni writes them)', async () => {
    const input = compressible(500_000);
    const context = new zstdBinding.CCtx();
    const output = Buffer.alloc(zstdBinding.compressBound(input.length));
    // Feeding input before ending the frame leaves the content size unknown, as streaming writers do.
    const [, fed, consumed] = context.compressStream2(output, input, zstdBinding.EndDirective.continue);
    assert.equal(consumed, input.length);
    const [remaining, flushed] = context.compressStream2(output.subarray(fed), Buffer.alloc(0), zstdBinding.EndDirective.end);
    assert.equal(remaining, 0);
    const frame = output.subarray(0, fed + flushed);
    assert.equal(zstdBinding.getFrameContentSize(frame), null);
    assert.deepEqual(decompressSync(CompressionType.zstd, frame, input.length), input);
    assert.throws(() => decompressSync(CompressionType.zstd, frame, input.length - 1), (error) => assertFailure(error, CompressionFailure.outputTooLarge));
  });

  it('reads concatenated frames', () => {
    const first = compressible(10_000);
    const second = randomBytes(5000);
    const both = Buffer.concat([compressSync(CompressionType.zstd, first), compressSync(CompressionType.zstd, second)]);
    assert.deepEqual(decompressSync(CompressionType.zstd, both, MiB), Buffer.concat([first, second]));
  });

  it('recovers its shared context after a failure', () => {
    const good = compressSync(CompressionType.zstd, Buffer.from('after the failure'));
    assert.throws(() => decompressSync(CompressionType.zstd, good.subarray(0, good.length - 3), MiB));
    assert.deepEqual(decompressSync(CompressionType.zstd, good, MiB), Buffer.from('after the failure'));
  });
});

describe('gzip streams', () => {
  it('reads multi-member gzip streams', () => {
    const both = Buffer.concat([gzipSync(Buffer.from('one ')), gzipSync(Buffer.from('two'))]);
    assert.deepEqual(decompressSync(CompressionType.gzip, both, 100), Buffer.from('one two'));
  });
});
