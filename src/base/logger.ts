// A logging port: domain modules log through it so tests can capture or silence output and
// src/node decides where lines go.

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines carry `component` as a prefix. */
  child(component: string): Logger;
}

export const LogLevel = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevelName = keyof typeof LogLevel;

export type LogSink = (level: Exclude<LogLevelName, 'silent'>, line: string) => void;

function formatFields(fields?: Record<string, unknown>): string {
  if (!fields) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    const text = value instanceof Error ? value.message : typeof value === 'string' ? value : JSON.stringify(value);
    parts.push(`${key}=${text}`);
  }
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

/** A logger writing `[component] message key=value` lines at or above `level` to `sink`. */
export function createLogger(sink: LogSink, level: LogLevelName = 'info', component = ''): Logger {
  const threshold = LogLevel[level];
  const prefix = component ? `[${component}] ` : '';
  const emit = (name: Exclude<LogLevelName, 'silent'>, message: string, fields?: Record<string, unknown>) => {
    if (LogLevel[name] >= threshold) sink(name, `${prefix}${message}${formatFields(fields)}`);
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (name) => createLogger(sink, level, component ? `${component}/${name}` : name),
  };
}

/** A logger that drops everything, for tests and embedded brokers that ask for silence. */
export const silentLogger: Logger = createLogger(() => {}, 'silent');
