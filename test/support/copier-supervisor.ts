// Supervises the exactly-once copier (test/reliability/exactly-once-copier.ts) for the exactly-once
// tests (exactly-once-copy.test.ts on one broker, cluster-exactly-once.test.ts on a cluster): keeps
// one copier process running, relaunches it after a SIGKILL the test made on purpose, and fails on
// anything else. A copier is killed by its pid, through the ChildProcess this supervisor spawned,
// never by name.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const COPIER = fileURLToPath(new URL('../reliability/exactly-once-copier.ts', import.meta.url));

/** The test's broker faults (restarts or bounces): the ones completed, and whether one is under way. */
export interface FaultCount {
  completed: number;
  inProgress: boolean;
}

export interface CopierSupervisorOptions {
  /** The copier's arguments (bootstrap servers, input topic, output topic, group, transactional id), asked at each launch. */
  args: () => readonly string[];
  /** The test's faults, read as the copiers report connection losses: only a fault explains one. */
  faults: FaultCount;
  /** What one fault is called in a failure message, e.g. `broker restart`. */
  faultName: string;
  /** Each line of a copier's stderr (newline included) as it arrives, with the copier's number (1 for the first launched); e.g. to stream it. */
  onStderr?: (line: string, copier: number) => void;
  /**
   * Has each copier print its TRACE lines (exactly-once-copier.ts): they go to onStderr only, not
   * into the stderr kept for a failure report.
   */
  trace?: boolean;
}

interface CopierRun {
  child: ChildProcess;
  stderr: string[];
  killedOnPurpose: boolean;
  /** Faults completed when this copier last (re)connected: a later fault explains its connection errors. */
  faultsAtConnect: number;
}

/**
 * Keeps one copier process running, launched at once. Only the test's own SIGKILLs (`kill`, `stop`)
 * are expected: a new copier replaces a killed one as soon as it has exited, until `stop`. The
 * copier's stderr is split into lines: any other exit, a `copier failed` line (even from a copier
 * the test was killing at that moment) or a `RECOVERING` line no fault explains (none in progress,
 * none completed since the copier's launch or its last `RECOVERED` line) rejects `failed` with that
 * copier's stderr.
 */
export function superviseCopier(options: CopierSupervisorOptions) {
  const { faults } = options;
  const runs: CopierRun[] = [];
  let stopped = false;
  let current: CopierRun | undefined;
  let rejectFailed: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    rejectFailed = reject;
  });
  failed.catch(() => undefined); // observed through race(); the test reports it
  const failure = (run: CopierRun, what: string) =>
    rejectFailed(new Error(`copier ${runs.indexOf(run) + 1} (pid ${run.child.pid}) ${what}; its stderr:\n${run.stderr.join('') || '(empty)'}`));
  const onLine = (run: CopierRun, line: string) => {
    if (line.startsWith('copier failed')) failure(run, 'failed');
    else if (line.startsWith('RECOVERING')) {
      if (!faults.inProgress && faults.completed === run.faultsAtConnect) failure(run, `lost its connection with no ${options.faultName} to explain it`);
    } else if (line === 'RECOVERED') run.faultsAtConnect = faults.completed;
  };
  const launch = () => {
    const env = options.trace ? { ...process.env, CONVEYOR_COPIER_TRACE: '1' } : process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', COPIER, ...options.args()], { stdio: ['ignore', 'ignore', 'pipe'], env });
    const run: CopierRun = { child, stderr: [], killedOnPurpose: false, faultsAtConnect: faults.completed };
    runs.push(run);
    current = run;
    let partial = '';
    const take = (line: string, ended: boolean) => {
      const text = ended ? line : `${line}\n`;
      options.onStderr?.(text, runs.indexOf(run) + 1);
      if (line.startsWith('TRACE ')) return;
      run.stderr.push(text);
      onLine(run, line);
    };
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const line of lines) take(line, false);
    });
    child.on('exit', (code, signal) => {
      if (partial !== '') take(partial, true);
      if (run.killedOnPurpose && signal === 'SIGKILL') {
        if (!stopped) launch();
        return;
      }
      failure(run, `exited on its own (code ${code}, signal ${signal})`);
    });
  };
  launch();
  const killCurrent = () => {
    const run = current!;
    run.killedOnPurpose = true;
    // By its pid, through the ChildProcess this supervisor spawned.
    run.child.kill('SIGKILL');
  };
  return {
    /** Rejects with the copier's stderr on the first failure; never resolves. */
    failed,
    /** Copier runs so far (each launch) and the deliberate kills among them. */
    counts: () => ({ launched: runs.length, killedOnPurpose: runs.filter((run) => run.killedOnPurpose).length }),
    /** Connection losses the copiers survived in-process (each explained by a fault): their `RECOVERING` lines. */
    recoveries: () => runs.flatMap((run) => run.stderr.join('').split('\n').filter((line) => line.startsWith('RECOVERING'))),
    /** SIGKILLs the current copier on purpose; a new one replaces it once it has exited. */
    kill: killCurrent,
    /** Every copier's stderr so far, for a failure report. */
    stderr: () => runs.map((run, index) => `--- copier ${index + 1} (pid ${run.child.pid}) stderr:\n${run.stderr.join('') || '(empty)'}`).join('\n'),
    /** SIGKILLs the current copier (if still running) on purpose, launches no other, and waits for it to exit. */
    async stop() {
      stopped = true;
      const run = current;
      if (run === undefined || run.child.exitCode !== null || run.child.signalCode !== null) return;
      const exited = new Promise((resolve) => run.child.once('exit', resolve));
      killCurrent();
      await exited;
    },
  };
}
