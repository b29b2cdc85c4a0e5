// Turns the byte stream of one connection into request frames: a 4-byte big-endian size, then
// that many bytes. It checks the size before allocating anything, and copies each byte at most once.
import { ProtocolError } from '../../protocol/primitives/protocol-error.js';

const sizePrefixBytes = 4;

/** A frame size the connection must not accept; the connection is closed without reading further. */
export class FrameSizeError extends ProtocolError {
  override name = 'FrameSizeError';
  readonly sizeBytes: number;

  constructor(sizeBytes: number, maxSizeBytes: number) {
    super(
      sizeBytes < 0
        ? `negative frame size ${sizeBytes}`
        : `frame size ${sizeBytes} exceeds socket.request.max.bytes ${maxSizeBytes}`,
    );
    this.sizeBytes = sizeBytes;
  }
}

export class FrameReader {
  private maxFrameBytes: number;
  /** Received bytes not yet handed out; the first chunk starts at `firstChunkOffset`. */
  private readonly chunks: Buffer[] = [];
  private firstChunkOffset = 0;
  private bufferedByteCount = 0;
  /** A frame larger than what had arrived when its size was read, filled as bytes come in. */
  private partialFrame: Buffer | undefined;
  private partialFrameFilledBytes = 0;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Frames above `bytes` are refused from the next one on (the limit of unauthenticated connections is lifted). */
  setMaxFrameBytes(bytes: number): void {
    this.maxFrameBytes = bytes;
  }

  /** Bytes received and not yet returned as part of a frame, counting a pending frame's size prefix. */
  bufferedBytes(): number {
    const partialFrameBytes = this.partialFrame === undefined ? 0 : sizePrefixBytes + this.partialFrameFilledBytes;
    return this.bufferedByteCount + partialFrameBytes;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bufferedByteCount += chunk.length;
  }

  /**
   * The next complete frame, or undefined until more bytes arrive. Throws FrameSizeError for a
   * negative or oversized size; the reader is unusable afterwards.
   */
  next(): Buffer | undefined {
    if (this.partialFrame !== undefined) return this.continuePartialFrame();
    if (this.bufferedByteCount < sizePrefixBytes) return undefined;
    const sizeBytes = this.peekSize();
    if (sizeBytes < 0 || sizeBytes > this.maxFrameBytes) throw new FrameSizeError(sizeBytes, this.maxFrameBytes);
    this.skip(sizePrefixBytes);
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.firstChunkOffset >= sizeBytes) {
      // The whole frame sits in one received chunk: hand out a view, no copy.
      const frame = first.subarray(this.firstChunkOffset, this.firstChunkOffset + sizeBytes);
      this.skip(sizeBytes);
      return frame;
    }
    if (sizeBytes === 0) return Buffer.alloc(0);
    this.partialFrame = Buffer.allocUnsafe(sizeBytes);
    this.partialFrameFilledBytes = 0;
    return this.continuePartialFrame();
  }

  private continuePartialFrame(): Buffer | undefined {
    const frame = this.partialFrame;
    if (frame === undefined) return undefined;
    while (this.partialFrameFilledBytes < frame.length && this.chunks.length > 0) {
      const chunk = this.chunks[0] as Buffer;
      const available = chunk.length - this.firstChunkOffset;
      const wanted = frame.length - this.partialFrameFilledBytes;
      const copied = Math.min(available, wanted);
      chunk.copy(frame, this.partialFrameFilledBytes, this.firstChunkOffset, this.firstChunkOffset + copied);
      this.partialFrameFilledBytes += copied;
      this.skip(copied);
    }
    if (this.partialFrameFilledBytes < frame.length) return undefined;
    this.partialFrame = undefined;
    this.partialFrameFilledBytes = 0;
    return frame;
  }

  /** Reads the big-endian signed size, which may straddle chunk boundaries, without consuming it. */
  private peekSize(): number {
    let value = 0;
    let chunkIndex = 0;
    let offset = this.firstChunkOffset;
    for (let byteIndex = 0; byteIndex < sizePrefixBytes; byteIndex++) {
      let chunk = this.chunks[chunkIndex] as Buffer;
      while (offset >= chunk.length) {
        chunkIndex++;
        offset = 0;
        chunk = this.chunks[chunkIndex] as Buffer;
      }
      value = (value << 8) | (chunk[offset] as number);
      offset++;
    }
    // `<<` works on signed 32-bit integers, so a size with the top bit set comes out negative.
    return value;
  }

  private skip(byteCount: number): void {
    let remaining = byteCount;
    this.bufferedByteCount -= byteCount;
    while (remaining > 0) {
      const chunk = this.chunks[0] as Buffer;
      const available = chunk.length - this.firstChunkOffset;
      if (available > remaining) {
        this.firstChunkOffset += remaining;
        return;
      }
      remaining -= available;
      this.chunks.shift();
      this.firstChunkOffset = 0;
    }
  }
}
