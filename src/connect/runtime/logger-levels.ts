// Named loggers whose levels change at run time, for Connect's /admin/loggers (KIP-495, KIP-976).
// Loggers form log4j's hierarchy: a name's parent drops its last '.' or '/' segment
// ("connect/worker/task-0" -> "connect/worker" -> "connect" -> root), and a logger without a level
// of its own takes its nearest ancestor's. Setting a namespace's level sets it on the namespace's
// logger and on every known logger under it, as Kafka's Loggers.setLevel does.
//
// Levels are reported with log4j's names. base/logger has four levels and silence, so log4j's
// extra ones map onto the nearest that keeps their intent: TRACE prints what DEBUG prints (there is
// nothing finer to show), FATAL prints errors (the only severity above WARN), OFF is silent.
import { type LogLevelName, type LogSink, type Logger, createLogger, LogLevel } from '../../base/logger.js';
import { ConnectRestError } from './herder.js';

/** log4j's level names, as Kafka Connect reports and accepts them. */
export const kafkaLogLevels = ['OFF', 'FATAL', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'] as const;
export type KafkaLogLevel = (typeof kafkaLogLevels)[number];

/** One entry of GET /admin/loggers: the level, and when the REST API last changed it (ms). */
export interface LoggerLevel {
  readonly level: KafkaLogLevel;
  readonly last_modified: number | null;
}

export const ROOT_LOGGER = 'root';

const toBaseLevel: Readonly<Record<KafkaLogLevel, LogLevelName>> = {
  OFF: 'silent',
  FATAL: 'error',
  ERROR: 'error',
  WARN: 'warn',
  INFO: 'info',
  DEBUG: 'debug',
  TRACE: 'debug',
};

const fromBaseLevel: Readonly<Record<LogLevelName, KafkaLogLevel>> = { silent: 'OFF', error: 'ERROR', warn: 'WARN', info: 'INFO', debug: 'DEBUG' };

/** `text` as a log4j level (any case), or undefined when it names none. */
export function kafkaLogLevel(text: string): KafkaLogLevel | undefined {
  const upper = text.toUpperCase();
  return kafkaLogLevels.find((level) => level === upper);
}

function isRoot(name: string): boolean {
  return name === '' || name.toLowerCase() === ROOT_LOGGER;
}

/** The name one level up the hierarchy; the root for a single-segment name. */
function parentOf(name: string): string {
  const cut = Math.max(name.lastIndexOf('.'), name.lastIndexOf('/'));
  return cut > 0 ? name.slice(0, cut) : ROOT_LOGGER;
}

/** Whether `name` is `namespace` or lies under it (`namespace` followed by '.' or '/'). */
function isWithin(name: string, namespace: string): boolean {
  return name === namespace || ((name.startsWith(`${namespace}.`) || name.startsWith(`${namespace}/`)) && name.length > namespace.length + 1);
}

export class LoggerLevels {
  /** Loggers handed out by logger() or named by setLevel(), besides the root. */
  private readonly known = new Set<string>();
  /** Levels set on a logger itself; the root always has one. */
  private readonly explicit = new Map<string, KafkaLogLevel>();
  private readonly lastModified = new Map<string, number>();
  /** Each logger's effective base level, cleared whenever a level changes. */
  private readonly effectiveCache = new Map<string, LogLevelName>();

  constructor(
    private readonly sink: LogSink,
    rootLevel: LogLevelName,
    private readonly now: () => number = Date.now,
  ) {
    this.explicit.set(ROOT_LOGGER, fromBaseLevel[rootLevel]);
  }

  /** A logger for `name` (its lines prefixed `[name]`) that follows the level of its namespace. */
  logger(name: string): Logger {
    const key = isRoot(name) ? ROOT_LOGGER : name;
    if (key !== ROOT_LOGGER) this.known.add(key);
    const lines = createLogger(this.sink, 'debug', key === ROOT_LOGGER ? '' : key);
    const enabled = (level: Exclude<LogLevelName, 'silent'>) => LogLevel[level] >= LogLevel[this.effectiveBaseLevel(key)];
    return {
      debug: (message, fields) => enabled('debug') && lines.debug(message, fields),
      info: (message, fields) => enabled('info') && lines.info(message, fields),
      warn: (message, fields) => enabled('warn') && lines.warn(message, fields),
      error: (message, fields) => enabled('error') && lines.error(message, fields),
      child: (component) => this.logger(key === ROOT_LOGGER ? component : `${key}/${component}`),
    };
  }

  /** The loggers with a level of their own, and the root, by name (GET /admin/loggers). */
  levels(): Record<string, LoggerLevel> {
    const result: Record<string, LoggerLevel> = {};
    for (const name of [...this.explicit.keys()].sort()) result[name] = this.levelOf(name);
    return result;
  }

  /** A known logger's level, its own or inherited (GET /admin/loggers/{name}); undefined if unknown. */
  level(name: string): LoggerLevel | undefined {
    if (isRoot(name)) return this.levelOf(ROOT_LOGGER);
    return this.known.has(name) || this.explicit.has(name) ? this.levelOf(name) : undefined;
  }

  /**
   * Sets `level` on `namespace` and every known logger under it ('root': on every logger), as
   * Kafka's PUT /admin/loggers/{namespace} does, and returns those loggers' names, sorted: Kafka
   * reports every logger of the namespace, including those already at that level (which keep
   * their last_modified). An unknown level is refused as Kafka refuses it: 404 "invalid log level".
   */
  setLevel(namespace: string, level: string): string[] {
    const parsed = kafkaLogLevel(level);
    if (parsed === undefined) throw new ConnectRestError(404, `invalid log level '${level}'.`);
    const affected = this.loggersWithin(namespace);
    // Parents first, so a child that already inherits the new level keeps following its parent.
    for (const name of affected) this.setOwnLevel(name, parsed);
    this.effectiveCache.clear();
    return [...affected].sort();
  }

  /** The namespace's loggers, sorted, the root (when it is the namespace) first. */
  private loggersWithin(namespace: string): string[] {
    const names = new Set([...this.known, ...this.explicit.keys()]);
    names.delete(ROOT_LOGGER);
    if (isRoot(namespace)) return [ROOT_LOGGER, ...[...names].sort()];
    this.known.add(namespace);
    names.add(namespace);
    return [...names].filter((name) => isWithin(name, namespace)).sort();
  }

  /** Like log4j, a logger already at the level (its own or inherited) is left as it is. */
  private setOwnLevel(name: string, level: KafkaLogLevel): void {
    if (this.effectiveLevel(name) === level) return;
    this.explicit.set(name, level);
    this.lastModified.set(name, this.now());
  }

  private levelOf(name: string): LoggerLevel {
    return { level: this.effectiveLevel(name), last_modified: this.lastModified.get(name) ?? null };
  }

  private effectiveLevel(name: string): KafkaLogLevel {
    for (let current = name; ; current = parentOf(current)) {
      const level = this.explicit.get(current);
      if (level !== undefined) return level;
      if (current === ROOT_LOGGER) return this.explicit.get(ROOT_LOGGER)!;
    }
  }

  private effectiveBaseLevel(name: string): LogLevelName {
    let level = this.effectiveCache.get(name);
    if (level === undefined) {
      level = toBaseLevel[this.effectiveLevel(name)];
      this.effectiveCache.set(name, level);
    }
    return level;
  }
}
