// A real Prometheus server for the metrics tests: Debian's prometheus package (installed by
// .ci/run), started in a temporary directory with its own configuration (scrape and rule
// evaluation every second), its TSDB there too, and its web API on a free loopback port. Targets
// come from a file_sd file per job, which the test may rewrite (`setTargets`): a broker process
// started on `metrics.listeners=http://127.0.0.1:0` gets a new port at every restart. Readiness is
// the server's "ready" log line, then GET /-/ready; it is stopped by its process id (SIGTERM, its
// clean shutdown, SIGKILL after a grace period). Prometheus runs as root without complaint, so
// unlike PostgreSQL it needs no other user.
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { DatabaseProcess, freePort } from './database-process.js';
import { runProcess } from './process.js';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const READY_TIMEOUT_MS = 30_000;
const HTTP_TIMEOUT_MS = 5_000;

/** One scrape target: `host:port` (the path is /metrics) and labels added to its every series. */
export interface ScrapeTarget {
  readonly address: string;
  readonly labels?: Record<string, string>;
}

export interface ScrapeJob {
  readonly name: string;
  readonly targets: readonly ScrapeTarget[];
}

export interface PrometheusOptions {
  readonly jobs: readonly ScrapeJob[];
  /** Rule files (alerting or recording) to load, by absolute path. */
  readonly ruleFiles?: readonly string[];
  /** Scrape and rule evaluation interval, 1 s by default. */
  readonly intervalSeconds?: number;
}

/** One element of an instant vector. */
export interface VectorSample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** A target as /api/v1/targets describes it. */
export interface TargetHealth {
  readonly job: string;
  readonly labels: Record<string, string>;
  readonly scrapeUrl: string;
  readonly health: 'up' | 'down' | 'unknown';
  readonly lastError: string;
}

/** An alert as /api/v1/alerts describes it. */
export interface AlertState {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly value: string;
}

export interface PrometheusServer {
  /** `http://127.0.0.1:port`. */
  readonly url: string;
  readonly pid: number | undefined;
  /** An instant query at the current time; fails unless the result is a vector. */
  query(promql: string): Promise<VectorSample[]>;
  /** Polls `query(promql)` every 200 ms until `predicate` holds, or fails after `timeoutMs` with the last result. */
  waitFor(promql: string, predicate: (vector: VectorSample[]) => boolean, timeoutMs?: number): Promise<VectorSample[]>;
  /** The active targets and their health. */
  targets(): Promise<TargetHealth[]>;
  /** The pending and firing alerts. */
  alerts(): Promise<AlertState[]>;
  /** Replaces a job's targets (its file_sd file); Prometheus reads the file again within a second or two. */
  setTargets(job: string, targets: readonly ScrapeTarget[]): Promise<void>;
  /** Stops the server by its pid and deletes its directory. */
  stop(): Promise<void>;
}

/** Why Prometheus cannot run here, or undefined when it can (for `skip:` in tests). */
export function prometheusUnavailable(): string | undefined {
  if (existsSync(PROMETHEUS) && existsSync(PROMTOOL)) return undefined;
  const message = `${PROMETHEUS} or ${PROMTOOL} not found (Debian package prometheus; .ci/run installs it)`;
  if (process.env.CONVEYOR_REQUIRE_ALL_CLIENTS === '1') throw new Error(message);
  return message;
}

/** `promtool check rules FILE...`: its exit code and output. */
export async function checkRules(...files: string[]): Promise<{ code: number | null; output: string }> {
  const result = await runProcess(PROMTOOL, ['check', 'rules', ...files], { timeoutMs: 30_000 });
  return { code: result.code, output: `${result.stdout}${result.stderr}` };
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'conveyor-prometheus-'));
  const sdFile = (job: string) => join(dir, `targets-${job}.json`);
  const setTargets = async (job: string, targets: readonly ScrapeTarget[]) => {
    // Written aside and renamed, so Prometheus never reads a half-written file.
    const file = sdFile(job);
    await writeFile(`${file}.tmp`, JSON.stringify(targets.map((target) => ({ targets: [target.address], labels: target.labels ?? {} }))));
    await rename(`${file}.tmp`, file);
  };
  for (const job of options.jobs) await setTargets(job.name, job.targets);
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, configText(options, sdFile));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = new DatabaseProcess({
    name: 'prometheus',
    command: PROMETHEUS,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    spawnOptions: { cwd: dir },
    readyLine: 'Server is ready to receive web requests.',
    stopSignal: 'SIGTERM',
    stopGraceMs: 10_000,
  });
  const stop = async () => {
    await server.halt();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await server.launch();
    await waitUntilReady(url);
  } catch (error) {
    await stop();
    throw error;
  }
  const query = (promql: string) => queryVector(url, promql);
  return {
    url,
    get pid() {
      return server.pid;
    },
    query,
    waitFor: async (promql, predicate, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      let last: VectorSample[] | string = 'no answer yet';
      for (;;) {
        try {
          last = await query(promql);
          if (predicate(last)) return last;
        } catch (error) {
          last = error instanceof Error ? error.message : String(error);
        }
        if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting on ${promql}; last result: ${JSON.stringify(last)}`);
        await delay(200);
      }
    },
    targets: async () => {
      const data = await apiGet<{ activeTargets: { labels: Record<string, string>; scrapePool: string; scrapeUrl: string; health: TargetHealth['health']; lastError: string }[] }>(url, '/api/v1/targets?state=active');
      return data.activeTargets.map((target) => ({ job: target.scrapePool, labels: target.labels, scrapeUrl: target.scrapeUrl, health: target.health, lastError: target.lastError }));
    },
    alerts: async () => (await apiGet<{ alerts: AlertState[] }>(url, '/api/v1/alerts')).alerts,
    setTargets,
    stop,
  };
}

function configText(options: PrometheusOptions, sdFile: (job: string) => string): string {
  const interval = `${options.intervalSeconds ?? 1}s`;
  // JSON is YAML: no YAML writer needed.
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: options.jobs.map((job) => ({
      job_name: job.name,
      metrics_path: '/metrics',
      file_sd_configs: [{ files: [sdFile(job.name)], refresh_interval: interval }],
    })),
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

async function waitUntilReady(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) }).then((response) => response.ok, () => false);
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`prometheus at ${url} not ready within ${READY_TIMEOUT_MS} ms`);
    await delay(100);
  }
}

async function apiGet<T>(url: string, path: string): Promise<T> {
  const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  const body = (await response.json()) as { status: string; data?: T; error?: string; errorType?: string };
  if (body.status !== 'success' || body.data === undefined) throw new Error(`GET ${path}: ${response.status} ${body.errorType ?? ''} ${body.error ?? ''}`);
  return body.data;
}

async function queryVector(url: string, promql: string): Promise<VectorSample[]> {
  const data = await apiGet<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>(url, `/api/v1/query?query=${encodeURIComponent(promql)}`);
  if (data.resultType !== 'vector') throw new Error(`${promql}: a ${data.resultType}, not a vector`);
  return data.result.map((element) => ({ labels: element.metric, value: Number(element.value[1]) }));
}
