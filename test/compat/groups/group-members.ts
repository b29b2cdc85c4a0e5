// Runs consumer-group members of real clients as child processes (so one can be killed without
// leaving) and follows what they report: assignments, records processed and committed, errors.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PYTHON } from '../../support/process.js';
import { waitFor } from '../../support/wait.js';

export type MemberClient = 'kafkajs' | 'platformatic' | 'kafka-python' | 'confluent';

export interface MemberOptions {
  bootstrapServers: string;
  topic: string;
  groupId: string;
  sessionTimeoutMs: number;
  /** Assignor names for the Python clients (kafkajs always offers RoundRobinAssigner). */
  assignors?: string;
}

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

export class GroupMember {
  readonly assignments: number[][] = [];
  readonly errors: string[] = [];
  /** partition -> offsets this member processed (each batch is reported before its offsets are committed). */
  readonly committed = new Map<number, Set<number>>();
  readonly exited: Promise<void>;
  private stderr = '';
  private alive = true;

  private constructor(
    readonly client: MemberClient,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) =>
      child.on('exit', () => {
        this.alive = false;
        resolve();
      }),
    );
  }

  static start(client: MemberClient, options: MemberOptions): GroupMember {
    const { bootstrapServers, topic, groupId, sessionTimeoutMs } = options;
    const child =
      client === 'kafkajs' || client === 'platformatic'
        ? spawn(process.execPath, ['--import', 'tsx', here(`${client}-member.ts`), bootstrapServers, topic, groupId, String(sessionTimeoutMs)])
        : spawn(PYTHON, [here('group_member.py'), client, bootstrapServers, topic, groupId, options.assignors ?? 'range', String(sessionTimeoutMs)]);
    return new GroupMember(client, child);
  }

  private onLine(line: string): void {
    let event: { event: string; partitions?: number[]; records?: [number, number][]; error?: string };
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    if (event.event === 'assigned') this.assignments.push(event.partitions ?? []);
    if (event.event === 'error') this.errors.push(event.error ?? '');
    for (const [partition, offset] of event.records ?? []) {
      let offsets = this.committed.get(partition);
      if (!offsets) this.committed.set(partition, (offsets = new Set()));
      offsets.add(offset);
    }
  }

  get isAlive(): boolean {
    return this.alive;
  }

  get currentAssignment(): number[] | undefined {
    return this.assignments.at(-1);
  }

  get output(): string {
    return this.stderr;
  }

  /** Closes the consumer cleanly, so it sends LeaveGroup. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.stdin.write('stop\n');
    const timer = setTimeout(() => this.kill(), 20_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL by pid: the member disappears without leaving the group. */
  async kill(): Promise<void> {
    if (!this.alive || this.child.pid === undefined) return;
    process.kill(this.child.pid, 'SIGKILL');
    await this.exited;
  }
}

/** Waits until the live members' latest assignments partition 0..count-1 exactly, each member owning some. */
export function waitForCoverage(members: readonly GroupMember[], count: number, timeoutMs = 30_000): Promise<number[][]> {
  return waitFor(
    `${members.length} members to share ${count} partitions`,
    () => {
      const assignments = members.map((member) => member.currentAssignment);
      if (assignments.some((assignment) => assignment === undefined || assignment.length === 0)) return undefined;
      const all = assignments.flat() as number[];
      if (all.length !== count || new Set(all).size !== count) return undefined;
      return assignments as number[][];
    },
    timeoutMs,
    100,
  );
}

export function consumedOffsets(members: readonly GroupMember[]): Map<number, Set<number>> {
  const union = new Map<number, Set<number>>();
  for (const member of members) {
    for (const [partition, offsets] of member.committed) {
      let all = union.get(partition);
      if (!all) union.set(partition, (all = new Set()));
      for (const offset of offsets) all.add(offset);
    }
  }
  return union;
}
