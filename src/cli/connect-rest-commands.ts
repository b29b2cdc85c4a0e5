// `conveyor connect list|create|describe|status|pause|resume|stop|restart|delete|plugins|offsets`:
// connector management against a Connect worker's REST API (--url, Kafka Connect's port 8083 by
// default), so the same commands work with Conveyor's workers and with Kafka's. `create` takes a
// connector config as Kafka's tools do: a .properties file (connect-file-source.properties) or JSON,
// either {"name", "config"} or the config alone with its name. A refusal prints the worker's
// message and exits non-zero; --json prints the worker's JSON for scripts.
import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import type { Command } from 'commander';
import { parseProperties } from '../base/config-def.js';
import { ToolError } from '../client/cluster-client.js';
import { requestWorker, type WorkerResponse } from '../connect/runtime/rest/rest-client.js';
import { collect, print, table } from './output.js';

export const DEFAULT_CONNECT_URL = 'http://localhost:8083';

interface RestOptions {
  url: string;
  json?: boolean;
  /** For an https worker: the CA file its certificate is checked against, and a client certificate and key (PEM files). */
  cacert?: string;
  cert?: string;
  key?: string;
}

/** Requests to the worker wait this long for an answer (Kafka's REST resources answer within 90 s). */
const REQUEST_TIMEOUT_MS = 120_000;

interface ListOptions extends RestOptions {
  expand: string[];
}

interface RestartOptions extends RestOptions {
  includeTasks?: boolean;
  onlyFailed?: boolean;
}

interface PluginsOptions extends RestOptions {
  all?: boolean;
}

/** The REST shapes the commands print (Kafka Connect's, as the worker sends them). */
interface StateInfo {
  state: string;
  worker_id: string;
  trace?: string;
}
interface ConnectorStatus {
  name: string;
  type: string;
  connector: StateInfo;
  tasks: (StateInfo & { id: number })[];
}
interface ConnectorInfo {
  name: string;
  type: string;
  config: Record<string, string>;
  tasks: { connector: string; task: number }[];
}

/** Sends one request to the worker; answers its JSON body (undefined for none) or throws its message. */
async function request<T>(options: RestOptions, method: string, path: string, body?: unknown): Promise<T> {
  const url = `${options.url.replace(/\/+$/, '')}${path}`;
  const tls = await tlsOptions(options);
  let response: WorkerResponse;
  try {
    response = await requestWorker(url, method, body, REQUEST_TIMEOUT_MS, tls);
  } catch (error) {
    throw new ToolError(`cannot reach the Connect worker at ${options.url}: ${(error as Error).message}`);
  }
  if (response.status < 200 || response.status >= 300) throw new ToolError(`${errorMessage(response)} (HTTP ${response.status} from ${method} ${path})`);
  return (response.text === '' ? undefined : JSON.parse(response.text)) as T;
}

