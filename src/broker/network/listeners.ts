// Listeners: parsing Kafka's `listeners` setting and binding each listener's TCP server(s),
// including `localhost` on both IPv4 and IPv6 loopback with one port.
import { unwatchFile, watchFile } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TlsOptions } from 'node:tls';
import type { Logger } from '../../base/logger.js';

export interface ListenerConfig {
  name: string;
  host: string;
  port: number;
  /** For an SSL listener: its TLS server options; connections are handed on once their handshake is done. */
  tls?: TlsOptions;
  /** For an SSL listener whose key or trust store is a file: reloads the options when a file changes. */
  tlsReload?: TlsReload;
  /** For an SSL listener: the principal of a connection whose handshake is done (from its client certificate). */
  principalOf?: (socket: Socket) => string;
  /** For a listener whose clients authenticate (SASL): the limits until they have. */
  unauthenticated?: UnauthenticatedLimits;
}

export interface UnauthenticatedLimits {
  /** The largest frame before authentication (Kafka's sasl.server.max.receive.size). */
  readonly maxFrameBytes: number;
  /** How long a connection has to authenticate before it is closed. */
  readonly timeoutMs: number;
}

/**
 * Where an SSL listener's TLS options come from: files watched for changes (a renewed certificate),
 * and the way to read them. A dynamic config (listener.name.<listener>.ssl.keystore.location and
 * the other key and trust store keys) replaces both: the listener then reads the new settings at
 * once and watches the new files instead.
 */
export class TlsReload {
  #files: readonly string[];
  #load: () => Promise<TlsOptions>;
  readonly #replaced = new Set<() => void>();

  constructor(files: readonly string[], load: () => Promise<TlsOptions>) {
    this.#files = files;
    this.#load = load;
  }

  get files(): readonly string[] {
    return this.#files;
  }

  /** The listener's options read again; rejects when they cannot be used (the old ones stay). */
  load(): Promise<TlsOptions> {
    return this.#load();
  }

  /** New settings: the listener loads them now and watches `files` from here on. */
  replace(files: readonly string[], load: () => Promise<TlsOptions>): void {
    this.#files = files;
    this.#load = load;
    for (const replaced of this.#replaced) replaced();
  }

  /** Calls `replaced` after every replace(); returns how to stop. */
  onReplaced(replaced: () => void): () => void {
    this.#replaced.add(replaced);
    return () => this.#replaced.delete(replaced);
  }
}

/** How often the files of a TLS listener are checked for changes. */
export const TLS_FILE_CHECK_INTERVAL_MS = 1_000;

export interface BoundListener {
  name: string;
  host: string;
  /** The port actually bound, which differs from the configured one when that was 0. */
  port: number;
}

/** Kafka's own default is `PLAINTEXT://:9092`; Conveyor listens on loopback unless told otherwise. */
export const defaultListeners = 'PLAINTEXT://localhost:9092';

const listenersKey = 'listeners';
const listenerPattern = /^([A-Za-z0-9_]+):\/\/(\[[0-9A-Fa-f:.%a-zA-Z]*\]|[^:[\]/]*):([0-9]+)$/;
const maxPort = 65_535;

/** Parses a `listeners` value such as `PLAINTEXT://localhost:9092,INTERNAL://[::1]:9093`. */
export function parseListeners(value: string): ListenerConfig[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) throw new Error(`${listenersKey}: no listener given in '${value}'`);
  const listeners = entries.map(parseListener);
  checkDistinct(listeners);
  return listeners;
}

function parseListener(entry: string): ListenerConfig {
  const match = listenerPattern.exec(entry);
  if (match === null) {
    throw new Error(`${listenersKey}: '${entry}' is not of the form NAME://host:port (IPv6 hosts in brackets)`);
  }
  const [, name = '', rawHost = '', rawPort = ''] = match;
  const port = Number(rawPort);
  if (!Number.isSafeInteger(port) || port > maxPort) {
    throw new Error(`${listenersKey}: port ${rawPort} in '${entry}' is not between 0 and ${maxPort}`);
  }
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  // Kafka normalises listener names to upper case.
  return { name: name.toUpperCase(), host, port };
}

