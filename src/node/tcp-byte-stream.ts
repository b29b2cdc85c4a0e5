// The client's byte-stream port over node:net: connectTcp opens a TCP connection to `host:port`
// (IPv6 hosts may be bracketed), failing after a deadline instead of hanging on an unreachable
// broker, and adapts the socket to ByteStream. Pass it wherever the client asks for a Connector.
import { isIP, type Socket, connect } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { ByteStream, ByteStreamListener, Connector } from '../client/byte-stream.js';

export const connectTcp: Connector = (address, timeoutMs, tls) => {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(separator + 1));
  return new Promise((resolve, reject) => {
    // Over TLS the stream is ready once the handshake is done (the server's certificate checked).
    const socket = tls === undefined ? connect({ host, port }) : connectTls({ ...(isIP(host) ? {} : { servername: host }), ...tls, host, port });
    const timer = setTimeout(() => socket.destroy(new Error(`connecting to ${address} timed out`)), timeoutMs);
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    socket.once('error', onError);
    socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(new TcpByteStream(socket));
    });
  });
};

class TcpByteStream implements ByteStream {
  private listener: ByteStreamListener | undefined;
  private error: Error | undefined;
  private closedBeforeListen = false;

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    // Attached now so an error before anyone listens is kept, not thrown as unhandled.
    socket.on('error', (error) => {
      this.error ??= error;
    });
    socket.on('close', () => {
      if (this.listener) this.listener.closed(this.error);
      else this.closedBeforeListen = true;
    });
  }

  listen(listener: ByteStreamListener): void {
    this.listener = listener;
    if (this.closedBeforeListen) {
      listener.closed(this.error);
      return;
    }
    // The socket stays paused (its bytes buffered) until this listener is attached.
    this.socket.on('data', (chunk: Buffer) => listener.data(chunk));
  }

  /** Corked writes leave as one writev; `written` fires once the kernel took the bytes. */
  write(chunks: readonly Buffer[], written?: (error?: Error) => void): void {
    this.socket.cork();
    for (let index = 0; index < chunks.length - 1; index++) this.socket.write(chunks[index]!);
    this.socket.write(chunks[chunks.length - 1]!, written && ((error) => written(error ?? undefined)));
    this.socket.uncork();
  }

  end(): void {
    this.socket.end();
  }

  destroy(error?: Error): void {
    this.socket.destroy(error);
  }
}
