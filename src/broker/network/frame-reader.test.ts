import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameReader, FrameSizeError } from './frame-reader.js';

function framed(body: Buffer): Buffer {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeInt32BE(body.length, 0);
  return Buffer.concat([prefix, body]);
}

function drain(reader: FrameReader): Buffer[] {
  const frames: Buffer[] = [];
  for (let frame = reader.next(); frame !== undefined; frame = reader.next()) frames.push(frame);
  return frames;
}

/** Records every Buffer.allocUnsafe size while `action` runs. */
function allocationsDuring(action: () => void): number[] {
  const sizes: number[] = [];
  const original = Buffer.allocUnsafe;
  Buffer.allocUnsafe = (size: number) => {
    sizes.push(size);
    return original(size);
  };
  try {
    action();
  } finally {
    Buffer.allocUnsafe = original;
  }
  return sizes;
}

describe('FrameReader', () => {
  it('returns every frame of a chunk holding many, as views without copying', () => {
    const bodies = Array.from({ length: 50 }, (_, index) => Buffer.from(`request-${index}`));
    const chunk = Buffer.concat(bodies.map(framed));
    const reader = new FrameReader(1024);
    reader.append(chunk);
    const frames = drain(reader);
    assert.deepEqual(frames.map(String), bodies.map(String));
    assert.equal(frames[0]?.buffer, chunk.buffer, 'a frame inside one chunk is a view of it');
    assert.equal(reader.bufferedBytes(), 0);
  });

  it('assembles a frame delivered one byte at a time, with the size split too', () => {
    const body = Buffer.from('split across every byte boundary');
    const bytes = Buffer.concat([framed(body), framed(Buffer.from('next'))]);
    const reader = new FrameReader(1024);
    const frames: Buffer[] = [];
    for (const byte of bytes) {
      reader.append(Buffer.from([byte]));
      frames.push(...drain(reader));
    }
    assert.deepEqual(frames.map(String), [String(body), 'next']);
  });

  it('allocates a spanning frame once, at its exact size', () => {
    const body = Buffer.alloc(10_000, 7);
    const bytes = framed(body);
    const reader = new FrameReader(1_000_000);
    const frames: Buffer[] = [];
    const sizes = allocationsDuring(() => {
      for (let offset = 0; offset < bytes.length; offset += 333) {
        reader.append(bytes.subarray(offset, offset + 333));
        frames.push(...drain(reader));
      }
    });
    assert.deepEqual(sizes, [10_000]);
    assert.equal(frames.length, 1);
    assert.ok(frames[0]?.equals(body));
  });

  it('returns an empty frame for size 0', () => {
    const reader = new FrameReader(16);
    reader.append(Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 9]));
    assert.deepEqual(drain(reader).map((frame) => [...frame]), [[], [9]]);
  });

  it('rejects an oversized size before allocating anything', () => {
    const reader = new FrameReader(1000);
    const sizes = allocationsDuring(() => {
      reader.append(Buffer.from([0x7f, 0xff]));
      assert.equal(reader.next(), undefined);
      reader.append(Buffer.from([0xff, 0xff, 1, 2, 3]));
      assert.throws(() => reader.next(), (error: unknown) => {
        assert.ok(error instanceof FrameSizeError);
        assert.equal(error.sizeBytes, 0x7fffffff);
        assert.match(error.message, /exceeds socket\.request\.max\.bytes 1000/);
        return true;
      });
    });
    assert.deepEqual(sizes, []);
  });

  it('rejects a negative size before allocating anything', () => {
    const reader = new FrameReader(1000);
    const sizes = allocationsDuring(() => {
      reader.append(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
      assert.throws(() => reader.next(), /negative frame size -2/);
    });
    assert.deepEqual(sizes, []);
  });

  it('accepts a frame of exactly the maximum size', () => {
    const reader = new FrameReader(3);
    reader.append(framed(Buffer.from('abc')));
    assert.deepEqual(drain(reader).map(String), ['abc']);
  });
});