function checkDistinct(listeners: ListenerConfig[]): void {
  const names = new Set<string>();
  const ports = new Map<number, string>();
  for (const listener of listeners) {
    if (names.has(listener.name)) throw new Error(`${listenersKey}: listener name ${listener.name} appears twice`);
    names.add(listener.name);
    if (listener.port === 0) continue;
    const other = ports.get(listener.port);
    if (other !== undefined) {
      throw new Error(`${listenersKey}: listeners ${other} and ${listener.name} both use port ${listener.port}`);
    }
    ports.set(listener.port, listener.name);
  }
}

export type ConnectionCallback = (socket: Socket, listener: BoundListener) => void;

/** The TCP servers bound for one listener: one, or two for `localhost`. */
export interface ListenerBinding {
  listener: BoundListener;
  servers: Server[];
}

/** Attempts at finding a port free on both loopbacks when `localhost` asks for port 0. */
const maxLocalhostBindAttempts = 10;
/** Errors meaning the machine has no usable IPv6 loopback, as opposed to a port conflict. */
const ipv6UnavailableCodes = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EPROTONOSUPPORT', 'EINVAL']);

export async function bindListener(
  config: ListenerConfig,
  onConnection: ConnectionCallback,
  logger: Logger,
): Promise<ListenerBinding> {
  if (config.host.toLowerCase() === 'localhost') return bindLocalhost(config, onConnection, logger);
  // An empty host or 0.0.0.0 means every interface: Node's unspecified address is dual-stack `::`.
  const wildcard = config.host === '' || config.host === '0.0.0.0';
  const host = wildcard ? undefined : config.host;
  const server = await listen(config, host, onConnection, () => bound, logger);
  const bound: BoundListener = { name: config.name, host: config.host, port: boundPort(server) };
  return { listener: bound, servers: [server] };
}

/**
 * Node clients resolve `localhost` to ::1 first, others to 127.0.0.1, so both are bound on one
 * port: IPv4 first, then IPv6 on the port IPv4 got.
 */
async function bindLocalhost(config: ListenerConfig, onConnection: ConnectionCallback, logger: Logger): Promise<ListenerBinding> {
  for (let attempt = 1; ; attempt++) {
    let bound: BoundListener | undefined;
    const boundListener = () => bound as BoundListener;
    const ipv4 = await listen(config, '127.0.0.1', onConnection, boundListener, logger);
    bound = { name: config.name, host: config.host, port: boundPort(ipv4) };
    try {
      const ipv6 = await listen({ ...config, port: bound.port }, '::1', onConnection, boundListener, logger);
      return { listener: bound, servers: [ipv4, ipv6] };
    } catch (error) {
      const code = (error as BindError).code;
      if (code !== undefined && ipv6UnavailableCodes.has(code)) {
        logger.warn('IPv6 loopback unavailable, listening on IPv4 only', { listener: config.name, error: code });
        return { listener: bound, servers: [ipv4] };
      }
      await closeServer(ipv4);
      const retry = config.port === 0 && code === 'EADDRINUSE' && attempt < maxLocalhostBindAttempts;
      if (!retry) throw error;
    }
  }
}

class BindError extends Error {
  override name = 'BindError';
  readonly code: string | undefined;

  constructor(message: string, code: string | undefined) {
    super(message);
    this.code = code;
  }
}

