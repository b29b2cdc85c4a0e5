// Where connectors come from: the built-in ones (Kafka's FileStream connectors and Conveyor's own),
// classes handed to startConnect(), npm packages found on `plugin.path` (each directory holds
// packages, or is one), and npm packages of the project: a `connector.class` that names none of
// those is resolved as a package from the project directory's node_modules (the worker's working
// directory), `package` or `package/ClassName`, loaded when first named. A package's exported
// classes that extend SourceConnector or SinkConnector become plugins under their class name, which
// may be written in full, as the simple name, or without the "Connector" suffix, as Kafka's aliases;
// a project package that exports one connector is also found by the package's name.
// A package that fails to load is remembered: a connector naming it fails with that error, and
// every other connector is unaffected.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createRequire, isBuiltin } from 'node:module';
import type { Logger } from '../../base/logger.js';
import type { Connector, SinkConnector, SourceConnector } from '../api/connector.js';
import { FileStreamSinkConnector } from '../connectors/file/file-stream-sink.js';
import { FileStreamSourceConnector } from '../connectors/file/file-stream-source.js';
import { connectors as httpConnectors } from '../connectors/http/index.js';
import { connectors as mysqlCdcConnectors } from '../connectors/mysql-cdc/index.js';
import { connectors as postgresCdcConnectors } from '../connectors/postgres-cdc/index.js';
import { connectors as postgresSinkConnectors } from '../connectors/postgres-sink/index.js';
import { connectors as s3Connectors } from '../connectors/s3/index.js';
import type { PluginInfo } from './herder.js';

const loadModule = createRequire(import.meta.url);

export type ConnectorClass = new () => SourceConnector | SinkConnector;

export interface ConnectorPlugin {
  /** The full class name (Kafka's for the built-ins). */
  readonly className: string;
  readonly kind: 'source' | 'sink';
  readonly version: string;
  readonly create: ConnectorClass;
}

const BUILT_IN: readonly { className: string; create: ConnectorClass }[] = [
  { className: 'org.apache.kafka.connect.file.FileStreamSourceConnector', create: FileStreamSourceConnector },
  { className: 'org.apache.kafka.connect.file.FileStreamSinkConnector', create: FileStreamSinkConnector },
  // Each loads its client library (pg, ...) only when a task starts, so a worker that runs none of
  // them loads none of their dependencies.
  ...postgresSinkConnectors,
  ...postgresCdcConnectors,
  ...mysqlCdcConnectors,
  ...httpConnectors,
  ...s3Connectors,
];

export class PluginRegistry {
  private readonly plugins: ConnectorPlugin[] = [];
  /** Packages on plugin.path that failed to load, by package name, with the reason. */
  private readonly failures = new Map<string, string>();

  /**
   * Project packages tried so far, by package name, with their connectors (undefined: not
   * installed or failed): each is resolved and loaded at most once, as plugin.path is read once.
   */
  private readonly projectPackages = new Map<string, ConnectorPlugin[] | undefined>();
  private readonly projectRequire: NodeJS.Require;

  /** `projectDirectory`: where project packages resolve from (its node_modules and its parents'). */
  constructor(private readonly logger: Logger, projectDirectory: string = process.cwd()) {
    for (const { className, create } of BUILT_IN) this.add(className, create);
    this.projectRequire = createRequire(join(resolve(projectDirectory), 'noop.js'));
  }

  /** Adds connector classes under the names given (startConnect's `plugins`, for tests and embedding). */
  register(classes: Readonly<Record<string, ConnectorClass>>): void {
    for (const [className, create] of Object.entries(classes)) {
      if (!isConnectorClass(create)) throw new Error(`${className} is not a connector class (it needs kind 'source' or 'sink', taskClass() and taskConfigs())`);
      this.add(className, create);
    }
  }

  /** Loads every package on `pluginPath`; a package that fails is logged and remembered. */
  async loadPluginPath(pluginPath: readonly string[]): Promise<void> {
    for (const directory of pluginPath) {
      for (const packageDir of await packageDirectories(resolve(directory))) {
        try {
          // require, not import(): the bundled CLI runs in a vm.Script, which has no import() loader.
          // ES module packages load through require() from Node 20.19 and 22.12.
          const exports = loadModule(await packageEntry(packageDir)) as Record<string, unknown>;
          const found = this.addExports(exports);
          this.logger.info('loaded plugin package', { package: packageDir, connectors: found.length });
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          this.failures.set(packageDir, reason);
          this.logger.error('could not load plugin package', { package: packageDir, error: reason });
        }
      }
    }
  }

  /** The plugin `name` names (full class name or alias). */
  find(name: string): ConnectorPlugin | undefined {
    const wanted = name.trim();
    return this.known(wanted) ?? this.fromProject(wanted);
  }

  private known(wanted: string): ConnectorPlugin | undefined {
    return this.plugins.find((plugin) => aliasesOf(plugin.className).includes(wanted));
  }

  /**
   * `wanted` as a project package (`package`, its one connector) or a class of one
   * (`package/ClassName`). Only bare package names: a connector config (which the REST API
   * accepts) must not load files by path or Node's own modules.
   */
  private fromProject(wanted: string): ConnectorPlugin | undefined {
    for (const [packageName, className] of projectCandidates(wanted)) {
      const loaded = this.loadProjectPackage(packageName);
      if (!loaded) continue;
      if (className === null) {
        if (loaded.length === 1) return loaded[0];
        continue;
      }
      const plugin = loaded.find((each) => aliasesOf(each.className).includes(className));
      if (plugin) return plugin;
    }
    return undefined;
  }

