// The overview (brokers, controller, metadata quorum, partition health), the live charts, the
// ACLs and SCRAM users page and the Connect page.
import { api, enc } from './api';
import { lineChart } from './chart';
import { h, replace, table } from './dom';
import { number } from './format';
import { errorText, flash, type Cleanup } from './ui';

interface Overview {
  clusterId: string | null; controllerId: number;
  brokers: { nodeId: number; host: string; port: number; rack: string | null; fenced: boolean | null; leaders: number }[];
  quorum: { leaderId: number; leaderEpoch: number; highWatermark: number; voters: Replica[]; observers: Replica[] } | null;
  quorumError: string | null;
  health: { topics: number; internalTopics: number; partitions: number; underReplicated: number; offline: number };
}
interface Replica { replicaId: number; role: string; logEndOffset: number; lag: number; lastCaughtUpMsAgo: number | null }
interface Sample { at: number; recordsPerSecond: number; topTopics: [string, number][]; latencyMs: number; broker?: { produceMs: number | null; fetchMs: number | null; bytesInPerSecond: number; bytesOutPerSecond: number } }

function stat(label: string, value: string | number, id: string, kind = ''): HTMLElement {
  return h('div', { class: `stat ${kind}` }, h('div', { class: 'stat-value', id }, String(value)), h('div', { class: 'stat-label' }, label));
}

export async function overviewPage(root: HTMLElement): Promise<Cleanup> {
  const body = h('div', {});
  const load = async () => {
    const overview = await api<Overview>('/console/api/overview');
    const { health } = overview;
    replace(body,
      h('p', { class: 'muted' }, `cluster ${overview.clusterId ?? '?'} - controller `, h('strong', { id: 'controller-id' }, String(overview.controllerId))),
      h('div', { class: 'stats' },
        stat('brokers', overview.brokers.length, 'stat-brokers'),
        stat('topics', number(health.topics), 'stat-topics'),
        stat('partitions', number(health.partitions), 'stat-partitions'),
        stat('under-replicated', health.underReplicated, 'stat-under-replicated', health.underReplicated > 0 ? 'warn' : 'ok'),
        stat('offline', health.offline, 'stat-offline', health.offline > 0 ? 'error' : 'ok')),
      h('h2', {}, 'Brokers'),
      table(['Node', 'Host', 'Port', 'Rack', 'State', 'Leaders'], overview.brokers.map((broker) => [
        broker.nodeId === overview.controllerId ? h('span', {}, String(broker.nodeId), ' ', h('span', { class: 'tag' }, 'controller')) : broker.nodeId,
        broker.host, broker.port, broker.rack ?? '', broker.fenced === null ? '?' : broker.fenced ? h('span', { class: 'error' }, 'fenced') : 'running', broker.leaders,
      ]), { id: 'brokers-table' }),
      h('h2', {}, 'Metadata quorum'),
      overview.quorum === null ? h('p', { class: 'muted', id: 'quorum-error' }, `not available: ${overview.quorumError ?? ''}`) : h('div', {},
        h('p', {}, `leader `, h('strong', { id: 'quorum-leader' }, String(overview.quorum.leaderId)), ` - epoch ${overview.quorum.leaderEpoch} - high watermark ${overview.quorum.highWatermark}`),
        table(['Replica', 'Role', 'Log end offset', 'Lag', 'Caught up'], [...overview.quorum.voters, ...overview.quorum.observers].map((replica) => [replica.replicaId, replica.role, replica.logEndOffset, replica.lag, replica.lastCaughtUpMsAgo === null ? '' : `${replica.lastCaughtUpMsAgo} ms ago`]), { id: 'quorum-table' })),
    );
  };
  replace(root, h('h1', {}, 'Overview'), body);
  await load();
  const timer = window.setInterval(() => load().catch(() => undefined), 10_000);
  return () => clearInterval(timer);
}

const COLORS = ['#2e86de', '#27ae60', '#8e44ad', '#e67e22', '#c0392b'];

