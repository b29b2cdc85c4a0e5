// Consumer groups: the list (filtered and paged by the server, with each group's type: classic or
// KIP-848 consumer), one group's members and their assignments (a consumer group's also its epochs,
// assignor, and each member's epoch and target assignment), committed offsets and lag per
// partition, its total lag over time (sampled by the server while someone looks at the group) and
// resetting its offsets of a topic. A KIP-932 share group shows its epochs, members and, per
// share-partition, the start offset and lag (records in flight or not yet delivered); it commits no
// offsets, so it has no reset form.
import { api, enc } from './api';
import { lineChart } from './chart';
import { debounce, h, link, replace, table } from './dom';
import { number } from './format';
import { errorText, flash, type Cleanup } from './ui';

interface GroupRow { groupId: string; type: string; state: string; protocolType: string }
interface Page<T> { total: number; offset: number; limit: number; items: T[] }
type Assignment = { topic: string; partitions: number[] }[];
interface Group {
  groupId: string; type: 'classic' | 'consumer' | 'share'; state: string; protocolType: string; protocol: string; coordinator: string; totalLag: number;
  /** Consumer (KIP-848) and share (KIP-932) groups only. */
  groupEpoch?: number; assignmentEpoch?: number; assignor?: string;
  members: {
    memberId: string; clientId: string; clientHost: string; groupInstanceId: string | null; assignment: Assignment;
    /** Consumer (KIP-848) groups only. */
    memberEpoch?: number; targetAssignment?: Assignment; subscribedTopicNames?: string[]; subscribedTopicRegex?: string | null;
  }[];
  offsets: { topic: string; partition: number; committed: number; end: number; lag: number; memberId: string | null }[];
  /** Share groups only: per share-partition its start offset and lag (null when not known yet). */
  shareOffsets?: { topic: string; partition: number; startOffset: number | null; lag: number | null; error: string | null }[];
  shareOffsetsError?: string | null;
  lagHistory: { at: number; lag: number }[];
}

const PAGE_SIZE = 50;
const listState = { filter: '', offset: 0 };

export async function groupsPage(root: HTMLElement): Promise<void> {
  const rows = h('div', { id: 'groups-rows' });
  const summary = h('span', { id: 'groups-total', class: 'muted' });
  const filter = h('input', { id: 'group-filter', type: 'search', placeholder: 'filter by group id', value: listState.filter });
  const previous = h('button', { id: 'groups-prev', type: 'button' }, 'Previous');
  const next = h('button', { id: 'groups-next', type: 'button' }, 'Next');
  const load = async () => {
    const page = await api<Page<GroupRow>>(`/console/api/groups?filter=${enc(listState.filter)}&offset=${listState.offset}&limit=${PAGE_SIZE}`);
    replace(summary, page.total === 0 ? 'no groups match' : `${page.offset + 1}-${page.offset + page.items.length} of ${number(page.total)} groups`);
    previous.disabled = page.offset === 0;
    next.disabled = page.offset + page.items.length >= page.total;
    replace(rows, table(['Group', 'Type', 'State', 'Protocol type'], page.items.map((group) => [link(`#/group/${enc(group.groupId)}`, group.groupId), group.type, group.state, group.protocolType || '-']), { id: 'groups-table' }));
  };
  const reload = () => load().catch((error) => flash(errorText(error), 'error'));
  filter.addEventListener('input', debounce(() => { listState.filter = filter.value; listState.offset = 0; reload(); }, 200));
  previous.addEventListener('click', () => { listState.offset = Math.max(0, listState.offset - PAGE_SIZE); reload(); });
  next.addEventListener('click', () => { listState.offset += PAGE_SIZE; reload(); });
  replace(root, h('h1', {}, 'Consumer groups'), h('div', { class: 'toolbar' }, filter, previous, next, summary), rows);
  await load();
}