  /** The connectors of project package `name` (loaded once), or undefined when it is not installed. */
  private loadProjectPackage(name: string): ConnectorPlugin[] | undefined {
    if (this.projectPackages.has(name)) return this.projectPackages.get(name);
    this.projectPackages.set(name, undefined);
    let path: string;
    try {
      path = this.projectRequire.resolve(name);
    } catch {
      return undefined;
    }
    try {
      // require, not import(), for the same reason as for plugin.path; it keeps find() synchronous.
      const found = this.addExports(this.projectRequire(path) as Record<string, unknown>);
      this.projectPackages.set(name, found);
      this.logger.info('loaded project plugin package', { package: name, connectors: found.length });
      return found;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.failures.set(name, reason);
      this.logger.error('could not load project plugin package', { package: name, error: reason });
      return undefined;
    }
  }

  /** Adds a package's exported connector classes; returns them. */
  private addExports(exports: Record<string, unknown>): ConnectorPlugin[] {
    const found: ConnectorPlugin[] = [];
    for (const [name, value] of Object.entries(exports)) {
      if (isConnectorClass(value)) found.push(this.add(typeof value.name === 'string' && value.name !== '' ? value.name : name, value));
    }
    return found;
  }

  /** The plugin, or an error saying why there is none (naming packages that failed to load). */
  resolve(name: string): ConnectorPlugin {
    const plugin = this.find(name);
    if (plugin) return plugin;
    const failed = [...this.failures].map(([dir, reason]) => `${dir}: ${reason}`);
    throw new Error(`Failed to find any class that implements Connector and which name matches ${name}, available connectors are: ${this.plugins.map((candidate) => candidate.className).join(', ')}${failed.length > 0 ? `; plugin packages that failed to load: ${failed.join('; ')}` : ''}`);
  }

  connectors(): readonly ConnectorPlugin[] {
    return this.plugins;
  }

  infos(): PluginInfo[] {
    return this.plugins.map((plugin) => ({ class: plugin.className, type: plugin.kind, version: plugin.version }));
  }

  private add(className: string, create: ConnectorClass): ConnectorPlugin {
    const sample = new create();
    const plugin: ConnectorPlugin = { className, kind: sample.kind, version: safeVersion(sample), create };
    this.plugins.push(plugin);
    return plugin;
  }
}

function safeVersion(connector: Connector): string {
  try {
    return connector.version();
  } catch {
    return 'unknown';
  }
}

/**
 * The (package, class) pairs `wanted` may name: the whole as a package (class null: its one
 * connector), then the part before the last '/' as a package and the rest as the class. Only bare
 * npm package names (lowercase, optionally @scope/), never paths, URLs or Node's own modules.
 */
function projectCandidates(wanted: string): [string, string | null][] {
  const candidates: [string, string | null][] = [];
  if (isPackageName(wanted)) candidates.push([wanted, null]);
  const slash = wanted.lastIndexOf('/');
  if (slash > 0 && isPackageName(wanted.slice(0, slash)) && /^[A-Za-z_$][\w$.]*$/.test(wanted.slice(slash + 1))) candidates.push([wanted.slice(0, slash), wanted.slice(slash + 1)]);
  return candidates;
}

function isPackageName(name: string): boolean {
  return /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/.test(name) && !isBuiltin(name);
}

/** A full class name, its simple name and the simple name without "Connector". */
function aliasesOf(className: string): string[] {
  const simple = className.slice(className.lastIndexOf('.') + 1);
  const aliases = [className, simple];
  if (simple.endsWith('Connector') && simple.length > 'Connector'.length) aliases.push(simple.slice(0, -'Connector'.length));
  return aliases;
}

function isConnectorClass(value: unknown): value is ConnectorClass {
  if (typeof value !== 'function' || !value.prototype) return false;
  const prototype = value.prototype as Record<string, unknown>;
  if (typeof prototype.taskClass !== 'function' || typeof prototype.taskConfigs !== 'function') return false;
  try {
    const kind = (new (value as ConnectorClass)()).kind;
    return kind === 'source' || kind === 'sink';
  } catch {
    return false;
  }
}

/** `directory` itself when it is a package, else its subdirectories that are packages (scoped ones too). */
async function packageDirectories(directory: string): Promise<string[]> {
  if (await isPackage(directory)) return [directory];
  const found: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(directory);
  } catch {
    return [];
  }
  for (const entry of entries.sort()) {
    const path = join(directory, entry);
    if (entry.startsWith('@')) found.push(...(await packageDirectories(path)).filter((dir) => dir !== path));
    else if (await isPackage(path)) found.push(path);
  }
  return found;
}

async function isPackage(directory: string): Promise<boolean> {
  return stat(join(directory, 'package.json')).then((info) => info.isFile(), () => false);
}

/** The file a package's `exports` "." (import condition), `module` or `main` names; index.js otherwise. */
async function packageEntry(directory: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(directory, 'package.json'), 'utf8')) as { main?: string; module?: string; exports?: unknown };
  const fromExports = entryOfExports(manifest.exports);
  return join(directory, fromExports ?? manifest.module ?? manifest.main ?? 'index.js');
}

function entryOfExports(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (!exports || typeof exports !== 'object') return undefined;
  const record = exports as Record<string, unknown>;
  const dot = '.' in record ? record['.'] : record;
  if (typeof dot === 'string') return dot;
  if (dot && typeof dot === 'object') {
    const conditions = dot as Record<string, unknown>;
    for (const condition of ['import', 'node', 'default']) {
      const target = conditions[condition];
      if (typeof target === 'string') return target;
      const nested = entryOfExports(target);
      if (nested) return nested;
    }
  }
  return undefined;
}
