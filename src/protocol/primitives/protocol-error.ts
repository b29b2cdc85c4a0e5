// The error thrown when bytes from the network do not decode: a malformed frame, a length that
// runs past the end, an absurd count. The network layer closes the connection that sent it.

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}