/** --cacert, --cert and --key, read for an https worker. */
async function tlsOptions(options: RestOptions): Promise<ConnectionOptions | undefined> {
  const file = async (option: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      throw new ToolError(`${option}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  const [ca, cert, key] = await Promise.all([file('--cacert', options.cacert), file('--cert', options.cert), file('--key', options.key)]);
  if ((cert === undefined) !== (key === undefined)) throw new ToolError('--cert and --key go together: a client certificate and its key');
  return { ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert, key }) };
}

/** The message of Connect's {"error_code", "message"} body, or the body as it came. */
function errorMessage(response: WorkerResponse): string {
  try {
    const parsed = JSON.parse(response.text) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not Connect's error body: shown as it is
  }
  return response.text.trim() || `HTTP ${response.status}`;
}

function connectorPath(name: string, suffix = ''): string {
  return `/connectors/${encodeURIComponent(name)}${suffix}`;
}

/**
 * A connector config file as POST /connectors takes it. JSON may be {"name", "config"} or the
 * config alone; properties are the config alone. Either way the config must name the connector.
 */
export function connectorRequestFromFile(path: string, text: string): { name: string; config: Record<string, unknown> } {
  const isJson = path.endsWith('.json') || text.trimStart().startsWith('{');
  const parsed: unknown = isJson ? parseJsonFile(path, text) : Object.fromEntries(parseProperties(text));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ToolError(`${path}: expected a JSON object`);
  const fields = parsed as Record<string, unknown>;
  const wrapped = typeof fields.config === 'object' && fields.config !== null;
  const config = (wrapped ? fields.config : fields) as Record<string, unknown>;
  const name = wrapped ? (fields.name ?? config.name) : config.name;
  if (typeof name !== 'string' || name.trim() === '') throw new ToolError(`${path} names no connector: add name=<connector name> to the config`);
  return { name, config };
}

function parseJsonFile(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ToolError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function tasksSummary(status: ConnectorStatus): string {
  const running = status.tasks.filter((task) => task.state === 'RUNNING').length;
  return `${running}/${status.tasks.length} running`;
}

/** A connector's state, its tasks' table and any failure's trace, as printed parts. */
function statusParts(status: ConnectorStatus): { header: string; tasks: string; failures: string[] } {
  const header = `Connector: ${status.name}  Type: ${status.type}  State: ${status.connector.state}  Worker: ${status.connector.worker_id}`;
  const tasks = status.tasks.length === 0 ? '(no tasks)' : table([['TASK', 'STATE', 'WORKER'], ...status.tasks.map((task) => [task.id, task.state, task.worker_id])]);
  const failures = [status.connector, ...status.tasks].filter((state) => state.trace).map((state) => `\n${'id' in state ? `Task ${String(state.id)}` : 'Connector'} failed:\n${state.trace}`);
  return { header, tasks, failures };
}

function statusText(status: ConnectorStatus): string {
  const { header, tasks, failures } = statusParts(status);
  return [header, tasks, ...failures].join('\n');
}

function configText(config: Record<string, string>): string {
  return Object.keys(config)
    .sort()
    .map((key) => `  ${key}=${config[key]}`)
    .join('\n');
}

async function listConnectors(options: ListOptions): Promise<void> {
  if (options.expand.length === 0) {
    const names = await request<string[]>(options, 'GET', '/connectors');
    print(options, names, () => (names.length === 0 ? '(no connectors)' : names.join('\n')));
    return;
  }
  const query = options.expand.map((each) => `expand=${encodeURIComponent(each)}`).join('&');
  const expanded = await request<Record<string, { status?: ConnectorStatus; info?: ConnectorInfo }>>(options, 'GET', `/connectors?${query}`);
  const rows = Object.entries(expanded).map(([name, views]) => [
    name,
    views.status?.type ?? views.info?.type ?? '',
    views.status?.connector.state ?? '',
    views.status ? tasksSummary(views.status) : `${views.info?.tasks.length ?? 0}`,
    views.info?.config['connector.class'] ?? '',
  ]);
  print(options, expanded, () => (rows.length === 0 ? '(no connectors)' : table([['CONNECTOR', 'TYPE', 'STATE', 'TASKS', 'CLASS'], ...rows])));
}

async function createConnector(file: string, options: RestOptions): Promise<void> {
  const body = connectorRequestFromFile(file, await readFile(file, 'utf8'));
  const info = await request<ConnectorInfo>(options, 'POST', '/connectors', body);
  print(options, info, () => `connector '${info.name}' created (${info.type}, ${info.tasks.length} task(s))`);
}

async function describeConnector(name: string, options: RestOptions): Promise<void> {
  const info = await request<ConnectorInfo>(options, 'GET', connectorPath(name));
  const status = await request<ConnectorStatus>(options, 'GET', connectorPath(name, '/status'));
  const { header, tasks, failures } = statusParts(status);
  print(options, { ...info, status }, () => [header, 'Config:', configText(info.config), tasks, ...failures].join('\n'));
}

async function connectorStatus(name: string, options: RestOptions): Promise<void> {
  const status = await request<ConnectorStatus>(options, 'GET', connectorPath(name, '/status'));
  print(options, status, () => statusText(status));
}

/** pause, resume, stop and delete: one request, then a line saying it is done. */
function stateChange(method: 'PUT' | 'DELETE', suffix: string, done: string) {
  return async (name: string, options: RestOptions): Promise<void> => {
    await request(options, method, connectorPath(name, suffix));
    print(options, { connector: name, [done]: true }, () => `connector '${name}' ${done}`);
  };
}

async function restartConnector(name: string, options: RestartOptions): Promise<void> {
  const query = `?includeTasks=${options.includeTasks === true}&onlyFailed=${options.onlyFailed === true}`;
  const status = await request<ConnectorStatus | undefined>(options, 'POST', connectorPath(name, `/restart${query}`));
  print(options, status ?? { connector: name, restarted: true }, () => (status ? `restart requested\n${statusText(status)}` : `connector '${name}' restarted`));
}

async function listPlugins(options: PluginsOptions): Promise<void> {
  const plugins = await request<{ class: string; type: string; version?: string }[]>(options, 'GET', `/connector-plugins?connectorsOnly=${options.all !== true}`);
  print(options, plugins, () => table([['CLASS', 'TYPE', 'VERSION'], ...plugins.map((plugin) => [plugin.class, plugin.type, plugin.version ?? ''])]));
}

async function connectorOffsets(name: string, options: RestOptions): Promise<void> {
  const { offsets } = await request<{ offsets: { partition: unknown; offset: unknown }[] }>(options, 'GET', connectorPath(name, '/offsets'));
  print(options, { offsets }, () =>
    offsets.length === 0 ? '(no offsets)' : table([['PARTITION', 'OFFSET'], ...offsets.map((entry) => [JSON.stringify(entry.partition), JSON.stringify(entry.offset)])]),
  );
}

/** The options every subcommand takes. */
function restOptions(command: Command): Command {
  return command
    .option('--url <url>', "the Connect worker's REST API", DEFAULT_CONNECT_URL)
    .option('--json', "print the worker's JSON instead of text")
    .option('--cacert <file>', 'https: the CA certificates (PEM) the worker\'s certificate is checked against')
    .option('--cert <file>', 'https: a client certificate (PEM), for a worker with ssl.client.auth')
    .option('--key <file>', 'https: the client certificate\'s key (PEM)');
}

export function registerConnectRestCommands(connect: Command): void {
  restOptions(connect.command('list').description('list connectors'))
    .option('--expand <view>', 'with each connector\'s "status" or "info" (repeatable)', collect, [])
    .action((options: ListOptions) => listConnectors(options));
  restOptions(connect.command('create <config-file>').description('create a connector from a .properties or JSON config file'))
    .action((file: string, options: RestOptions) => createConnector(file, options));
  restOptions(connect.command('describe <name>').description("a connector's status, tasks and config")).action(describeConnector);
  restOptions(connect.command('status <name>').description("a connector's and its tasks' states")).action(connectorStatus);
  restOptions(connect.command('pause <name>').description('pause a connector and its tasks')).action(stateChange('PUT', '/pause', 'paused'));
  restOptions(connect.command('resume <name>').description('resume a paused or stopped connector')).action(stateChange('PUT', '/resume', 'resumed'));
  restOptions(connect.command('stop <name>').description('stop a connector and its tasks, keeping its config')).action(stateChange('PUT', '/stop', 'stopped'));
  restOptions(connect.command('restart <name>').description('restart a connector, and its tasks with --include-tasks'))
    .option('--include-tasks', 'restart the tasks as well')
    .option('--only-failed', 'restart only what has FAILED')
    .action(restartConnector);
  restOptions(connect.command('delete <name>').description('delete a connector and its config')).action(stateChange('DELETE', '', 'deleted'));
  restOptions(connect.command('plugins').description('the connector plugins the worker has'))
    .option('--all', 'also transformations, predicates and converters')
    .action((options: PluginsOptions) => listPlugins(options));
  restOptions(connect.command('offsets <name>').description("a connector's committed offsets")).action(connectorOffsets);
}
