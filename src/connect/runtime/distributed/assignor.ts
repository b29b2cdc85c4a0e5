// The group leader's incremental cooperative assignor for Connect's distributed mode (KIP-415, as
// Kafka's IncrementalCooperativeAssignor). Pure: the caller passes the members of this rebalance,
// the config snapshot, the clock and what the leader remembered from its last round, and gets each
// member's assignment and the memory for the next round.
//
// Incremental: a member keeps running what it owns; its assignment lists only work that is NEW to
// it, plus the work it must stop (revoke). Cooperative: work moved for balance is only revoked in
// a round; it is placed in the next round, which the members trigger by rejoining once they have
// stopped it. So no work ever runs on two workers at once.
//
// One round:
//   1. Owned work that is no longer configured (deleted connector, fewer tasks) is revoked; work
//      owned by two members stays with one of them (the one the leader last gave it to, else the
//      first by URL) and is revoked from the others.
//   2. Work the leader last gave to a worker URL present in this round that nobody owns now goes
//      back to that worker (a worker that restarted, or came back while its work was held).
//   3. Work last given to a URL absent from this round is lost. With scheduled.rebalance.max.delay.ms
//      > 0 it is held until `delayUntil` (now + the delay, set when the first loss is seen) so that
//      the worker can come back and take it again; members are told the remaining delay, after which
//      they rejoin and the held work is placed on the least-loaded members. With 0 it is placed at
//      once.
//   4. Unless work is held (Kafka does not revoke for balance while a delayed rebalance is pending),
//      each member's surplus over its share is revoked: connectors and tasks are balanced separately,
//      every member having floor or ceil of (count / members) of each, the members already running
//      the most keeping the larger shares.
//   5. Unowned work (new, or released from hold) goes one item at a time to the least-loaded member
//      (fewest of that kind, then the smallest URL).
// Members are ordered by URL and work by (connector, task) throughout, so the same input gives the
// same output whatever the order of the members.

/** A connector or one of its tasks: the unit of work a worker runs. */
export type WorkId = { kind: 'connector'; connector: string } | { kind: 'task'; connector: string; task: number };

export interface MemberState {
  memberId: string;
  workerUrl: string;
  /** what the worker runs now (its previous assignment minus what it was told to revoke) */
  owned: WorkId[];
}

export interface AssignorMemory {
  /** the last assignment the leader computed, by worker URL (workers keep their URL across rejoins; member ids change) */
  previous: Map<string, WorkId[]>;
  /** work lost with departed workers, held until this time (ms), or null */
  delayUntil: number | null;
  lost: WorkId[];
}

export interface MemberAssignment {
  memberId: string;
  assigned: WorkId[];
  revoked: WorkId[];
  /** ms until the member should rejoin so held work can be placed; 0 none */
  delayMs: number;
}

/** The memory of a leader that has not assigned anything yet. */
export function emptyAssignorMemory(): AssignorMemory {
  return { previous: new Map(), delayUntil: null, lost: [] };
}

/** A string naming a piece of work uniquely, for sets and maps. */
export function workKey(work: WorkId): string {
  return work.kind === 'connector' ? JSON.stringify([work.connector]) : JSON.stringify([work.connector, work.task]);
}

/** Connectors before tasks, then by connector name (code unit order), then by task number. */
export function compareWork(a: WorkId, b: WorkId): number {
  if (a.kind !== b.kind) return a.kind === 'connector' ? -1 : 1;
  if (a.connector !== b.connector) return a.connector < b.connector ? -1 : 1;
  return a.kind === 'task' && b.kind === 'task' ? a.task - b.task : 0;
}

type Kind = WorkId['kind'];
const KINDS: readonly Kind[] = ['connector', 'task'];

/** The leader's working view of one member during a round. */
interface Worker {
  readonly member: MemberState;
  /** owned, still configured, and not given to another owner: keeps running unless revoked for balance */
  readonly kept: Map<string, WorkId>;
  readonly revoked: Map<string, WorkId>;
  /** work new to this member in this round (returned to it or placed on it) */
  readonly assigned: Map<string, WorkId>;
  /** its share of each kind once balanced */
  readonly quota: Record<Kind, number>;
}

/**
 * One rebalance round: each member's incremental assignment (in the order of `members`, every one
 * told the same delay) and the memory to pass to the next round.
 */