export async function groupPage(root: HTMLElement, groupId: string): Promise<Cleanup> {
  const body = h('div', {});
  const chart = h('div', { id: 'lag-chart-box' });
  const load = async () => {
    const group = await api<Group>(`/console/api/groups/${enc(groupId)}`);
    replace(chart, lineChart(`Total lag of ${groupId}`, [{ name: 'lag (records)', color: '#c0392b', points: group.lagHistory.map((sample) => ({ at: sample.at, value: sample.lag })) }], '', 'lag-chart'));
    if (group.type === 'share') {
      replace(body, ...sharePage(group));
      return;
    }
    replace(body,
      group.type === 'consumer' ? consumerSummary(group) :
        h('p', {}, h('span', { id: 'group-type' }, 'classic'), ` group - state `, h('strong', { id: 'group-state' }, group.state), ` - protocol ${group.protocolType || '-'} ${group.protocol ? `(${group.protocol})` : ''} - coordinator ${group.coordinator} - total lag `, h('strong', { id: 'total-lag' }, String(group.totalLag))),
      h('h2', {}, 'Members'),
      group.members.length === 0 ? h('p', { class: 'muted' }, 'no members (the group is empty: its offsets can be reset)') :
        group.type === 'consumer' ? consumerMembers(group) :
        table(['Member', 'Client id', 'Host', 'Instance id', 'Assignment'], group.members.map((member) => [member.memberId, member.clientId, member.clientHost, member.groupInstanceId ?? '', assignmentText(member.assignment)]), { id: 'members-table' }),
      h('h2', {}, 'Offsets and lag'),
      table(['Topic', 'Partition', 'Committed', 'End', 'Lag', 'Member'], group.offsets.map((entry) => [entry.topic, entry.partition, entry.committed, entry.end, h('span', { class: entry.lag > 0 ? 'warn' : '' }, entry.lag < 0 ? '?' : entry.lag), entry.memberId ?? '']), { id: 'lag-table' }),
      resetForm(groupId, [...new Set(group.offsets.map((entry) => entry.topic))], load),
    );
  };
  replace(root, h('h1', {}, 'Group ', h('span', { id: 'group-id' }, groupId)), chart, body);
  await load();
  // The server samples the lag every few seconds once the group was looked at: redraw as it does.
  const timer = window.setInterval(() => load().catch(() => undefined), 5_000);
  return () => clearInterval(timer);
}

function assignmentText(assignment: Assignment | undefined): string {
  return (assignment ?? []).map((entry) => `${entry.topic}: ${entry.partitions.join(', ')}`).join('; ');
}

/** A KIP-848 consumer group's line: its state, epochs and server-side assignor. */
function consumerSummary(group: Group): HTMLElement {
  return h('p', {},
    h('span', { id: 'group-type' }, 'consumer'), ` group (KIP-848) - state `, h('strong', { id: 'group-state' }, group.state),
    ` - group epoch `, h('strong', { id: 'group-epoch' }, String(group.groupEpoch)),
    ` - assignment epoch `, h('strong', { id: 'assignment-epoch' }, String(group.assignmentEpoch)),
    ` - assignor `, h('strong', { id: 'group-assignor' }, group.assignor ?? '-'),
    ` - coordinator ${group.coordinator} - total lag `, h('strong', { id: 'total-lag' }, String(group.totalLag)));
}

/** Each member with its epoch and subscription, what it owns and what the coordinator wants it to own (they differ while it reconciles). */
function consumerMembers(group: Group): HTMLElement {
  return table(['Member', 'Epoch', 'Client id', 'Host', 'Instance id', 'Subscription', 'Assignment', 'Target assignment'], group.members.map((member) => {
    const reconciling = assignmentText(member.assignment) !== assignmentText(member.targetAssignment);
    return [
      member.memberId, member.memberEpoch ?? '', member.clientId, member.clientHost, member.groupInstanceId ?? '',
      member.subscribedTopicRegex ? `/${member.subscribedTopicRegex}/` : (member.subscribedTopicNames ?? []).join(', '),
      assignmentText(member.assignment),
      h('span', { class: reconciling ? 'warn' : '' }, assignmentText(member.targetAssignment)),
    ];
  }), { id: 'members-table' });
}

