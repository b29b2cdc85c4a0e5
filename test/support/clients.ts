// Detects which real Kafka clients are installed and gates each compatibility suite on its client:
// a missing client skips the suite locally, but fails it when CI sets CONVEYOR_REQUIRE_ALL_CLIENTS=1,
// so CI can never pass by silently testing nothing. The same holds for a codec a client could use
// but cannot here because an optional module is not installed (kafka-python's snappy, lz4, zstd).
// CONVEYOR_PYTHON names another interpreter (test/support/process.ts), e.g. /nonexistent to see the
// CI gate fail.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import type { CodecSupport } from './compat-suite.js';
import { loadLibrdkafka } from './librdkafka.js';
import { PYTHON, runProcess } from './process.js';

export type ClientName = 'kafkajs' | 'platformatic' | 'kcat' | 'confluent-kafka-python' | 'kafka-python' | 'librdkafka-js';

export interface ClientInfo {
  available: boolean;
  /** The installed version when available. */
  version?: string;
  /** Why it is unavailable, with how to install it. */
  reason?: string;
}

const require = createRequire(import.meta.url);

function npmClient(pkg: string): ClientInfo {
  try {
    // Resolve the entry point, then walk up to the package's own manifest: packages with an
    // "exports" map (platformatic) do not export their package.json.
    let dir = dirname(require.resolve(pkg));
    for (;;) {
      const manifestPath = join(dir, 'package.json');
      if (existsSync(manifestPath)) {
        const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name?: string; version: string };
        if (manifest.name === pkg) return { available: true, version: manifest.version };
      }
      const parent = dirname(dir);
      if (parent === dir) throw new Error('no manifest');
      dir = parent;
    }
  } catch {
    return { available: false, reason: `${pkg} not installed: npm ci` };
  }
}

async function pythonModule(module: string, versionExpr: string, debianPackage: string): Promise<ClientInfo> {
  const missing = `${module} not importable by ${PYTHON}: apt-get install ${debianPackage}`;
  try {
    const result = await runProcess(PYTHON, ['-c', `import ${module}; print(${versionExpr})`], { timeoutMs: 20_000 });
    if (result.code !== 0) return { available: false, reason: missing };
    return { available: true, version: result.stdout.trim() };
  } catch {
    return { available: false, reason: `${PYTHON} not found: apt-get install python3 ${debianPackage}` };
  }
}

async function kcat(): Promise<ClientInfo> {
  try {
    const result = await runProcess('kcat', ['-V'], { timeoutMs: 10_000 });
    const match = /Version (\S+).*librdkafka (\S+)/.exec(result.stdout + result.stderr);
    if (match === null) return { available: false, reason: 'kcat -V printed no version: apt-get install kcat' };
    return { available: true, version: `${match[1]} (librdkafka ${match[2]})` };
  } catch {
    return { available: false, reason: 'kcat not installed: apt-get install kcat' };
  }
}

/** @confluentinc/kafka-javascript in test/clients/librdkafka, loadable by this node (its addon is built for one ABI). */
function librdkafkaJs(): ClientInfo {
  const info = loadLibrdkafka();
  if (!info.available) return { available: false, reason: info.reason ?? 'librdkafka client not loadable' };
  return { available: true, version: `${info.packageVersion} (librdkafka ${info.version})` };
}

export async function detectClient(name: ClientName): Promise<ClientInfo> {
  switch (name) {
    case 'kafkajs':
      return npmClient('kafkajs');
    case 'platformatic':
      return npmClient('@platformatic/kafka');
    case 'kcat':
      return kcat();
    case 'confluent-kafka-python':
      return pythonModule('confluent_kafka', "confluent_kafka.version()[0] + ' (librdkafka ' + confluent_kafka.libversion()[0] + ')'", 'python3-confluent-kafka');
    case 'kafka-python':
      return pythonModule('kafka', 'kafka.__version__', 'python3-kafka');
    case 'librdkafka-js':
      return librdkafkaJs();
  }
}

/** True when CI demands every client (a missing one is then a failure, not a skip). */
export function allClientsRequired(): boolean {
  return process.env.CONVEYOR_REQUIRE_ALL_CLIENTS === '1';
}

/**
 * Returns the client's info if it is installed. Otherwise skips the test (returning undefined), or
 * throws when CONVEYOR_REQUIRE_ALL_CLIENTS=1.
 */
export async function requireClient(t: TestContext, name: ClientName): Promise<ClientInfo | undefined> {
  const info = await detectClient(name);
  if (info.available) return info;
  if (allClientsRequired()) throw new Error(`${info.reason} (CONVEYOR_REQUIRE_ALL_CLIENTS=1)`);
  t.skip(info.reason);
  return undefined;
}

/**
 * The codecs a client suite runs, given for each whether the client can use it on this machine
 * (null) or why not, when the reason is a missing install (a Python module, not a limitation of the
 * client itself). Locally those codecs are skipped with the reason; with
 * CONVEYOR_REQUIRE_ALL_CLIENTS=1 a missing one throws, naming every missing codec.
 */
export function installedCodecs(client: ClientName, missing: Readonly<Record<string, string | null>>): CodecSupport[] {
  const codecs = Object.entries(missing).map(([codec, reason]): CodecSupport => (reason === null ? { codec } : { codec, unavailable: reason }));
  const absent = codecs.filter((codec) => codec.unavailable !== undefined);
  if (absent.length > 0 && allClientsRequired()) {
    throw new Error(`${client}: codecs not usable here: ${absent.map((codec) => `${codec.codec} (${codec.unavailable})`).join('; ')} (CONVEYOR_REQUIRE_ALL_CLIENTS=1)`);
  }
  return codecs;
}
