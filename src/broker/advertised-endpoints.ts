// The endpoints this broker registers and clients connect to: advertised.listeners when set,
// otherwise the bound listeners, with wildcard hosts replaced by localhost and port 0 by the
// port actually bound.
import type { BrokerEndpoint } from '../metadata/metadata-record.js';
import type { BrokerConfig } from './broker-config.js';
import { type BoundListener, parseListeners } from './network/index.js';

export type { BrokerEndpoint };

/** Kafka's security protocol ids. */
const PROTOCOL_IDS: Readonly<Record<string, number>> = { PLAINTEXT: 0, SSL: 1, SASL_PLAINTEXT: 2, SASL_SSL: 3 };

export function advertisedEndpoints(config: BrokerConfig, bound: readonly BoundListener[]): BrokerEndpoint[] {
  const protocolOf = (name: string) => PROTOCOL_IDS[config.listenerSecurityProtocols.get(name) ?? 'PLAINTEXT'] ?? 0;
  if (config.advertisedListeners) {
    return parseListeners(config.advertisedListeners).map((listener) => {
      const port = listener.port === 0 ? (bound.find((entry) => entry.name === listener.name)?.port ?? 0) : listener.port;
      return { name: listener.name, host: publicHost(listener.host), port, securityProtocol: protocolOf(listener.name) };
    });
  }
  return bound.map((listener) => ({ name: listener.name, host: publicHost(listener.host), port: listener.port, securityProtocol: protocolOf(listener.name) }));
}

function publicHost(host: string): string {
  return host === '' || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}