/** A KIP-932 share group: its line, members, and share-partitions (no reset: share groups commit no offsets). */
function sharePage(group: Group): HTMLElement[] {
  const rows = group.shareOffsets ?? [];
  const lagNote = 'Lag: the records of the partition the group has not finished with - delivered to a member and not yet acknowledged (in flight), or not yet delivered.';
  return [
    h('p', {},
      h('span', { id: 'group-type' }, 'share'), ` group (KIP-932) - state `, h('strong', { id: 'group-state' }, group.state),
      ` - group epoch `, h('strong', { id: 'group-epoch' }, String(group.groupEpoch)),
      ` - assignment epoch `, h('strong', { id: 'assignment-epoch' }, String(group.assignmentEpoch)),
      ` - assignor `, h('strong', { id: 'group-assignor' }, group.assignor ?? '-'),
      ` - coordinator ${group.coordinator} - total lag `, h('strong', { id: 'total-lag', title: lagNote }, String(group.totalLag))),
    h('h2', {}, 'Members'),
    group.members.length === 0 ? h('p', { class: 'muted' }, 'no members') :
      table(['Member', 'Epoch', 'Client id', 'Host', 'Subscription', 'Assignment'], group.members.map((member) => [
        member.memberId, member.memberEpoch ?? '', member.clientId, member.clientHost, (member.subscribedTopicNames ?? []).join(', '), assignmentText(member.assignment),
      ]), { id: 'members-table' }),
    h('p', { class: 'muted' }, 'A share group hands a partition to several members at once; each record goes to one member at a time.'),
    h('h2', {}, 'Share-partitions'),
    h('p', { class: 'muted', id: 'share-lag-note' }, `Start offset: where the group's share-partition begins (records below it are done). ${lagNote}`),
    group.shareOffsetsError ? h('p', { class: 'error', id: 'share-offsets-error' }, `share-partition offsets unavailable: ${group.shareOffsetsError}`) :
      rows.length === 0 ? h('p', { class: 'muted' }, 'no share-partition offsets yet') :
      table(['Topic', 'Partition', 'Start offset', 'Lag'], rows.map((entry) => [
        entry.topic, entry.partition, entry.startOffset ?? '-',
        h('span', { class: entry.error ? 'error' : (entry.lag ?? 0) > 0 ? 'warn' : '', title: entry.error ?? lagNote }, entry.error ?? (entry.lag === null ? '?' : entry.lag)),
      ]), { id: 'share-offsets-table' }),
  ];
}

function resetForm(groupId: string, topics: string[], reload: () => Promise<void>): HTMLElement {
  const topic = h('input', { id: 'reset-topic', list: 'reset-topics', placeholder: 'topic', value: topics[0] ?? '' });
  const to = h('select', { id: 'reset-to' }, ['earliest', 'latest', 'offset', 'timestamp'].map((entry) => h('option', { value: entry }, entry)));
  const value = h('input', { id: 'reset-value', placeholder: 'offset, or time (ISO or ms)' });
  const result = h('span', { id: 'reset-result', class: 'muted' });
  const form = h('form', { id: 'reset', class: 'card' }, h('h2', {}, 'Reset offsets'), h('datalist', { id: 'reset-topics' }, topics.map((name) => h('option', { value: name }))), topic, to, value, h('button', { type: 'submit', id: 'reset-run' }, 'Reset'), ' ', result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const raw = value.value.trim();
    const parsed = to.value === 'timestamp' && !/^\d+$/.test(raw) ? Date.parse(raw) : Number(raw);
    try {
      const answer = await api<{ offsets: { partition: number; offset: number }[] }>(`/console/api/groups/${enc(groupId)}/reset`, { method: 'POST', body: { topic: topic.value, to: to.value, ...(to.value === 'offset' || to.value === 'timestamp' ? { value: parsed } : {}) } });
      replace(result, `reset ${answer.offsets.map((entry) => `${entry.partition}:${entry.offset}`).join(', ')}`);
      result.className = 'ok';
      await reload();
    } catch (error) {
      replace(result, errorText(error));
      result.className = 'error';
    }
  });
  return form;
}
