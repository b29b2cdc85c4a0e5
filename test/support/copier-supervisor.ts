// Supervises the exactly-once copier (test/reliability/exactly-once-copier.ts) for the exactly-once
// tests (exactly-once-copy.test.ts on one broker, cluster-exactly-once.test.ts on a cluster): keeps
// one copier process running, relaunches it after a SIGKILL the test made on purpose, and fails on
// anything else. A copier is killed by its pid, through the ChildProcess this supervisor spawned,
// never by name.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const COPIER = fileURLToPath(new URL('../reliability/exactly-once-copier.ts', import.meta.url));

/** A copier's exit status after its `RECOVERING` line: it met an error a new copier gets past, and asks for one (EX_TEMPFAIL). */
export const COPIER_RECOVERY_EXIT_CODE = 75;

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
  /** Its number among the copiers that recovered one after the other (CONVEYOR_COPIER_SESSION): 1 for one the test launched, more for one launched for the copier before it, which ended on an error to recover from. */
  session: number;
  /** Whether it printed `RECOVERING`: only then is its recovery exit status expected. */
  recovering: boolean;
  /**
   * Faults completed when this copier (or the one it recovers for) last connected: a later fault
   * explains its connection errors. A recovering copier keeps its predecessor's until `RECOVERED`.
   */
  faultsAtConnect: number;
}

/**
 * Keeps one copier process running, launched at once. A new copier replaces one as soon as it has
 * exited, until `stop`: after the test's own SIGKILLs (`kill`, `stop`), and after a copier's
 * `RECOVERING` line and its recovery exit status (the new one then prints `RECOVERED` once its
 * clients run). The copier's stderr is split into lines: any other exit, a `copier failed` line
 * (even from a copier the test was killing at that moment) or a `RECOVERING` line no fault explains
 * (none in progress, none completed since the launch by the test or the last `RECOVERED` line)
 * rejects `failed` with that copier's stderr.
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
      run.recovering = true;
      if (!faults.inProgress && faults.completed === run.faultsAtConnect) failure(run, `lost its connection with no ${options.faultName} to explain it`);
    } else if (line === 'RECOVERED') run.faultsAtConnect = faults.completed;
  };
  const launch = (recoversFor?: CopierRun) => {
    const session = recoversFor === undefined ? 1 : recoversFor.session + 1;
    const env = {
      ...process.env,
      CONVEYOR_COPIER_SESSION: String(session),
      ...(options.trace ? { CONVEYOR_COPIER_TRACE: '1' } : {}),
    };
    const child = spawn(process.execPath, ['--import', 'tsx', COPIER, ...options.args()], { stdio: ['ignore', 'ignore', 'pipe'], env });
    const run: CopierRun = { child, stderr: [], killedOnPurpose: false, session, recovering: false, faultsAtConnect: recoversFor?.faultsAtConnect ?? faults.completed };
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
    // 'close', not 'exit': its stderr is read to the end first (the RECOVERING line may come after the exit).
    child.on('close', (code, signal) => {
      if (partial !== '') take(partial, true);
      const recovered = run.recovering && code === COPIER_RECOVERY_EXIT_CODE;
      // A kill the test made just as the copier ended on its own to recover still counts as the test's.
      if (run.killedOnPurpose && (signal === 'SIGKILL' || recovered)) {
        if (!stopped) launch();
        return;
      }
      if (recovered) {
        if (!stopped) launch(run);
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
    /** Copiers the supervisor launched so far for the test (at first and after each deliberate kill; not those that recovered for another), and the deliberate kills. */
    counts: () => ({ launched: runs.filter((run) => run.session === 1).length, killedOnPurpose: runs.filter((run) => run.killedOnPurpose).length }),
    /** The errors the copiers ended on for a new one to carry on (each explained by a fault): their `RECOVERING` lines. */
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