function listen(
  config: ListenerConfig,
  host: string | undefined,
  onConnection: ConnectionCallback,
  boundListener: () => BoundListener,
  logger: Logger,
): Promise<Server> {
  // allowHalfOpen lets a client that shuts its sending side still receive its responses.
  let server: Server;
  const sockets = new Set<Socket>();
  if (config.tls === undefined) {
    server = createServer({ allowHalfOpen: true, noDelay: true });
    server.on('connection', (socket) => onConnection(socket, boundListener()));
  } else {
    server = createTlsServer({ ...config.tls, allowHalfOpen: true, noDelay: true });
    // The TCP connections under the TLS ones, handshakes included: close() ends what is left.
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    rawSockets.set(server, sockets);
    server.on('secureConnection', (socket: Socket) => onConnection(socket, boundListener()));
    // A failed handshake (plaintext on a TLS port, an untrusted or missing client certificate, a
    // client silent past the handshake timeout): that connection closes, nothing else is affected.
    // Node leaves the socket open once this event has a listener.
    server.on('tlsClientError', (error: Error, socket: Socket) => {
      logger.info('TLS handshake failed', { listener: config.name, client: socket.remoteAddress, error: error.message });
      socket.destroy();
    });
    if (config.tlsReload) reloadOnChange(server as TlsServer, config.name, config.tlsReload, logger);
  }
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.close();
      const address = host === undefined ? `*:${config.port}` : `${formatHost(host)}:${config.port}`;
      const reason = error.code === 'EADDRINUSE' ? 'address already in use' : error.message;
      reject(new BindError(`cannot bind listener ${config.name} to ${address}: ${reason} (${error.code ?? 'error'})`, error.code));
    };
    server.once('error', onError);
    const onListening = () => {
      server.off('error', onError);
      resolve(server);
    };
    if (host === undefined) server.listen({ port: config.port }, onListening);
    else server.listen({ port: config.port, host }, onListening);
  });
}

function boundPort(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('listening server has no TCP address');
  return address.port;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * A certificate replaced on disk (a renewal) is served without a restart: the listener's files
 * are checked every TLS_FILE_CHECK_INTERVAL_MS and new connections get the new context once they
 * changed; so are new settings from a dynamic config, at once. Connections already open keep
 * theirs. Settings or files that cannot be used are logged and the old context stays, as Kafka
 * keeps its old key store when a new one is invalid.
 */
function reloadOnChange(server: TlsServer, listener: string, reload: TlsReload, logger: Logger): void {
  let reloading = Promise.resolve();
  const apply = (what: string) => {
    reloading = reloading.then(async () => {
      try {
        server.setSecureContext(await reload.load());
        logger.info(`TLS key or trust store ${what}`, { listener });
      } catch (error) {
        logger.warn(`TLS key or trust store ${what === 'reloaded' ? 'changed' : 'settings changed'} but cannot be used: the previous one stays`, { listener, error: (error as Error).message });
      }
    });
  };
  const onChange = (current: { mtimeMs: number }, previous: { mtimeMs: number }) => {
    if (current.mtimeMs !== previous.mtimeMs) apply('reloaded');
  };
  let watched = reload.files;
  const watch = () => {
    for (const file of watched) watchFile(file, { persistent: false, interval: TLS_FILE_CHECK_INTERVAL_MS }, onChange);
  };
  const unwatch = () => {
    for (const file of watched) unwatchFile(file, onChange);
  };
  watch();
  const stopReplacing = reload.onReplaced(() => {
    unwatch();
    watched = reload.files;
    watch();
    apply('replaced (dynamic config)');
  });
  server.once('close', () => {
    unwatch();
    stopReplacing();
  });
}

/** The TCP sockets of each TLS server: a handshake never finished is no connection the socket server knows of. */
const rawSockets = new WeakMap<Server, Set<Socket>>();

/**
 * Destroys whatever TCP connections a server still has once the socket server has closed its own
 * connections (a TLS handshake that never finished): without this, closing it would wait for them.
 */
export function destroyLeftoverSockets(server: Server): void {
  for (const socket of rawSockets.get(server) ?? []) socket.destroy();
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}