export async function chartsPage(root: HTMLElement): Promise<Cleanup> {
  const throughput = h('div', { id: 'throughput-box' });
  const topics = h('div', { id: 'topics-box' });
  const latency = h('div', { id: 'latency-box' });
  const broker = h('div', { id: 'broker-box' });
  const note = h('p', { class: 'muted' });
  const load = async () => {
    const { samples, intervalMs } = await api<{ samples: Sample[]; intervalMs: number }>('/console/api/throughput');
    replace(note, `The console reads every partition's high watermark over the Kafka protocol every ${intervalMs / 1000} s; latency is how long the slowest leader took to answer.`);
    replace(throughput, lineChart('Records in per second (all topics)', [{ name: 'records/s', color: COLORS[0]!, points: samples.map((sample) => ({ at: sample.at, value: sample.recordsPerSecond })) }], '', 'throughput-chart'));
    const names = [...new Set(samples.flatMap((sample) => sample.topTopics.map(([name]) => name)))].slice(0, 5);
    replace(topics, lineChart('Busiest topics (records/s)', names.map((name, index) => ({ name, color: COLORS[index % COLORS.length]!, points: samples.map((sample) => ({ at: sample.at, value: sample.topTopics.find(([topic]) => topic === name)?.[1] ?? 0 })) })), '', 'topics-chart'));
    replace(latency, lineChart('ListOffsets latency (ms)', [{ name: 'ms', color: COLORS[3]!, points: samples.map((sample) => ({ at: sample.at, value: sample.latencyMs })) }], ' ms', 'latency-chart'));
    // Served by a broker that counts metrics (metrics.listeners): its own request times and bytes.
    const measured = samples.filter((sample) => sample.broker !== undefined);
    const series = (name: string, color: string, value: (broker: NonNullable<Sample['broker']>) => number | null) => ({ name, color, points: measured.flatMap((sample) => { const v = value(sample.broker!); return v === null ? [] : [{ at: sample.at, value: v }]; }) });
    replace(broker, measured.length === 0 ? h('p', { class: 'muted', id: 'broker-metrics-off' }, "The serving broker's own metrics appear here when the console runs in a broker with metrics.listeners.") : [
      lineChart('Broker request time (ms, average TotalTimeMs)', [series('Produce', COLORS[0]!, (entry) => entry.produceMs), series('FetchConsumer', COLORS[1]!, (entry) => entry.fetchMs)], ' ms', 'broker-latency-chart'),
      lineChart('Broker bytes per second', [series('in', COLORS[2]!, (entry) => entry.bytesInPerSecond), series('out', COLORS[3]!, (entry) => entry.bytesOutPerSecond)], '', 'broker-bytes-chart'),
    ]);
  };
  replace(root, h('h1', {}, 'Live charts'), note, throughput, topics, latency, broker);
  await load();
  const timer = window.setInterval(() => load().catch(() => undefined), 2_000);
  return () => clearInterval(timer);
}

const RESOURCE_TYPES: Record<number, string> = { 2: 'TOPIC', 3: 'GROUP', 4: 'CLUSTER', 5: 'TRANSACTIONAL_ID', 6: 'DELEGATION_TOKEN', 7: 'USER' };
const PATTERN_TYPES: Record<number, string> = { 3: 'LITERAL', 4: 'PREFIXED' };
const OPERATIONS: Record<number, string> = { 2: 'ALL', 3: 'READ', 4: 'WRITE', 5: 'CREATE', 6: 'DELETE', 7: 'ALTER', 8: 'DESCRIBE', 9: 'CLUSTER_ACTION', 10: 'DESCRIBE_CONFIGS', 11: 'ALTER_CONFIGS', 12: 'IDEMPOTENT_WRITE' };
const PERMISSIONS: Record<number, string> = { 2: 'DENY', 3: 'ALLOW' };

interface Acl { resourceType: number; resourceName: string; patternType: number; principal: string; host: string; operation: number; permissionType: number }

function options(names: Record<number, string>, id: string): HTMLSelectElement {
  return h('select', { id }, Object.entries(names).map(([code, name]) => h('option', { value: code }, name)));
}

