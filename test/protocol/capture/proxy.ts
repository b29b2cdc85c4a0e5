// A recording proxy for the capture tool: clients connect to it (the broker advertises the proxy's
// address, so every connection a client opens, bootstrap or not, goes through it), it forwards
// bytes unchanged to a real Conveyor broker and records every whole frame in both directions,
// pairing each response with its request by connection and correlation id.
import { createServer, type Server, type Socket, connect } from 'node:net';

export interface Exchange {
  /** Order in which the proxy saw the request, over all connections. */
  readonly sequence: number;
  readonly connection: number;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  /** The whole request frame, size prefix included. */
  readonly request: Buffer;
  /** The whole response frame, size prefix included; absent for Produce with acks=0 or a lost answer. */
  response?: Buffer;
}

export interface RecordingProxy {
  readonly port: number;
  readonly exchanges: Exchange[];
  /** Points the proxy at the broker; connections accepted before this wait for it. */
  target(port: number): void;
  close(): Promise<void>;
}

/** Splits a byte stream into size-prefixed frames; `onFrame` gets each whole frame (prefix included). */
function frameSplitter(onFrame: (frame: Buffer) => void): (data: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (data) => {
    pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const size = pending.readInt32BE(0);
      onFrame(Buffer.from(pending.subarray(0, 4 + size)));
      pending = pending.subarray(4 + size);
    }
  };
}

export async function startRecordingProxy(): Promise<RecordingProxy> {
  const exchanges: Exchange[] = [];
  const sockets = new Set<Socket>();
  let brokerPort: number | undefined;
  const waiting: (() => void)[] = [];
  let connections = 0;

  const server: Server = createServer((client) => {
    const connection = ++connections;
    sockets.add(client);
    client.pause();
    const pendingByCorrelation = new Map<number, Exchange>();
    const open = () => {
      const upstream = connect(brokerPort!, '127.0.0.1');
      sockets.add(upstream);
      client.on(
        'data',
        frameSplitter((frame) => {
          const exchange: Exchange = {
            sequence: exchanges.length,
            connection,
            apiKey: frame.readInt16BE(4),
            apiVersion: frame.readInt16BE(6),
            correlationId: frame.readInt32BE(8),
            request: frame,
          };
          exchanges.push(exchange);
          pendingByCorrelation.set(exchange.correlationId, exchange);
          upstream.write(frame);
        }),
      );
      upstream.on(
        'data',
        frameSplitter((frame) => {
          const correlationId = frame.readInt32BE(4);
          const exchange = pendingByCorrelation.get(correlationId);
          if (exchange !== undefined) {
            exchange.response = frame;
            pendingByCorrelation.delete(correlationId);
          }
          client.write(frame);
        }),
      );
      const closeBoth = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('close', closeBoth);
      upstream.on('close', closeBoth);
      client.on('error', closeBoth);
      upstream.on('error', closeBoth);
      client.resume();
    };
    if (brokerPort === undefined) waiting.push(open);
    else open();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    exchanges,
    target(port) {
      brokerPort = port;
      for (const open of waiting.splice(0)) open();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port free at the moment of asking, for a broker listener that must be known before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
