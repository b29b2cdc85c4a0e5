// LZ4 for record batches: the LZ4 frame format (magic 0x184D2204), which is what Kafka means by
// codec 3. Compression uses lz4-napi, whose frames (FLG 0x60: version 1, independent blocks, no
// checksums, no content size) are what Java's Lz4BlockInputStream and librdkafka accept.
// Decompression first walks the frame headers to bound the output; frames that provably fit the
// caller's budget go to the native decoder, the rest to a bounded TypeScript decoder that stops as
// soon as the budget is exceeded.
import { compressFrame, compressFrameSync, decompressFrame, decompressFrameSync } from 'lz4-napi';
import { CompressionType } from './batch-header.js';
import { corrupt, outputTooLarge } from './compression-error.js';

const LZ4 = CompressionType.lz4;
const FRAME_MAGIC = 0x184d2204;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_1 = 0x40;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICT_ID = 0x01;
const BLOCK_UNCOMPRESSED_BIT = 0x80000000;
/** An LZ4 sequence of n input bytes expands to at most about 255·n output bytes. */
const MAX_EXPANSION = 256;

interface Lz4Frame {
  start: number;
  end: number;
  /** Upper bound of the decompressed size, from the block sizes (never trusted from the header). */
  outputBound: number;
  /** The content size the frame declares, or -1. */
  contentSize: number;
  dataStart: number;
  blockChecksum: boolean;
}

export function compressLz4Sync(data: Buffer): Buffer {
  return compressFrameSync(data);
}

export function compressLz4(data: Buffer): Promise<Buffer> {
  return compressFrame(data);
}

export function decompressLz4Sync(data: Buffer, maxBytes: number): Buffer {
  const frames = checkedFrames(data, maxBytes);
  if (prefersNative(frames, data, maxBytes)) return withinBudget(nativeSync(data), maxBytes);
  return decodeFrames(data, frames, maxBytes);
}

export async function decompressLz4(data: Buffer, maxBytes: number): Promise<Buffer> {
  const frames = checkedFrames(data, maxBytes);
  if (!prefersNative(frames, data, maxBytes)) return decodeFrames(data, frames, maxBytes);
  try {
    return withinBudget(await decompressFrame(data), maxBytes);
  } catch (error) {
    throw corrupt(LZ4, (error as Error).message);
  }
}

function nativeSync(data: Buffer): Buffer {
  try {
    return decompressFrameSync(data);
  } catch (error) {
    throw corrupt(LZ4, (error as Error).message);
  }
}

function withinBudget(output: Buffer, maxBytes: number): Buffer {
  if (output.length > maxBytes) throw outputTooLarge(LZ4, maxBytes);
  return output;
}

/** The native decoder handles exactly one frame; use it when that frame cannot exceed the budget. */
function prefersNative(frames: Lz4Frame[], data: Buffer, maxBytes: number): boolean {
  const only = frames[0];
  return frames.length === 1 && only !== undefined && only.start === 0 && only.end === data.length && only.outputBound <= maxBytes;
}

function checkedFrames(data: Buffer, maxBytes: number): Lz4Frame[] {
  const frames: Lz4Frame[] = [];
  let position = 0;
  let declaredTotal = 0;
  while (position < data.length) {
    if (position + 4 > data.length) throw corrupt(LZ4, 'truncated frame magic');
    const magic = data.readUInt32LE(position);
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      position = skipSkippableFrame(data, position);
      continue;
    }
    if (magic !== FRAME_MAGIC) throw corrupt(LZ4, 'not an LZ4 frame');
    const frame = readFrame(data, position);
    // A declared content size is exact for valid frames, so it rejects oversized output early.
    declaredTotal += Math.max(0, frame.contentSize);
    if (declaredTotal > maxBytes) throw outputTooLarge(LZ4, maxBytes);
    frames.push(frame);
    position = frame.end;
  }
  if (frames.length === 0) throw corrupt(LZ4, 'no LZ4 frame');
  return frames;
}

function skipSkippableFrame(data: Buffer, position: number): number {
  if (position + 8 > data.length) throw corrupt(LZ4, 'truncated skippable frame');
  const end = position + 8 + data.readUInt32LE(position + 4);
  if (end > data.length) throw corrupt(LZ4, 'skippable frame runs past the end');
  return end;
}