export async function aclsPage(root: HTMLElement): Promise<void> {
  const acls = h('div', { id: 'acls-box' });
  const users = h('div', { id: 'users-box' });
  const loadAcls = async () => {
    try {
      const answer = await api<{ acls: Acl[] }>('/console/api/acls');
      replace(acls, answer.acls.length === 0 ? h('p', { class: 'muted', id: 'acls-empty' }, 'no ACLs') : table(['Principal', 'Host', 'Operation', 'Permission', 'Resource', 'Pattern', ''], answer.acls.map((acl) => {
        const remove = h('button', { type: 'button', class: 'danger' }, 'Delete');
        remove.addEventListener('click', () => api('/console/api/acls/delete', { method: 'POST', body: acl }).then(loadAcls, (error) => flash(errorText(error), 'error')));
        return [acl.principal, acl.host, OPERATIONS[acl.operation] ?? acl.operation, PERMISSIONS[acl.permissionType] ?? acl.permissionType, `${RESOURCE_TYPES[acl.resourceType] ?? acl.resourceType}:${acl.resourceName}`, PATTERN_TYPES[acl.patternType] ?? acl.patternType, remove];
      }), { id: 'acls-table' }));
    } catch (error) {
      replace(acls, h('p', { class: 'muted', id: 'acls-error' }, `ACLs not available: ${errorText(error)}`));
    }
  };
  const loadUsers = async () => {
    try {
      const answer = await api<{ users: { user: string; credentials: { mechanism: string; iterations: number }[] }[] }>('/console/api/users');
      replace(users, answer.users.length === 0 ? h('p', { class: 'muted', id: 'users-empty' }, 'no SCRAM users') : table(['User', 'Mechanisms', ''], answer.users.map((user) => {
        const remove = h('button', { type: 'button', class: 'danger' }, 'Delete');
        const mechanism = user.credentials[0]?.mechanism ?? 'SCRAM-SHA-256';
        remove.addEventListener('click', () => api(`/console/api/users/${enc(user.user)}?mechanism=${enc(mechanism)}`, { method: 'DELETE' }).then(loadUsers, (error) => flash(errorText(error), 'error')));
        return [user.user, user.credentials.map((credential) => `${credential.mechanism} (${credential.iterations})`).join(', '), remove];
      }), { id: 'users-table' }));
    } catch (error) {
      replace(users, h('p', { class: 'muted', id: 'users-error' }, `users not available: ${errorText(error)}`));
    }
  };
  const aclForm = (() => {
    const principal = h('input', { id: 'acl-principal', placeholder: 'User:alice', value: 'User:' });
    const host = h('input', { id: 'acl-host', value: '*' });
    const operation = options(OPERATIONS, 'acl-operation');
    const permission = options(PERMISSIONS, 'acl-permission');
    permission.value = '3';
    const resourceType = options(RESOURCE_TYPES, 'acl-resource-type');
    const resourceName = h('input', { id: 'acl-resource-name', placeholder: 'resource name' });
    const patternType = options(PATTERN_TYPES, 'acl-pattern');
    const form = h('form', { id: 'acl-form', class: 'card' }, h('h3', {}, 'Add an ACL'), principal, host, operation, permission, resourceType, resourceName, patternType, h('button', { type: 'submit', id: 'acl-add' }, 'Add ACL'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await api('/console/api/acls', { method: 'POST', body: { principal: principal.value, host: host.value, operation: Number(operation.value), permissionType: Number(permission.value), resourceType: Number(resourceType.value), resourceName: resourceName.value, patternType: Number(patternType.value) } });
        flash('ACL added');
        await loadAcls();
      } catch (error) {
        flash(errorText(error), 'error');
      }
    });
    return form;
  })();
  const userForm = (() => {
    const user = h('input', { id: 'user-name', placeholder: 'user' });
    const password = h('input', { id: 'user-password', type: 'password', placeholder: 'password' });
    const mechanism = h('select', { id: 'user-mechanism' }, h('option', {}, 'SCRAM-SHA-256'), h('option', {}, 'SCRAM-SHA-512'));
    const form = h('form', { id: 'user-form', class: 'card' }, h('h3', {}, 'Add or change a SCRAM user'), user, password, mechanism, h('button', { type: 'submit', id: 'user-add' }, 'Save user'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await api('/console/api/users', { method: 'POST', body: { user: user.value, password: password.value, mechanism: mechanism.value } });
        flash(`Saved ${user.value}`);
        password.value = '';
        await loadUsers();
      } catch (error) {
        flash(errorText(error), 'error');
      }
    });
    return form;
  })();
  replace(root, h('h1', {}, 'ACLs & users'), h('h2', {}, 'ACLs'), acls, aclForm, h('h2', {}, 'SCRAM users'), users, userForm);
  await Promise.all([loadAcls(), loadUsers()]);
}

interface Connectors { configured: boolean; url?: string; connectors: { name: string; type: string | null; state: string | null; workerId: string | null; connectorClass: string | null; tasks: { id: number; state: string; workerId: string; trace: string | null }[] }[] }

export async function connectPage(root: HTMLElement): Promise<Cleanup> {
  const body = h('div', {});
  const load = async () => {
    const answer = await api<Connectors>('/console/api/connect/connectors');
    if (!answer.configured) return replace(body, h('p', { class: 'muted', id: 'connect-off' }, 'No Connect worker configured: set console.connect.url (broker) or --connect-url (conveyor console).'));
    replace(body, h('p', { class: 'muted' }, `Connect REST API at ${answer.url}`), answer.connectors.length === 0 ? h('p', { class: 'muted' }, 'no connectors') : table(['Connector', 'Type', 'Class', 'State', 'Worker', 'Tasks'], answer.connectors.map((connector) => [
      connector.name, connector.type ?? '', connector.connectorClass ?? '', h('span', { class: connector.state === 'RUNNING' ? 'ok' : 'warn' }, connector.state ?? '?'), connector.workerId ?? '',
      connector.tasks.map((task) => `${task.id}: ${task.state}`).join(', '),
    ]), { id: 'connectors-table' }));
  };
  replace(root, h('h1', {}, 'Connect'), body);
  await load();
  const timer = window.setInterval(() => load().catch(() => undefined), 5_000);
  return () => clearInterval(timer);
}
