// The Connect REST API's routes, path for path as Kafka Connect's resources: RootResource (GET /,
// /health), ConnectorsResource (/connectors...), ConnectorPluginsResource (/connector-plugins...)
// and LoggingResource (/admin/loggers...). Each route turns a request into herder calls and answers
// with Kafka's status code and JSON shape; rest-server.ts puts them on HTTP and renders errors.
import { ConnectRestError, type Herder, type RestartRequest } from '../herder.js';
import { type LoggerLevels, kafkaLogLevel } from '../logger-levels.js';
import { configPatch, connectorOffsets, createConnectorRequest, loggerLevelRequest, stringMap, taskConfigList, withConnectorName } from './request-bodies.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RestRequest {
  /** Path parameters, decoded; '*' holds a wildcard's rest of the path. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | string[] | undefined>>;
  /** The parsed JSON body; undefined when there was none. */
  readonly body: unknown;
  /** scheme://host[:port] as the client addressed the worker, for Location headers. */
  readonly baseUrl: string;
}

export interface RestReply {
  readonly status: number;
  readonly body?: unknown;
  readonly location?: string;
}

export interface Route {
  readonly method: Method;
  /** A fastify path: ':name' is one segment, a trailing '*' the rest of the path. */
  readonly path: string;
  handle(request: RestRequest): Promise<RestReply>;
}

export interface RouteContext {
  readonly herder: Herder;
  readonly loggerLevels: LoggerLevels;
  readonly version: string;
  readonly commit: string;
}

const ok = (body: unknown): RestReply => ({ status: 200, body });
const accepted = (body?: unknown): RestReply => ({ status: 202, body });
const noContent: RestReply = { status: 204 };

function route(method: Method, path: string, handle: (request: RestRequest) => RestReply | Promise<RestReply>): Route {
  return { method, path, handle: async (request) => handle(request) };
}

