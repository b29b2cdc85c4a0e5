// The Prometheus endpoint of a broker: GET /metrics on each metrics.listeners address (plain HTTP,
// Prometheus's text format 0.0.4), GET / pointing there. It answers while the broker runs and
// stops before it. Started by node/start-broker.ts through import(), so a broker without
// metrics.listeners loads neither fastify nor prom-client.
import Fastify, { type FastifyInstance } from 'fastify';
import { ConfigError } from '../base/config-def.js';
import type { HostAndPort } from '../broker/broker-config.js';
import { createPrometheusRegistry, type MetricsSource } from '../broker/metrics/prometheus.js';

export interface MetricsServer {
  /** The addresses bound (the port chosen when 0 was configured), as `http://host:port/metrics`. */
  readonly urls: readonly string[];
  close(): Promise<void>;
}

/** Binds every address or none: refuses, naming metrics.listeners, when one cannot be bound. */
export async function startMetricsServer(source: MetricsSource, listeners: readonly HostAndPort[]): Promise<MetricsServer> {
  const registry = createPrometheusRegistry(source);
  const apps: FastifyInstance[] = [];
  const urls: string[] = [];
  const close = async () => {
    await Promise.all(apps.map((app) => app.close()));
  };
  for (const listener of listeners) {
    const app = Fastify({ logger: false });
    app.get('/metrics', async (_request, reply) => {
      const text = await registry.metrics();
      return reply.type(registry.contentType).send(text);
    });
    app.get('/', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('Conveyor broker metrics: GET /metrics (Prometheus text format)\n'));
    try {
      await app.listen({ host: listener.host, port: listener.port });
    } catch (error) {
      await app.close().catch(() => undefined);
      await close();
      throw new ConfigError('metrics.listeners', `cannot listen on http://${formatHost(listener.host)}:${listener.port}: ${error instanceof Error ? error.message : String(error)}`);
    }
    apps.push(app);
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : listener.port;
    urls.push(`http://${formatHost(listener.host)}:${port}/metrics`);
  }
  return { urls, close };
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
