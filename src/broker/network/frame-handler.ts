// The contract between the network layer and the request dispatcher: the network layer hands
// over frames (one request's bytes without the size prefix) and writes back what the handler decides.

/** What to do with one request frame once the handler has looked at it. */
export type FrameOutcome =
  /**
   * Response bytes without the 4-byte size prefix; the network layer adds the prefix. `onSent` runs
   * once the socket no longer needs the chunks (written, or failed); not at all if the connection
   * closes before the response is written.
   */
  | {
      kind: 'respond';
      chunks: Buffer[];
      onSent?: (() => void) | undefined;
      /** A quota's throttle time: after this response, read nothing more from the client for so long (KIP-219). */
      throttleMs?: number | undefined;
    }
  /** Nothing is sent (Produce with acks=0); the request's slot is simply freed (and a quota's throttle applied). */
  | { kind: 'none'; throttleMs?: number }
  /**
   * Close the connection after flushing the responses to earlier requests (unsupported API
   * version), and `lastResponse` when given (a failed SASL authentication's answer).
   */
  | { kind: 'close'; reason: string; lastResponse?: Buffer[] };

/** Who sent a frame; the same object is passed for every frame of one connection. */
export interface ConnectionInfo {
  id: number;
  remoteAddress: string;
  remotePort: number;
  listenerName: string;
  /**
   * Who the client is: User:ANONYMOUS, or (TLS with a client certificate) User:<its mapped
   * distinguished name); on a SASL listener, set once the client authenticated.
   */
  principal: string;
  /**
   * False on a listener that needs authentication (SASL) until the client authenticated: its
   * frames are held to a small size, and it must authenticate within a time limit.
   */
  authenticated: boolean;
  /** Set for a request another broker forwarded to this active controller (never forwarded again). */
  forwarded?: boolean;
  /**
   * A client under a quota: its requests are handled one at a time, as Kafka handles every
   * connection's, so none slips past a throttle in the pipeline (set by the request dispatcher).
   */
  oneRequestAtATime?: boolean;
}

/**
 * Called synchronously, in arrival order, for each frame of a connection. The frame is a view
 * into the socket's read buffer when possible: copy it if it must outlive the request.
 * `receivedAtMs`: when the frame's last byte arrived, on the connection's monotonic clock.
 */
export type FrameHandler = (frame: Buffer, connection: ConnectionInfo, receivedAtMs?: number) => FrameOutcome | Promise<FrameOutcome>;
