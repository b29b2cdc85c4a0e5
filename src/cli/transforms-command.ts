// `conveyor transforms deploy|list|describe|pause|resume|remove`: functions from an input topic to
// output topics that the brokers run in worker threads (src/broker/transforms/). Everything is a
// record of the compacted topic __conveyor_transforms, written and read over the Kafka protocol,
// so the command works against any broker of a cluster: a deployment under the transform's name,
// its state under status/<name>; the offsets are the consumer group __transform-<name>'s, so its
// lag is the group's (and `conveyor groups describe __transform-<name>` shows it too).
//
// The code is an ES module in JavaScript (.js, .mjs). A .ts/.mts file is compiled to JavaScript
// here with the `typescript` package when one can be loaded (the current directory's project, else
// Conveyor's own development install); without it the command refuses it and says so.
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import type { Command } from 'commander';
import { ErrorCode } from '../base/error-codes.js';
import { type AdminClient, OffsetSpec, type TopicInfo } from '../client/admin-client.js';
import { KafkaResponseError, ToolError } from '../client/cluster-client.js';
import { Consumer } from '../client/consumer.js';
import { fetchGroupOffsets } from '../client/group-offsets.js';
import { Producer, type ProducerRecord } from '../client/producer.js';
import {
  DEFAULT_MEMORY_MB,
  DEFAULT_TIMEOUT_MS,
  TRANSFORMS_TOPIC,
  type TransformDeployment,
  type TransformState,
  type TransformsView,
  applyRecord,
  deploymentProblem,
  emptyView,
  encodeDeployment,
  encodeStatus,
  statusKey,
  transformGroupId,
  transformNameProblem,
} from '../broker/transforms/transform-records.js';
import { type ToolOptions, collect, integerOption, parseConfigList, print, table, toolOptions, withAdmin } from './output.js';

/** How often (200 ms apart) a topic just created is looked for, or written to, before the command gives up. */
const TOPIC_WAIT_ATTEMPTS = 15;

interface DeployOptions extends ToolOptions {
  name: string;
  inputTopic: string;
  outputTopic: string[];
  memoryMb: string;
  timeoutMs: string;
  env?: string;
}

/** One input partition of a transform: where its group is, the end of the partition and the lag. */
export interface TransformPartitionView {
  partition: number;
  /** The broker that leads the partition, so runs it. */
  leader: number;
  committedOffset: number | null;
  logEndOffset: number;
  lag: number;
}

export interface TransformView {
  name: string;
  inputTopic: string;
  outputTopics: string[];
  state: TransformState;
  error: string | null;
  memoryLimitMb: number;
  timeoutMs: number;
  createdAt: number;
  lag: number;
  partitions: TransformPartitionView[];
}

/** Every deployment and status, read from the topic's start to its current end. */
export async function readTransforms(admin: AdminClient): Promise<TransformsView> {
  const view = emptyView();
  const topic = await describeIfExists(admin, TRANSFORMS_TOPIC);
  if (topic === undefined) return view;
  const earliest = await admin.listOffsets(topic, OffsetSpec.earliest);
  const latest = await admin.listOffsets(topic, OffsetSpec.latest);
  const consumer = new Consumer(admin.cluster, topic, new Map(topic.partitions.map(({ partition }) => [partition, earliest.get(partition) ?? 0])));
  const behind = () => topic.partitions.some(({ partition }) => (consumer.positions.get(partition) ?? 0) < (latest.get(partition) ?? 0));
  while (behind()) for (const record of await consumer.poll(100)) applyRecord(view, record.key, record.value);
  return view;
}

