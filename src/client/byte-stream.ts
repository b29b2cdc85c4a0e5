// The byte-stream port the client's connections run over: an ordered, reliable stream of bytes to
// one peer (a TCP socket in src/node, a simulated link in src/testing). The client frames and
// correlates requests on top of it and never touches node:net itself.

/** What a stream reports to the one listener it has. */
export interface ByteStreamListener {
  /** Bytes received, in order. The chunk is the listener's to keep: the stream never reuses it. */
  data(chunk: Buffer): void;
  /**
   * The stream is closed, by either side or because it broke (then `error` says why). Called
   * exactly once and last: no data follows it.
   */
  closed(error?: Error): void;
}

export interface ByteStream {
  /**
   * Starts delivering events to `listener`; called once, right after the stream was opened. A stream
   * that closed before anyone listened reports `closed` as soon as a listener comes.
   */
  listen(listener: ByteStreamListener): void;
  /**
   * Queues `chunks` to be sent in order and back to back (on TCP: one corked, vectored write), without
   * copying them: the caller must not change them afterwards. `written`, if given, is called exactly
   * once: without an argument once the stream has taken the bytes, or with an error if it never will.
   */
  write(chunks: readonly Buffer[], written?: (error?: Error) => void): void;
  /** Sends what is queued, then closes the sending side. */
  end(): void;
  /** Closes at once, dropping what is queued; `error` is what `closed` then reports. */
  destroy(error?: Error): void;
}

/**
 * Opens a stream to `address` (`host:port`; IPv6 hosts may be bracketed), rejecting if it cannot be
 * opened within `timeoutMs`; over TLS when `tls` is given (the handshake counts in the deadline).
 * Rejections keep the underlying error (a `code` such as ECONNREFUSED) so tools can explain them.
 */
export type Connector = (address: string, timeoutMs: number, tls?: TlsClientOptions) => Promise<ByteStream>;

/** The TLS settings of a connection (node:tls's client options: ca, cert, key, pfx, versions, ...). */
export type TlsClientOptions = Omit<import('node:tls').ConnectionOptions, 'host' | 'port' | 'socket'>;