export function assign(input: {
  members: MemberState[];
  /** every connector in the config snapshot and its task count (tasks 0..n-1) */
  configured: Map<string, number>;
  memory: AssignorMemory;
  nowMs: number;
  maxDelayMs: number /* scheduled.rebalance.max.delay.ms */;
}): { assignments: MemberAssignment[]; memory: AssignorMemory } {
  const { members, memory, nowMs, maxDelayMs } = input;
  if (members.length === 0) return { assignments: [], memory: copyMemory(memory) };

  const configured = configuredWork(input.configured);
  const workers = members.map(newWorker).sort(compareWorkers);
  const placed = keepOwnedWork(workers, configured, memory.previous);
  returnToRejoinedWorkers(workers, configured, memory.previous, placed);

  const lost = lostWork(workers, configured, memory, placed);
  const schedule = scheduleLostWork(lost.size, memory.delayUntil, nowMs, maxDelayMs);
  const held = schedule.release ? new Map<string, WorkId>() : lost;
  const unplaced = sortedWork([...configured].filter(([key]) => !placed.has(key) && !held.has(key)).map(([, work]) => work));

  for (const kind of KINDS) {
    setQuotas(workers, kind, countOfKind(configured.values(), kind));
    if (schedule.delayUntil === null) revokeSurplus(workers, kind);
  }
  for (const work of unplaced) placeOnLeastLoaded(workers, work);

  const delayMs = schedule.delayUntil === null ? 0 : schedule.delayUntil - nowMs;
  const byMemberId = new Map(workers.map((worker) => [worker.member.memberId, worker]));
  const assignments = members.map((member): MemberAssignment => {
    const worker = byMemberId.get(member.memberId)!;
    return { memberId: member.memberId, assigned: sortedWork(worker.assigned.values()), revoked: sortedWork(worker.revoked.values()), delayMs };
  });
  return {
    assignments,
    memory: { previous: nextPrevious(workers, memory.previous, held), delayUntil: schedule.delayUntil, lost: sortedWork(held.values()) },
  };
}

/** Every configured connector and task, by key. */
function configuredWork(configured: Map<string, number>): Map<string, WorkId> {
  const work = new Map<string, WorkId>();
  for (const [connector, taskCount] of configured) {
    add(work, { kind: 'connector', connector });
    for (let task = 0; task < taskCount; task++) add(work, { kind: 'task', connector, task });
  }
  return work;
}

function newWorker(member: MemberState): Worker {
  return { member, kept: new Map(), revoked: new Map(), assigned: new Map(), quota: { connector: 0, task: 0 } };
}

function compareWorkers(a: Worker, b: Worker): number {
  return compareStrings(a.member.workerUrl, b.member.workerUrl) || compareStrings(a.member.memberId, b.member.memberId);
}

/**
 * Step 1: decides what each member keeps. Deleted work is revoked; work owned by several members
 * stays with the one the leader last gave it to (else the first by URL) and is revoked from the
 * rest. Returns the work now placed, by key.
 */
function keepOwnedWork(workers: Worker[], configured: Map<string, WorkId>, previous: Map<string, WorkId[]>): Map<string, Worker> {
  const claimants = new Map<string, Worker[]>();
  for (const worker of workers) {
    for (const work of worker.member.owned) {
      const key = workKey(work);
      if (!configured.has(key)) add(worker.revoked, work);
      else if (!claimants.get(key)?.includes(worker)) claimants.set(key, [...(claimants.get(key) ?? []), worker]);
    }
  }
  const placed = new Map<string, Worker>();
  for (const [key, owners] of claimants) {
    const work = configured.get(key)!;
    const keeper = owners.find((worker) => previous.get(worker.member.workerUrl)?.some((w) => workKey(w) === key)) ?? owners[0]!;
    for (const owner of owners) add(owner === keeper ? owner.kept : owner.revoked, work);
    placed.set(key, keeper);
  }
  return placed;
}

/** Step 2: work last given to a URL that is in this round and owned by nobody goes back to it. */
function returnToRejoinedWorkers(workers: Worker[], configured: Map<string, WorkId>, previous: Map<string, WorkId[]>, placed: Map<string, Worker>): void {
  for (const worker of workers) {
    for (const work of previous.get(worker.member.workerUrl) ?? []) {
      const key = workKey(work);
      if (configured.has(key) && !placed.has(key)) {
        add(worker.assigned, work);
        placed.set(key, worker);
      }
    }
  }
}

