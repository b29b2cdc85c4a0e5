// Snappy for record batches in both framings found in Kafka: the xerial ("snappy-java") framing that
// Java and kafka-python write, and bare raw snappy blocks that librdkafka and platformatic write.
// Conveyor writes the xerial framing, as the Java broker and producer do: every client with snappy
// support reads it (Java, librdkafka, kafka-python and platformatic all detect the magic), while
// raw blocks depend on each reader's fallback path.
import { CompressionType } from './batch-header.js';
import { corrupt, outputTooLarge } from './compression-error.js';
import { snappy } from './native-codecs.js';

const SNAPPY = CompressionType.snappy;
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** Magic, version (int32) and minimum compatible version (int32). */
const XERIAL_HEADER_BYTES = 16;
/** snappy-java's default block size, which Java's producer uses. */
const XERIAL_BLOCK_BYTES = 32 * 1024;

export function isXerialFramed(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_BYTES && data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
}

export function compressSnappySync(data: Buffer): Buffer {
  const blocks: Buffer[] = [];
  for (let start = 0; start < data.length || start === 0; start += XERIAL_BLOCK_BYTES) {
    blocks.push(snappy().compressSync(data.subarray(start, start + XERIAL_BLOCK_BYTES)));
  }
  return frameXerial(blocks);
}

export async function compressSnappy(data: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let start = 0; start < data.length || start === 0; start += XERIAL_BLOCK_BYTES) {
    chunks.push(data.subarray(start, start + XERIAL_BLOCK_BYTES));
  }
  return frameXerial(await Promise.all(chunks.map((chunk) => snappy().compress(chunk))));
}

function frameXerial(blocks: Buffer[]): Buffer {
  const size = XERIAL_HEADER_BYTES + blocks.reduce((sum, block) => sum + 4 + block.length, 0);
  const framed = Buffer.allocUnsafe(size);
  XERIAL_MAGIC.copy(framed, 0);
  framed.writeInt32BE(1, 8);
  framed.writeInt32BE(1, 12);
  let position = XERIAL_HEADER_BYTES;
  for (const block of blocks) {
    framed.writeInt32BE(block.length, position);
    block.copy(framed, position + 4);
    position += 4 + block.length;
  }
  return framed;
}

/** The raw blocks of `data`: the xerial blocks when framed, else the whole buffer as one block. */
function rawBlocks(data: Buffer): Buffer[] {
  if (!isXerialFramed(data)) return [data];
  const blocks: Buffer[] = [];
  let position = XERIAL_HEADER_BYTES;
  while (position < data.length) {
    if (position + 4 > data.length) throw corrupt(SNAPPY, 'xerial block length runs past the end');
    const length = data.readInt32BE(position);
    position += 4;
    if (length < 0 || position + length > data.length) throw corrupt(SNAPPY, 'xerial block runs past the end');
    blocks.push(data.subarray(position, position + length));
    position += length;
  }
  return blocks;
}

/**
 * The uncompressed length a raw snappy block declares in its preamble (an unsigned varint). The
 * decoder allocates exactly this much, so checking it first bounds memory before decompressing.
 */
export function snappyDeclaredLength(block: Buffer): number {
  let result = 0;
  for (let index = 0; index < 5 && index < block.length; index++) {
    const byte = block[index]!;
    result += (byte & 0x7f) * 2 ** (7 * index);
    if ((byte & 0x80) === 0) return result;
  }
  throw corrupt(SNAPPY, 'raw snappy block has no valid length preamble');
}

/** Checks every block's declared length against the budget before any decompression runs. */
function checkedBlocks(data: Buffer, maxBytes: number): Buffer[] {
  const blocks = rawBlocks(data);
  let total = 0;
  for (const block of blocks) {
    total += snappyDeclaredLength(block);
    if (total > maxBytes) throw outputTooLarge(SNAPPY, maxBytes);
  }
  return blocks;
}

export function decompressSnappySync(data: Buffer, maxBytes: number): Buffer {
  const blocks = checkedBlocks(data, maxBytes);
  try {
    const parts = blocks.map((block) => snappy().uncompressSync(block, { asBuffer: true }) as Buffer);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  } catch (error) {
    throw corrupt(SNAPPY, (error as Error).message);
  }
}

export async function decompressSnappy(data: Buffer, maxBytes: number): Promise<Buffer> {
  const blocks = checkedBlocks(data, maxBytes);
  try {
    const parts = (await Promise.all(blocks.map((block) => snappy().uncompress(block, { asBuffer: true })))) as Buffer[];
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  } catch (error) {
    throw corrupt(SNAPPY, (error as Error).message);
  }
}