/** Stores the deployment (and a RUNNING status, so a redeployed paused transform runs again). */
export async function deployTransform(admin: AdminClient, deployment: TransformDeployment): Promise<void> {
  const problem = deploymentProblem(deployment);
  if (problem) throw new ToolError(problem);
  for (const name of [deployment.inputTopic, ...deployment.outputTopics]) {
    if ((await describeEventually(admin, name)) === undefined) throw new ToolError(`topic '${name}' does not exist: create it first (conveyor topics create --topic ${name})`);
  }
  await ensureTransformsTopic(admin);
  await write(admin, [
    { key: Buffer.from(deployment.name), value: encodeDeployment(deployment), headers: [] },
    { key: statusKey(deployment.name), value: encodeStatus({ name: deployment.name, state: 'RUNNING', error: null, updatedAt: Date.now(), by: 'cli' }), headers: [] },
  ]);
}

/** Pauses or resumes a deployed transform; resuming a transform a failure paused restarts it from its committed offsets. */
export async function setTransformState(admin: AdminClient, name: string, state: TransformState): Promise<void> {
  const view = await readTransforms(admin);
  if (!view.deployments.has(name)) throw new ToolError(`no transform named '${name}'`);
  await write(admin, [{ key: statusKey(name), value: encodeStatus({ name, state, error: null, updatedAt: Date.now(), by: 'cli' }), headers: [] }]);
}

/** Tombstones for the deployment and its status: every broker stops it. Its group's offsets stay. */
export async function removeTransform(admin: AdminClient, name: string): Promise<void> {
  const view = await readTransforms(admin);
  if (!view.deployments.has(name)) throw new ToolError(`no transform named '${name}'`);
  await write(admin, [
    { key: Buffer.from(name), value: null, headers: [] },
    { key: statusKey(name), value: null, headers: [] },
  ]);
}

/** The transforms with their state, error and per input partition the committed offset and lag. */
export async function describeTransforms(admin: AdminClient, only?: string): Promise<TransformView[]> {
  const view = await readTransforms(admin);
  if (only !== undefined && !view.deployments.has(only)) throw new ToolError(`no transform named '${only}'`);
  const deployments = [...view.deployments.values()].filter((deployment) => only === undefined || deployment.name === only).sort((a, b) => a.name.localeCompare(b.name));
  return Promise.all(deployments.map(async (deployment) => {
    const status = view.statuses.get(deployment.name);
    const partitions = await partitionViews(admin, deployment);
    return {
      name: deployment.name,
      inputTopic: deployment.inputTopic,
      outputTopics: deployment.outputTopics,
      state: status?.state ?? 'RUNNING',
      error: status?.error ?? null,
      memoryLimitMb: deployment.memoryLimitMb,
      timeoutMs: deployment.timeoutMs,
      createdAt: deployment.createdAt,
      lag: partitions.reduce((sum, partition) => sum + partition.lag, 0),
      partitions,
    };
  }));
}

async function partitionViews(admin: AdminClient, deployment: TransformDeployment): Promise<TransformPartitionView[]> {
  const input = await describeIfExists(admin, deployment.inputTopic);
  if (input === undefined) return [];
  const offsets = await admin.partitionOffsets(input);
  const committed = await fetchGroupOffsets(admin.cluster, transformGroupId(deployment.name));
  return offsets.map(({ partition, earliest, latest }) => {
    const own = committed.find((offset) => offset.topic === input.name && offset.partition === partition)?.offset ?? null;
    return {
      partition,
      leader: input.partitions.find((info) => info.partition === partition)?.leader ?? -1,
      committedOffset: own,
      logEndOffset: latest,
      lag: Math.max(0, latest - Math.max(own ?? earliest, earliest)),
    };
  });
}

