// The records of `__conveyor_transforms`, the compacted topic that holds the broker transforms:
// a deployment under the transform's name (a tombstone removes it) and its status under
// `status/<name>` (RUNNING or PAUSED, with the error that paused it). The CLI writes them and every
// broker's TransformRunner reads them, all over the Kafka protocol, so the topic replicates and
// compacts like any other and `conveyor transforms` works against any broker of a cluster.

export const TRANSFORMS_TOPIC = '__conveyor_transforms';
export const STATUS_KEY_PREFIX = 'status/';
/** A transform's offsets live in this consumer group (so `conveyor groups` shows them and their lag). */
export const transformGroupId = (name: string): string => `__transform-${name}`;

export const DEFAULT_MEMORY_MB = 64;
export const DEFAULT_TIMEOUT_MS = 5_000;
/** The smallest heap a worker gets: below it V8 cannot even load a module. */
export const MIN_MEMORY_MB = 16;
const NAME_PATTERN = /^[A-Za-z0-9._-]{1,200}$/;

export interface TransformDeployment {
  name: string;
  inputTopic: string;
  /** The first is where records without a topic go. */
  outputTopics: string[];
  /** An ES module's source (JavaScript) that exports `transform(record)`. */
  code: string;
  memoryLimitMb: number;
  /** How long one batch may run before the worker is stopped. */
  timeoutMs: number;
  /** The worker's process.env (the broker's own environment is not visible to it). */
  environment: Record<string, string>;
  createdAt: number;
}

export type TransformState = 'RUNNING' | 'PAUSED';

export interface TransformStatus {
  name: string;
  state: TransformState;
  /** Why it paused, when a failure paused it; null when running or paused by a person. */
  error: string | null;
  updatedAt: number;
  /** Who wrote it: `cli` or `broker <node id>`. */
  by: string;
}

/** Why `name` cannot name a transform, or undefined. */
export function transformNameProblem(name: string): string | undefined {
  return NAME_PATTERN.test(name) ? undefined : `transform name '${name}' must be 1 to 200 ASCII letters, digits, '.', '_' or '-'`;
}

/** Why `deployment` cannot run, or undefined: what the CLI refuses and a runner will not start. */
export function deploymentProblem(deployment: TransformDeployment): string | undefined {
  const name = transformNameProblem(deployment.name);
  if (name) return name;
  if (deployment.inputTopic === '') return 'the input topic is empty';
  if (deployment.outputTopics.length === 0) return 'a transform needs at least one output topic';
  if (deployment.outputTopics.includes(deployment.inputTopic)) return `the input topic '${deployment.inputTopic}' cannot also be an output topic (the transform would read its own output)`;
  if (!Number.isInteger(deployment.memoryLimitMb) || deployment.memoryLimitMb < MIN_MEMORY_MB) return `the memory limit must be a whole number of MB, at least ${MIN_MEMORY_MB}`;
  if (!Number.isInteger(deployment.timeoutMs) || deployment.timeoutMs < 1) return 'the time limit must be a whole number of milliseconds, at least 1';
  return undefined;
}

export function encodeDeployment(deployment: TransformDeployment): Buffer {
  return Buffer.from(JSON.stringify(deployment));
}

export function encodeStatus(status: TransformStatus): Buffer {
  return Buffer.from(JSON.stringify(status));
}

/** What the topic says now: the latest deployment and status per transform. */
export interface TransformsView {
  deployments: Map<string, TransformDeployment>;
  statuses: Map<string, TransformStatus>;
}

export function emptyView(): TransformsView {
  return { deployments: new Map(), statuses: new Map() };
}

/**
 * Applies one record of the topic to `view`; a record that does not parse is skipped (returned
 * false), so one bad write cannot stop every runner.
 */
export function applyRecord(view: TransformsView, key: Buffer | null, value: Buffer | null): boolean {
  if (key === null) return false;
  const text = key.toString('utf8');
  const isStatus = text.startsWith(STATUS_KEY_PREFIX);
  const name = isStatus ? text.slice(STATUS_KEY_PREFIX.length) : text;
  if (value === null) {
    if (isStatus) view.statuses.delete(name);
    else view.deployments.delete(name);
    return true;
  }
  try {
    const parsed = JSON.parse(value.toString('utf8')) as unknown;
    if (isStatus) {
      const status = parsed as TransformStatus;
      if (status.state !== 'RUNNING' && status.state !== 'PAUSED') return false;
      view.statuses.set(name, { ...status, name });
    } else {
      const deployment = parsed as TransformDeployment;
      if (typeof deployment.code !== 'string' || !Array.isArray(deployment.outputTopics)) return false;
      view.deployments.set(name, { ...deployment, name, environment: deployment.environment ?? {} });
    }
    return true;
  } catch {
    return false;
  }
}

export function statusKey(name: string): Buffer {
  return Buffer.from(`${STATUS_KEY_PREFIX}${name}`);
}