/** Parses one frame descriptor and walks its block sizes (without decoding) to find its end. */
function readFrame(data: Buffer, start: number): Lz4Frame {
  if (start + 7 > data.length) throw corrupt(LZ4, 'truncated frame descriptor');
  const flg = data[start + 4]!;
  const bd = data[start + 5]!;
  if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_1) throw corrupt(LZ4, 'unsupported frame version');
  if ((flg & FLG_DICT_ID) !== 0) throw corrupt(LZ4, 'frames with a dictionary id are not supported');
  const blockMaxBytes = blockMaxSize((bd >> 4) & 0x07);
  let position = start + 6;
  let contentSize = -1;
  if ((flg & FLG_CONTENT_SIZE) !== 0) {
    if (position + 8 > data.length) throw corrupt(LZ4, 'truncated content size');
    contentSize = Number(data.readBigUInt64LE(position));
    position += 8;
  }
  position += 1; // The header checksum byte; the batch CRC32C already covers these bytes.
  const blockChecksum = (flg & FLG_BLOCK_CHECKSUM) !== 0;
  const dataStart = position;
  let blockBound = 0;
  for (;;) {
    if (position + 4 > data.length) throw corrupt(LZ4, 'truncated block size');
    const word = data.readUInt32LE(position);
    position += 4;
    if (word === 0) break;
    const size = (word & ~BLOCK_UNCOMPRESSED_BIT) >>> 0;
    const uncompressed = (word & BLOCK_UNCOMPRESSED_BIT) !== 0;
    if (size > blockMaxBytes && uncompressed) throw corrupt(LZ4, 'block larger than the frame block size');
    position += size + (blockChecksum ? 4 : 0);
    if (position > data.length) throw corrupt(LZ4, 'block runs past the end');
    blockBound += uncompressed ? size : Math.min(blockMaxBytes, size * MAX_EXPANSION);
  }
  if ((flg & FLG_CONTENT_CHECKSUM) !== 0) position += 4;
  if (position > data.length) throw corrupt(LZ4, 'truncated content checksum');
  return { start, end: position, outputBound: blockBound, contentSize, dataStart, blockChecksum };
}

function blockMaxSize(code: number): number {
  if (code < 4) throw corrupt(LZ4, 'invalid block maximum size');
  return 1 << (8 + 2 * code);
}

/** Bounded decoding of every frame into one buffer; linked blocks work since history stays in it. */
function decodeFrames(data: Buffer, frames: Lz4Frame[], maxBytes: number): Buffer {
  // This path runs when the bound exceeds the budget, so start small and grow on demand.
  const output = new BoundedOutput(maxBytes, Math.min(maxBytes, data.length * 4));
  for (const frame of frames) {
    const frameStart = output.length;
    let position = frame.dataStart;
    for (;;) {
      const word = data.readUInt32LE(position);
      position += 4;
      if (word === 0) break;
      const size = (word & ~BLOCK_UNCOMPRESSED_BIT) >>> 0;
      if ((word & BLOCK_UNCOMPRESSED_BIT) !== 0) output.append(data, position, position + size);
      else decodeBlock(data, position, position + size, output, frameStart);
      position += size + (frame.blockChecksum ? 4 : 0);
    }
  }
  return output.result();
}

/** Decodes one LZ4 block (a run of literal/match sequences), refusing references before the frame. */
function decodeBlock(data: Buffer, start: number, end: number, output: BoundedOutput, frameStart: number): void {
  let position = start;
  while (position < end) {
    const token = data[position++]!;
    let literalLength = token >>> 4;
    if (literalLength === 15) [literalLength, position] = readLengthExtension(data, position, end, literalLength);
    if (position + literalLength > end) throw corrupt(LZ4, 'literals run past the block');
    output.append(data, position, position + literalLength);
    position += literalLength;
    if (position === end) return;
    if (position + 2 > end) throw corrupt(LZ4, 'truncated match offset');
    const offset = data[position]! | (data[position + 1]! << 8);
    position += 2;
    let matchLength = (token & 0x0f) + 4;
    if ((token & 0x0f) === 15) [matchLength, position] = readLengthExtension(data, position, end, matchLength);
    if (offset === 0 || offset > output.length - frameStart) throw corrupt(LZ4, 'match offset out of range');
    output.copyMatch(offset, matchLength);
  }
}

function readLengthExtension(data: Buffer, start: number, end: number, base: number): [number, number] {
  let length = base;
  let position = start;
  for (;;) {
    if (position >= end) throw corrupt(LZ4, 'truncated length');
    const byte = data[position++]!;
    length += byte;
    if (byte !== 255) return [length, position];
  }
}

/** A growable output buffer that throws as soon as it would pass the budget. */
class BoundedOutput {
  private buffer: Buffer;
  length = 0;

  constructor(
    private readonly maxBytes: number,
    initialBytes: number,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.max(64, initialBytes));
  }

  append(source: Buffer, start: number, end: number): void {
    this.reserve(end - start);
    source.copy(this.buffer, this.length, start, end);
    this.length += end - start;
  }

  copyMatch(offset: number, length: number): void {
    this.reserve(length);
    const buffer = this.buffer;
    let from = this.length - offset;
    if (offset >= length) {
      buffer.copyWithin(this.length, from, from + length);
      this.length += length;
      return;
    }
    // Overlapping matches repeat the last `offset` bytes, so they copy forward byte by byte.
    for (let count = 0; count < length; count++) buffer[this.length++] = buffer[from++]!;
  }

  result(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed > this.maxBytes) throw outputTooLarge(LZ4, this.maxBytes);
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(needed, this.buffer.length * 2)));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}
