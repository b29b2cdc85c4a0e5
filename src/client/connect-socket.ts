// Opens the TCP socket of a client connection from a `host:port` address (IPv6 hosts may be
// bracketed), failing after a deadline instead of hanging on an unreachable broker.
import { type Socket, connect } from 'node:net';

export function connectSocket(address: string, timeoutMs: number): Promise<Socket> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(separator + 1));
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => socket.destroy(new Error(`connecting to ${address} timed out`)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