/** Step 3: configured work that nobody has and that was last given to a worker not in this round (or already held). */
function lostWork(workers: Worker[], configured: Map<string, WorkId>, memory: AssignorMemory, placed: Map<string, Worker>): Map<string, WorkId> {
  const present = new Set(workers.map((worker) => worker.member.workerUrl));
  const candidates = [...memory.lost];
  for (const [url, work] of memory.previous) if (!present.has(url)) candidates.push(...work);
  const lost = new Map<string, WorkId>();
  for (const work of candidates) {
    const key = workKey(work);
    if (configured.has(key) && !placed.has(key)) lost.set(key, configured.get(key)!);
  }
  return lost;
}

/**
 * Whether lost work is placed in this round (`release`), and until when work stays held (null when
 * nothing is held after this round).
 */
export function scheduleLostWork(lostCount: number, delayUntil: number | null, nowMs: number, maxDelayMs: number): { release: boolean; delayUntil: number | null } {
  if (lostCount === 0 || maxDelayMs <= 0) return { release: true, delayUntil: null };
  if (delayUntil === null) return { release: false, delayUntil: nowMs + maxDelayMs };
  if (nowMs < delayUntil) return { release: false, delayUntil };
  return { release: true, delayUntil: null };
}

/** How many of a kind a worker will run after this round. */
function load(worker: Worker, kind: Kind): number {
  let count = 0;
  for (const work of worker.kept.values()) if (work.kind === kind && !worker.revoked.has(workKey(work))) count++;
  return count + countOfKind(worker.assigned.values(), kind);
}

/**
 * Each worker's share of `total` items of a kind: floor(total / n), plus one for the (total mod n)
 * workers running the most of that kind now (so the fewest move), ties broken by URL.
 */
function setQuotas(workers: Worker[], kind: Kind, total: number): void {
  const floor = Math.floor(total / workers.length);
  const larger = total % workers.length;
  const ranked = [...workers].sort((a, b) => load(b, kind) - load(a, kind) || compareWorkers(a, b));
  ranked.forEach((worker, rank) => {
    worker.quota[kind] = rank < larger ? floor + 1 : floor;
  });
}

/** Step 4: revokes what a worker runs beyond its share, from the end of its sorted work. */
function revokeSurplus(workers: Worker[], kind: Kind): void {
  for (const worker of workers) {
    const surplus = load(worker, kind) - worker.quota[kind];
    if (surplus <= 0) continue;
    const keptOfKind = sortedWork([...worker.kept.values()].filter((work) => work.kind === kind && !worker.revoked.has(workKey(work))));
    for (const work of keptOfKind.slice(-surplus)) add(worker.revoked, work);
  }
}

/** Step 5: to the worker with the fewest of this kind, the smallest URL among equals. */
function placeOnLeastLoaded(workers: Worker[], work: WorkId): void {
  let best = workers[0]!;
  for (const worker of workers.slice(1)) if (load(worker, work.kind) < load(best, work.kind)) best = worker;
  add(best.assigned, work);
}

/**
 * What the leader remembers of this round: each present worker's assignment once it has applied
 * this one, and for a departed worker whose work is held, that work (so it can get it back).
 */
function nextPrevious(workers: Worker[], previous: Map<string, WorkId[]>, held: Map<string, WorkId>): Map<string, WorkId[]> {
  const byUrl = new Map<string, WorkId[]>();
  for (const worker of workers) {
    const running = [...worker.kept.values()].filter((work) => !worker.revoked.has(workKey(work)));
    byUrl.set(worker.member.workerUrl, [...(byUrl.get(worker.member.workerUrl) ?? []), ...running, ...worker.assigned.values()]);
  }
  for (const [url, work] of previous) {
    if (byUrl.has(url)) continue;
    const stillHeld = work.filter((w) => held.has(workKey(w)));
    if (stillHeld.length > 0) byUrl.set(url, stillHeld);
  }
  const sortedUrls = [...byUrl.keys()].sort(compareStrings);
  return new Map(sortedUrls.map((url) => [url, sortedWork(byUrl.get(url)!)]));
}

function copyMemory(memory: AssignorMemory): AssignorMemory {
  return { previous: new Map([...memory.previous].map(([url, work]) => [url, [...work]])), delayUntil: memory.delayUntil, lost: [...memory.lost] };
}

function add(map: Map<string, WorkId>, work: WorkId): void {
  map.set(workKey(work), work);
}

function countOfKind(work: Iterable<WorkId>, kind: Kind): number {
  let count = 0;
  for (const w of work) if (w.kind === kind) count++;
  return count;
}

function sortedWork(work: Iterable<WorkId>): WorkId[] {
  return [...work].sort(compareWork);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