/** The last value of a query parameter given once or more. */
function queryValue(request: RestRequest, name: string): string | undefined {
  const value = request.query[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/** A boolean query parameter as JAX-RS reads one: "true" in any case is true, anything else false. */
function queryFlag(request: RestRequest, name: string, defaultValue: boolean): boolean {
  const value = queryValue(request, name);
  return value === undefined ? defaultValue : value.toLowerCase() === 'true';
}

/** A task id path parameter; like JAX-RS's Integer conversion, one that is no integer is a 404. */
function taskId(request: RestRequest): number {
  const text = request.params.task!;
  if (!/^[+-]?\d{1,10}$/.test(text)) throw new ConnectRestError(404, 'HTTP 404 Not Found');
  return Number(text);
}

function connectorLocation(request: RestRequest, name: string): string {
  return `${request.baseUrl}/connectors/${encodeURIComponent(name)}`;
}

function isNotFound(error: unknown): boolean {
  return error instanceof ConnectRestError && error.status === 404;
}

/** GET /connectors?expand=status&expand=info: each connector's asked-for views, by name. */
async function expandedConnectors(herder: Herder, expansions: readonly string[]): Promise<Record<string, Record<string, unknown>>> {
  const result: Record<string, Record<string, unknown>> = {};
  for (const name of herder.connectors()) {
    try {
      const views: Record<string, unknown> = {};
      for (const expansion of expansions) {
        if (expansion === 'status') views.status = await herder.connectorStatus(name);
        else if (expansion === 'info') views.info = await herder.connectorInfo(name);
      }
      result[name] = views;
    } catch (error) {
      // Deleted while the list was being expanded: left out, as Kafka does.
      if (!isNotFound(error)) throw error;
    }
  }
  return result;
}

function rootRoutes({ herder, version, commit }: RouteContext): Route[] {
  return [
    route('GET', '/', () => ok({ version, commit, kafka_cluster_id: herder.kafkaClusterId() })),
    // KIP-1017's readiness check; the herder answering its connector list is the probe.
    route('GET', '/health', () => {
      herder.connectors();
      return ok({ status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.' });
    }),
  ];
}

function connectorConfigRoutes(herder: Herder): Route[] {
  return [
    route('GET', '/connectors', async (request) => {
      if (!('expand' in request.query)) return ok(herder.connectors());
      return ok(await expandedConnectors(herder, [request.query.expand ?? []].flat()));
    }),
    route('POST', '/connectors', async (request) => {
      const { name, config, initialState } = createConnectorRequest(request.body);
      const { info } = await herder.putConnectorConfig(name, config, false, initialState);
      return { status: 201, body: info, location: connectorLocation(request, name) };
    }),
    route('GET', '/connectors/:connector', async ({ params }) => ok(await herder.connectorInfo(params.connector!))),
    route('DELETE', '/connectors/:connector', async ({ params }) => {
      await herder.deleteConnector(params.connector!);
      return noContent;
    }),
    route('GET', '/connectors/:connector/config', async ({ params }) => ok(await herder.connectorConfig(params.connector!))),
    route('PUT', '/connectors/:connector/config', async (request) => {
      const name = request.params.connector!;
      const config = withConnectorName(name, stringMap(request.body, 'The connector config'));
      const { created, info } = await herder.putConnectorConfig(name, config, true);
      return created ? { status: 201, body: info, location: connectorLocation(request, name) } : ok(info);
    }),
    route('PATCH', '/connectors/:connector/config', async ({ params, body }) => ok(await herder.patchConnectorConfig(params.connector!, configPatch(body)))),
  ];
}

function connectorStateRoutes(herder: Herder): Route[] {
  return [
    route('GET', '/connectors/:connector/status', async ({ params }) => ok(await herder.connectorStatus(params.connector!))),
    route('GET', '/connectors/:connector/tasks', async ({ params }) => ok(await herder.taskConfigs(params.connector!))),
    route('GET', '/connectors/:connector/tasks/:task/status', async (request) => ok(await herder.taskStatus(request.params.connector!, taskId(request)))),
    route('POST', '/connectors/:connector/restart', async (request) => {
      const restart: RestartRequest = { includeTasks: queryFlag(request, 'includeTasks', false), onlyFailed: queryFlag(request, 'onlyFailed', false) };
      const status = await herder.restartConnector(request.params.connector!, restart);
      // The plain restart answers 204 with no body, as before KIP-745; the others 202 with the plan.
      return status === null ? noContent : accepted(status);
    }),
    route('POST', '/connectors/:connector/tasks/:task/restart', async (request) => {
      await herder.restartTask(request.params.connector!, taskId(request));
      return noContent;
    }),
    route('PUT', '/connectors/:connector/pause', async ({ params }) => {
      await herder.pauseConnector(params.connector!);
      return accepted();
    }),
    route('PUT', '/connectors/:connector/resume', async ({ params }) => {
      await herder.resumeConnector(params.connector!);
      return accepted();
    }),
    route('PUT', '/connectors/:connector/stop', async ({ params }) => {
      await herder.stopConnector(params.connector!);
      return noContent;
    }),
    // Kafka's internal endpoint: a worker whose exactly-once source task starts asks the leader here.
    route('PUT', '/connectors/:connector/fence', async ({ params }) => {
      await herder.fenceZombies(params.connector!);
      return noContent;
    }),
    // Kafka's internal endpoint: under exactly-once source support, a connector's owner hands its task configs to the leader.
    route('POST', '/connectors/:connector/tasks', async ({ params, body }) => {
      await herder.putTaskConfigs(params.connector!, taskConfigList(body));
      return noContent;
    }),
  ];
}

/**
 * Kafka's answer to an offsets change: the herder's message when it gives one (Kafka's worker
 * words it by whether the connector confirmed the change), else Kafka's message for a confirmed one.
 */
function offsetsChanged(change: 'altered' | 'reset', herderMessage: unknown): RestReply {
  return ok({ message: typeof herderMessage === 'string' ? herderMessage : `The offsets for this connector have been ${change} successfully` });
}

function connectorDataRoutes(herder: Herder): Route[] {
  return [
    route('GET', '/connectors/:connector/topics', async ({ params }) => {
      const name = params.connector!;
      return ok({ [name]: { topics: await herder.connectorActiveTopics(name) } });
    }),
    route('PUT', '/connectors/:connector/topics/reset', async ({ params }) => {
      await herder.resetConnectorActiveTopics(params.connector!);
      return accepted();
    }),
    route('GET', '/connectors/:connector/offsets', async ({ params }) => ok({ offsets: await herder.connectorOffsets(params.connector!) })),
    route('PATCH', '/connectors/:connector/offsets', async ({ params, body }) => {
      const offsets = connectorOffsets(body);
      return offsetsChanged('altered', await herder.alterConnectorOffsets(params.connector!, offsets));
    }),
    route('DELETE', '/connectors/:connector/offsets', async ({ params }) => offsetsChanged('reset', await herder.resetConnectorOffsets(params.connector!))),
  ];
}

/** A plugin name without a trailing "Connector", so a class and its alias compare equal (Kafka's normalizedPluginName). */
function withoutConnectorSuffix(name: string): string {
  return name.endsWith('Connector') && name.length > 'Connector'.length ? name.slice(0, -'Connector'.length) : name;
}

function pluginRoutes(herder: Herder): Route[] {
  return [
    route('GET', '/connector-plugins', (request) => ok(herder.plugins(queryFlag(request, 'connectorsOnly', true)))),
    route('GET', '/connector-plugins/:plugin/config', ({ params }) => ok(herder.pluginConfig(params.plugin!))),
    route('PUT', '/connector-plugins/:plugin/config/validate', async ({ params, body }) => {
      const plugin = params.plugin!;
      const config = stringMap(body, 'The connector config');
      const included = config['connector.class'];
      if (included !== undefined && !withoutConnectorSuffix(included).endsWith(withoutConnectorSuffix(plugin))) {
        throw new ConnectRestError(400, `Included connector type ${included} does not match request type ${plugin}`);
      }
      return ok(await herder.validateConnectorConfig(plugin, config));
    }),
  ];
}

function loggerRoutes(herder: Herder, loggerLevels: LoggerLevels): Route[] {
  // '*' rather than ':logger', so a component logger's '/' may be sent as it is or as %2F.
  return [
    route('GET', '/admin/loggers', () => ok(loggerLevels.levels())),
    route('GET', '/admin/loggers/*', ({ params }) => {
      const name = params['*']!;
      const level = loggerLevels.level(name);
      if (level === undefined) throw new ConnectRestError(404, `Logger ${name} not found.`);
      return ok(level);
    }),
    route('PUT', '/admin/loggers/*', async (request) => {
      const level = loggerLevelRequest(request.body);
      const namespace = request.params['*']!;
      if (queryValue(request, 'scope')?.toLowerCase() !== 'cluster') return ok(loggerLevels.setLevel(namespace, level));
      if (kafkaLogLevel(level) === undefined) throw new ConnectRestError(404, `invalid log level '${level}'.`);
      // Distributed: every worker applies it when it reads the config topic, this one too. In
      // standalone mode this worker is the whole cluster. Either way Kafka answers 204.
      if (herder.setClusterLoggerLevel) await herder.setClusterLoggerLevel(namespace, level);
      else loggerLevels.setLevel(namespace, level);
      return noContent;
    }),
  ];
}

/** Every route of the Connect REST API. */
export function connectRoutes(context: RouteContext): Route[] {
  const { herder } = context;
  return [
    ...rootRoutes(context),
    ...connectorConfigRoutes(herder),
    ...connectorStateRoutes(herder),
    ...connectorDataRoutes(herder),
    ...pluginRoutes(herder),
    ...loggerRoutes(herder, context.loggerLevels),
  ];
}
