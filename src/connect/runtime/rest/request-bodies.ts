// The Connect REST API's request bodies, checked and shaped for the herder. Kafka Connect reads
// them with Jackson into Map<String, String> and its entity classes, which accept a number or a
// boolean for a string (so `"tasks.max": 1` works) and refuse objects and arrays there; these checks
// do the same and refuse what does not fit with 400 and a message naming the field.
import { ConnectRestError, type ConnectorOffset, type InitialState } from '../herder.js';

function badRequest(message: string): ConnectRestError {
  return new ConnectRestError(400, message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** A scalar as Jackson reads it into a String; undefined for what it would refuse. */
function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function objectBody(body: unknown, what: string): Record<string, unknown> {
  if (!isObject(body)) throw badRequest(`${what} must be a JSON object, not ${body === undefined ? 'empty' : describe(body)}`);
  return body;
}

/** A JSON object of strings: a connector config, or a config to validate. */
export function stringMap(body: unknown, what = 'The request body'): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(objectBody(body, what))) {
    const text = scalarText(value);
    if (text === undefined) throw badRequest(`${what} must map keys to strings: '${key}' is ${describe(value)}`);
    result[key] = text;
  }
  return result;
}

/** POST /connectors/{name}/tasks (between workers): a list of task configs. */
export function taskConfigList(body: unknown): Record<string, string>[] {
  if (!Array.isArray(body)) throw badRequest(`The task configs must be a JSON array of objects, not ${body === undefined ? 'empty' : describe(body)}`);
  return body.map((item: unknown, index) => stringMap(item, `Task config ${index}`));
}

/** PATCH /connectors/{name}/config: strings, and null to remove a key (KIP-477). */
export function configPatch(body: unknown): Record<string, string | null> {
  const result: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(objectBody(body, 'The config patch'))) {
    const text = value === null ? null : scalarText(value);
    if (text === undefined) throw badRequest(`The config patch must map keys to strings or null: '${key}' is ${describe(value)}`);
    result[key] = text;
  }
  return result;
}

/**
 * The config with the connector's name in it: a config naming another connector is refused with
 * Kafka's message, one naming none gets `name` (ConnectorsResource.checkAndPutConnectorConfigName).
 */
export function withConnectorName(name: string, config: Record<string, string>): Record<string, string> {
  const included = config.name;
  if (included === undefined) return { ...config, name };
  if (included !== name) throw badRequest(`Connector name configuration (${included}) doesn't match connector name in the URL (${name})`);
  return config;
}

export interface CreateConnectorRequest {
  readonly name: string;
  readonly config: Record<string, string>;
  /** KIP-980's initial_state (RUNNING unless given). */
  readonly initialState: InitialState;
}

/**
 * POST /connectors: {"name", "config", "initial_state"?}. The name is trimmed and a missing one
 * left empty for the herder's validation to name, as Kafka does. initial_state (KIP-980) is
 * RUNNING, PAUSED or STOPPED.
 */
export function createConnectorRequest(body: unknown): CreateConnectorRequest {
  const request = objectBody(body, 'The request body');
  const name = request.name ?? '';
  if (typeof name !== 'string') throw badRequest(`The connector name must be a string, not ${describe(name)}`);
  if (request.config === undefined || request.config === null) throw badRequest('The request body has no "config": POST /connectors takes {"name": ..., "config": {...}}');
  const state = request.initial_state === undefined || request.initial_state === null ? 'RUNNING' : String(request.initial_state).toUpperCase();
  if (state !== 'RUNNING' && state !== 'PAUSED' && state !== 'STOPPED') {
    throw badRequest(`Invalid initial state ${String(request.initial_state)}: it must be one of RUNNING, PAUSED, STOPPED`);
  }
  const trimmed = name.trim();
  return { name: trimmed, config: withConnectorName(trimmed, stringMap(request.config, 'The connector config')), initialState: state };
}

function connectorOffset(entry: unknown, index: number): ConnectorOffset {
  if (!isObject(entry) || !isObject(entry.partition)) throw badRequest(`offsets[${index}] must be an object with a "partition" object`);
  const offset = entry.offset ?? null;
  if (offset !== null && !isObject(offset)) throw badRequest(`offsets[${index}].offset must be an object or null, not ${describe(offset)}`);
  return { partition: entry.partition, offset };
}

/** PATCH /connectors/{name}/offsets: {"offsets": [{"partition": {...}, "offset": {...} | null}]}. */
export function connectorOffsets(body: unknown): ConnectorOffset[] {
  const offsets = objectBody(body, 'The request body').offsets;
  if (offsets === undefined || offsets === null || (Array.isArray(offsets) && offsets.length === 0)) {
    throw badRequest('Partitions / offsets need to be provided for an alter offsets request');
  }
  if (!Array.isArray(offsets)) throw badRequest(`"offsets" must be an array, not ${describe(offsets)}`);
  return offsets.map(connectorOffset);
}

/** PUT /admin/loggers/{name}: {"level": ...}; a missing level is refused with Kafka's message. */
export function loggerLevelRequest(body: unknown): string {
  const level = body === undefined ? undefined : objectBody(body, 'The request body').level;
  const text = level === undefined || level === null ? undefined : scalarText(level);
  if (text === undefined) throw badRequest("Desired 'level' parameter was not specified in request.");
  return text;
}