async function describeIfExists(admin: AdminClient, name: string): Promise<TopicInfo | undefined> {
  try {
    return await admin.describeTopic(name);
  } catch (error) {
    if (error instanceof KafkaResponseError && error.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return undefined;
    throw error;
  }
}

/**
 * The topic, or undefined when it is still unknown after a few seconds: a topic created a moment
 * ago through another broker may not be in this broker's metadata yet.
 */
async function describeEventually(admin: AdminClient, name: string): Promise<TopicInfo | undefined> {
  for (let attempt = 1; ; attempt++) {
    const topic = await describeIfExists(admin, name);
    if (topic !== undefined || attempt >= TOPIC_WAIT_ATTEMPTS) return topic;
    await delay(200);
  }
}

/** Creates __conveyor_transforms (one compacted partition, replicated to up to 3 brokers) unless it exists. */
async function ensureTransformsTopic(admin: AdminClient): Promise<void> {
  if ((await describeIfExists(admin, TRANSFORMS_TOPIC)) !== undefined) return;
  const brokers = await admin.describeBrokers();
  try {
    await admin.createTopic(TRANSFORMS_TOPIC, { partitions: 1, replicationFactor: Math.max(1, Math.min(3, brokers.length)), configs: { 'cleanup.policy': 'compact' } });
  } catch (error) {
    if (!(error instanceof KafkaResponseError && error.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS)) throw error;
  }
}

async function write(admin: AdminClient, records: ProducerRecord[]): Promise<void> {
  // A topic created a moment ago may not be known, or have its leader, in every broker's metadata yet.
  for (let attempt = 1; ; attempt++) {
    const topic = await describeEventually(admin, TRANSFORMS_TOPIC);
    if (topic === undefined) throw new ToolError(`${TRANSFORMS_TOPIC} does not exist`);
    const results = await new Producer(admin.cluster, topic, { compression: 0, acks: -1 }).send(records);
    const failed = results.find((result) => result.error !== null);
    if (failed === undefined) return;
    if (attempt >= TOPIC_WAIT_ATTEMPTS) throw new ToolError(`writing to ${TRANSFORMS_TOPIC} failed: ${failed.error}`);
    await delay(200);
  }
}

/** The module's JavaScript: the file itself, or a TypeScript file compiled when `typescript` can be loaded. */
export async function transformSource(file: string): Promise<string> {
  const source = await readFile(file, 'utf8');
  const extension = extname(file).toLowerCase();
  if (extension === '.js' || extension === '.mjs') return source;
  if (extension !== '.ts' && extension !== '.mts') throw new ToolError(`${file}: a transform is an ES module in JavaScript (.js, .mjs) or TypeScript (.ts, .mts)`);
  const typescript = loadTypeScript();
  if (typescript === undefined) {
    throw new ToolError(`${file} is TypeScript and the typescript package cannot be loaded here: install it in this project (npm install --save-dev typescript) or compile the file to JavaScript and deploy that`);
  }
  const compiled = typescript.transpileModule(source, { fileName: file, reportDiagnostics: true, compilerOptions: { module: typescript.ModuleKind.ESNext, target: typescript.ScriptTarget.ES2022 } });
  const errors = (compiled.diagnostics ?? []).filter((diagnostic) => diagnostic.category === typescript.DiagnosticCategory.Error);
  if (errors.length > 0) throw new ToolError(`${file} does not compile: ${errors.map((diagnostic) => typescript.flattenDiagnosticMessageText(diagnostic.messageText, ' ')).join('; ')}`);
  return compiled.outputText;
}

type TypeScriptModule = typeof import('typescript');

/** The current directory's typescript, else the one beside Conveyor; a require the CLI bundle leaves alone. */
function loadTypeScript(): TypeScriptModule | undefined {
  for (const from of [join(process.cwd(), 'package.json'), import.meta.url]) {
    try {
      return createRequire(from)('typescript') as TypeScriptModule;
    } catch {
      // Not installed there.
    }
  }
  return undefined;
}

function environmentOf(text: string | undefined): Record<string, string> {
  return text === undefined ? {} : parseConfigList(text);
}

function stateText(transform: TransformView): string {
  return transform.error === null ? transform.state : `${transform.state} (${transform.error})`;
}

function nameArgument(name: string): string {
  const problem = transformNameProblem(name);
  if (problem) throw new ToolError(problem);
  return name;
}

export function registerTransformsCommand(program: Command): void {
  const transforms = program.command('transforms').description('functions from an input topic to output topics, run by the brokers in worker threads');
  toolOptions(
    transforms
      .command('deploy')
      .description('deploy (or redeploy) a transform: an ES module that exports transform(record)')
      .argument('<file>', 'the module: JavaScript (.js, .mjs) or TypeScript (.ts, .mts, compiled here when typescript is installed)')
      .requiredOption('--name <name>', 'the transform\'s name (its offsets are the group __transform-<name>)')
      .requiredOption('--input-topic <topic>', 'the topic it reads')
      .requiredOption('--output-topic <topic>', 'a topic it writes (repeatable; records without a topic go to the first)', collect, [])
      .option('--memory-mb <mb>', 'the heap limit of its worker thread', String(DEFAULT_MEMORY_MB))
      .option('--timeout-ms <ms>', 'the longest one batch may run', String(DEFAULT_TIMEOUT_MS))
      .option('--env <k=v,...>', 'its process.env (the broker\'s own environment is not visible to it)'),
  ).action(async (file: string, options: DeployOptions) => {
    const deployment: TransformDeployment = {
      name: nameArgument(options.name),
      inputTopic: options.inputTopic,
      outputTopics: options.outputTopic,
      code: await transformSource(file),
      memoryLimitMb: integerOption('--memory-mb', options.memoryMb, 1)!,
      timeoutMs: integerOption('--timeout-ms', options.timeoutMs, 1)!,
      environment: environmentOf(options.env),
      createdAt: Date.now(),
    };
    await withAdmin(options, (admin) => deployTransform(admin, deployment));
    print(options, { deployed: deployment.name }, () => `deployed transform ${deployment.name}: ${deployment.inputTopic} -> ${deployment.outputTopics.join(', ')}`);
  });
  toolOptions(transforms.command('list').description('the transforms: input, outputs, state (with the error that paused one) and lag')).action(async (options: ToolOptions) => {
    const views = await withAdmin(options, (admin) => describeTransforms(admin));
    print(options, views.map(({ partitions: _, ...rest }) => rest), () =>
      views.length === 0 ? 'no transforms' : table([['NAME', 'INPUT', 'OUTPUTS', 'STATE', 'LAG'], ...views.map((view) => [view.name, view.inputTopic, view.outputTopics.join(','), stateText(view), view.lag])]),
    );
  });
  toolOptions(transforms.command('describe').description('one transform: its settings, state and per input partition its offset and lag').argument('<name>')).action(async (name: string, options: ToolOptions) => {
    const [view] = await withAdmin(options, (admin) => describeTransforms(admin, nameArgument(name)));
    print(options, view, () => [
      `Transform ${view!.name}: ${view!.inputTopic} -> ${view!.outputTopics.join(', ')}`,
      `State: ${stateText(view!)}`,
      `Limits: ${view!.memoryLimitMb} MB, ${view!.timeoutMs} ms per batch`,
      `Deployed: ${new Date(view!.createdAt).toISOString()}`,
      `Group: ${transformGroupId(view!.name)}`,
      '',
      table([['PARTITION', 'LEADER', 'COMMITTED-OFFSET', 'LOG-END-OFFSET', 'LAG'], ...view!.partitions.map((partition) => [partition.partition, partition.leader, partition.committedOffset ?? '-', partition.logEndOffset, partition.lag])]),
    ].join('\n'));
  });
  for (const [command, state, done] of [['pause', 'PAUSED', 'paused'], ['resume', 'RUNNING', 'resumed']] as const) {
    toolOptions(transforms.command(command).description(`${command} a transform${state === 'RUNNING' ? ' (one a failure paused too: from its committed offsets)' : ''}`).argument('<name>')).action(async (name: string, options: ToolOptions) => {
      await withAdmin(options, (admin) => setTransformState(admin, nameArgument(name), state));
      print(options, { [done]: name }, () => `${done} transform ${name}`);
    });
  }
  toolOptions(transforms.command('remove').description('remove a transform: every broker stops it (its group\'s offsets stay)').argument('<name>')).action(async (name: string, options: ToolOptions) => {
    await withAdmin(options, (admin) => removeTransform(admin, nameArgument(name)));
    print(options, { removed: name }, () => `removed transform ${name}`);
  });
}
