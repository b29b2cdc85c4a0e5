// Topics: the list (filtered and paged by the server), creating one, and one topic's page with
// its partitions, configs and the message browser (read by offset or timestamp, live tail, produce).
import { api, enc, v3 } from './api';
import { bytes, hexToBase64, number, show, time, type View } from './format';
import { debounce, h, link, replace, table } from './dom';
import { errorText, flash, type Cleanup } from './ui';

interface TopicRow { name: string; internal: boolean; partitions: number; replicationFactor: number; underReplicated: number; offline: number }
interface Page<T> { total: number; offset: number; limit: number; items: T[] }
interface Partition { partition: number; leader: number; replicas: number[]; isr: number[]; earliest: number; latest: number; size: number | null }
interface Topic { name: string; topicId: string; internal: boolean; partitions: Partition[]; size: number; configs: { name: string; value: string | null; source: string; readOnly: boolean; sensitive: boolean }[] }
interface Record_ { offset: number; timestamp: number; key: string | null; value: string | null; headers: { name: string; value: string | null }[]; partition?: number }

const PAGE_SIZE = 50;
const listState = { filter: '', offset: 0, internal: false, fresh: false };

export async function topicsPage(root: HTMLElement): Promise<void> {
  const rows = h('div', { id: 'topics-rows' });
  const summary = h('span', { id: 'topics-total', class: 'muted' });
  const filter = h('input', { id: 'topic-filter', type: 'search', placeholder: 'filter by name', value: listState.filter });
  const internal = h('input', { id: 'topic-internal', type: 'checkbox' });
  internal.checked = listState.internal;
  const previous = h('button', { id: 'topics-prev', type: 'button' }, 'Previous');
  const next = h('button', { id: 'topics-next', type: 'button' }, 'Next');
  const load = async () => {
    const page = await api<Page<TopicRow>>(`/console/api/topics?filter=${enc(listState.filter)}&offset=${listState.offset}&limit=${PAGE_SIZE}&internal=${listState.internal}${listState.fresh ? '&fresh=1' : ''}`);
    listState.fresh = false;
    replace(summary, page.total === 0 ? 'no topics match' : `${page.offset + 1}-${page.offset + page.items.length} of ${number(page.total)} topics`);
    previous.disabled = page.offset === 0;
    next.disabled = page.offset + page.items.length >= page.total;
    replace(rows, table(['Topic', 'Partitions', 'Replication', 'Under-replicated', 'Offline'], page.items.map((topic) => [
      link(`#/topic/${enc(topic.name)}`, topic.name, topic.internal ? h('span', { class: 'tag' }, 'internal') : null),
      topic.partitions, topic.replicationFactor,
      h('span', { class: topic.underReplicated > 0 ? 'warn' : '' }, topic.underReplicated),
      h('span', { class: topic.offline > 0 ? 'error' : '' }, topic.offline),
    ]), { id: 'topics-table' }));
  };
  const reload = () => load().catch((error) => flash(errorText(error), 'error'));
  filter.addEventListener('input', debounce(() => { listState.filter = filter.value; listState.offset = 0; reload(); }, 200));
  internal.addEventListener('change', () => { listState.internal = internal.checked; listState.offset = 0; reload(); });
  previous.addEventListener('click', () => { listState.offset = Math.max(0, listState.offset - PAGE_SIZE); reload(); });
  next.addEventListener('click', () => { listState.offset += PAGE_SIZE; reload(); });
  replace(root, h('h1', {}, 'Topics'), h('div', { class: 'toolbar' }, filter, h('label', {}, internal, ' internal topics'), previous, next, summary), rows, createTopicForm(reload));
  await load();
}

function createTopicForm(reload: () => void): HTMLElement {
  const name = h('input', { id: 'create-name', name: 'name', placeholder: 'name', required: true });
  const partitions = h('input', { id: 'create-partitions', type: 'number', min: 1, value: 1 });
  const replication = h('input', { id: 'create-replication', type: 'number', min: 1, value: 1 });
  const configs = h('input', { id: 'create-configs', placeholder: 'configs: key=value, ...' });
  const form = h('form', { id: 'create-topic', class: 'card' }, h('h2', {}, 'Create a topic'), name, h('label', {}, 'partitions ', partitions), h('label', {}, 'replication factor ', replication), configs, h('button', { type: 'submit', id: 'create-submit' }, 'Create topic'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const entries = configs.value.split(',').map((entry) => entry.trim()).filter((entry) => entry.includes('='));
    try {
      await api(await v3('/topics'), { method: 'POST', body: { topic_name: name.value, partitions_count: Number(partitions.value), replication_factor: Number(replication.value), configs: entries.map((entry) => ({ name: entry.slice(0, entry.indexOf('=')).trim(), value: entry.slice(entry.indexOf('=') + 1).trim() })) } });
      flash(`Created topic ${name.value}`);
      name.value = '';
      listState.fresh = true;
      reload();
    } catch (error) {
      flash(errorText(error), 'error');
    }
  });
  return form;
}

export async function topicPage(root: HTMLElement, name: string): Promise<Cleanup> {
  const topic = await api<Topic>(`/console/api/topics/${enc(name)}`);
  const remove = h('button', { id: 'delete-topic', type: 'button', class: 'danger' }, 'Delete topic');
  remove.addEventListener('click', async () => {
    if (!confirm(`Delete topic ${name} and all its records?`)) return;
    try {
      await api(await v3(`/topics/${enc(name)}`), { method: 'DELETE' });
      flash(`Deleted topic ${name}`);
      listState.fresh = true;
      location.hash = '#/topics';
    } catch (error) {
      flash(errorText(error), 'error');
    }
  });
  const browser = messageBrowser(topic);
  replace(
    root,
    h('h1', {}, 'Topic ', h('span', { id: 'topic-name' }, topic.name)),
    h('p', { class: 'muted' }, `id ${topic.topicId} - ${topic.partitions.length} partitions - ${bytes(topic.size)} on the leaders`, ' ', remove),
    h('h2', {}, 'Partitions'),
    table(['Partition', 'Leader', 'Replicas', 'ISR', 'Earliest', 'Latest', 'Records', 'Size'], topic.partitions.map((partition) => [
      partition.partition, partition.leader < 0 ? h('span', { class: 'error' }, 'none') : partition.leader, partition.replicas.join(', '),
      h('span', { class: partition.isr.length < partition.replicas.length ? 'warn' : '' }, partition.isr.join(', ')),
      partition.earliest, partition.latest, Math.max(0, partition.latest - partition.earliest), bytes(partition.size),
    ]), { id: 'partitions-table' }),
    browser.element,
    h('h2', {}, 'Configs'),
    table(['Name', 'Value', 'Source'], topic.configs.map((config) => [config.name, config.sensitive ? '(sensitive)' : (config.value ?? ''), h('span', { class: config.source === 'DEFAULT_CONFIG' ? 'muted' : '' }, config.source)]), { id: 'configs-table' }),
  );
  return browser.cleanup;
}

function recordRows(records: Record_[], view: View, withPartition: boolean) {
  return records.map((record) => [
    ...(withPartition ? [record.partition ?? ''] : []),
    record.offset,
    time(record.timestamp),
    h('pre', {}, show(record.key, view)),
    h('pre', {}, show(record.value, view)),
    h('pre', {}, record.headers.map((header) => `${header.name}: ${header.value === null ? 'null' : show(header.value, 'text')}`).join('\n')),
  ]);
}

/** Reads records of one partition, tails the topic live (server-sent events) and produces a record. */
function messageBrowser(topic: Topic): { element: HTMLElement; cleanup: Cleanup } {
  const partition = h('select', { id: 'msg-partition' }, topic.partitions.map((entry) => h('option', { value: entry.partition }, `partition ${entry.partition}`)));
  const mode = h('select', { id: 'msg-mode' }, h('option', { value: 'beginning' }, 'from the beginning'), h('option', { value: 'end' }, 'the newest'), h('option', { value: 'offset' }, 'from offset'), h('option', { value: 'timestamp' }, 'from time (ISO or ms)'));
  const from = h('input', { id: 'msg-from', placeholder: 'offset or time' });
  const limit = h('input', { id: 'msg-limit', type: 'number', min: 1, max: 500, value: 50 });
  const view = h('select', { id: 'msg-view' }, ['auto', 'json', 'text', 'hex'].map((entry) => h('option', { value: entry }, entry)));
  const read = h('button', { id: 'msg-read', type: 'button' }, 'Read');
  const older = h('button', { id: 'msg-more', type: 'button' }, 'Next page');
  const results = h('div', { id: 'records' });
  let last: Record_[] = [];
  let nextOffset = 0;
  const load = async (offsetOverride?: number) => {
    const count = Math.max(1, Number(limit.value) || 50);
    const info = topic.partitions.find((entry) => entry.partition === Number(partition.value));
    let query = `limit=${count}`;
    if (offsetOverride !== undefined) query += `&offset=${offsetOverride}`;
    else if (mode.value === 'offset') query += `&offset=${Number(from.value) || 0}`;
    else if (mode.value === 'end') query += `&offset=${Math.max(info?.earliest ?? 0, (info?.latest ?? 0) - count)}`;
    else if (mode.value === 'timestamp') query += `&timestamp=${/^\d+$/.test(from.value) ? from.value : Date.parse(from.value)}`;
    const answer = await api<{ records: Record_[]; nextOffset: number; latest: number }>(`/console/api/topics/${enc(topic.name)}/partitions/${partition.value}/records?${query}&timeout_ms=500`);
    last = answer.records;
    nextOffset = answer.nextOffset;
    renderRecords();
  };
  const renderRecords = () => replace(results, last.length === 0 ? h('p', { class: 'muted', id: 'records-empty' }, 'no records there') : table(['Offset', 'Timestamp', 'Key', 'Value', 'Headers'], recordRows(last, view.value as View, false), { id: 'records-table' }));
  read.addEventListener('click', () => load().catch((error) => flash(errorText(error), 'error')));
  older.addEventListener('click', () => load(nextOffset).catch((error) => flash(errorText(error), 'error')));
  view.addEventListener('change', () => { renderRecords(); renderTail(); });

  // Live tail: the newest records first, at most 200 kept.
  const tailToggle = h('button', { id: 'tail-toggle', type: 'button' }, 'Start live tail');
  const tailList = h('div', { id: 'tail' });
  const tailed: Record_[] = [];
  let source: EventSource | undefined;
  const renderTail = () => replace(tailList, source === undefined && tailed.length === 0 ? null : table(['Partition', 'Offset', 'Timestamp', 'Key', 'Value', 'Headers'], recordRows(tailed, view.value as View, true), { id: 'tail-table' }));
  const stopTail = () => {
    source?.close();
    source = undefined;
    tailToggle.textContent = 'Start live tail';
  };
  tailToggle.addEventListener('click', async () => {
    if (source !== undefined) return stopTail();
    // REST Proxy v3's record stream (Conveyor's consume endpoint): new records of every partition.
    source = new EventSource(await v3(`/topics/${enc(topic.name)}/records:stream?from=end`));
    source.addEventListener('open', () => tailToggle.setAttribute('data-open', 'true'));
    source.addEventListener('record', (event) => {
      tailed.unshift(fromStream(JSON.parse((event as MessageEvent<string>).data) as StreamedRecord));
      if (tailed.length > 200) tailed.pop();
      renderTail();
    });
    source.addEventListener('error', () => tailToggle.setAttribute('data-error', 'true'));
    tailToggle.textContent = 'Stop live tail';
    renderTail();
  });

  const element = h('section', { class: 'card', id: 'message-browser' },
    h('h2', {}, 'Messages'),
    h('div', { class: 'toolbar' }, partition, mode, from, h('label', {}, 'max ', limit), h('label', {}, 'show as ', view), read, older),
    results,
    h('h3', {}, 'Live tail ', tailToggle),
    tailList,
    produceForm(topic),
  );
  return { element, cleanup: stopTail };
}

interface Data { type: 'JSON' | 'STRING' | 'BINARY'; data: unknown }
interface StreamedRecord { partition_id: number; offset: number; timestamp: number; key: Data | null; value: Data | null; headers: { name: string; value: string | null }[] }

/** A v3 record ({type, data} key and value) as the browser's rows take it (base64 bytes); JSON is shown re-serialized. */
function fromStream(record: StreamedRecord): Record_ {
  const base64 = (data: Data | null) => (data === null ? null : data.type === 'BINARY' ? String(data.data) : utf8Base64(data.type === 'JSON' ? JSON.stringify(data.data) : String(data.data)));
  return { partition: record.partition_id, offset: record.offset, timestamp: record.timestamp, key: base64(record.key), value: base64(record.value), headers: record.headers };
}

function produceForm(topic: Topic): HTMLElement {
  const partition = h('select', { id: 'produce-partition' }, h('option', { value: '' }, 'partitioner decides'), topic.partitions.map((entry) => h('option', { value: entry.partition }, `partition ${entry.partition}`)));
  const encoding = h('select', { id: 'produce-encoding' }, h('option', { value: 'text' }, 'text / JSON'), h('option', { value: 'hex' }, 'hex'));
  const key = h('input', { id: 'produce-key', placeholder: 'key (empty: null)' });
  const value = h('textarea', { id: 'produce-value', placeholder: 'value', rows: 3 });
  const headers = h('textarea', { id: 'produce-headers', placeholder: 'headers: one name=value a line', rows: 2 });
  const result = h('span', { id: 'produce-result', class: 'muted' });
  const form = h('form', { id: 'produce' }, h('h3', {}, 'Produce a message'), h('div', { class: 'toolbar' }, partition, encoding, key), value, headers, h('button', { type: 'submit', id: 'produce-send' }, 'Produce'), ' ', result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const hex = encoding.value === 'hex';
    // REST Proxy v3's record: key and value as {type, data} (BINARY data is base64), headers' values base64.
    const data = (text: string) => (text === '' ? null : hex ? { type: 'BINARY', data: hexToBase64(text) } : { type: 'STRING', data: text });
    try {
      const answer = await api<{ error_code: number; message?: string; partition_id: number; offset: number }>(await v3(`/topics/${enc(topic.name)}/records`), {
        method: 'POST',
        body: {
          ...(partition.value === '' ? {} : { partition_id: Number(partition.value) }),
          key: data(key.value),
          value: data(value.value),
          headers: headers.value.split('\n').filter((line) => line.includes('=')).map((line) => ({ name: line.slice(0, line.indexOf('=')).trim(), value: utf8Base64(line.slice(line.indexOf('=') + 1)) })),
        },
      });
      if (answer.error_code !== 200) throw new Error(answer.message ?? `error ${answer.error_code}`);
      const written = { partition: answer.partition_id, offset: answer.offset };
      replace(result, `written to partition ${written.partition} at offset ${written.offset}`);
      result.className = 'ok';
    } catch (error) {
      replace(result, errorText(error));
      result.className = 'error';
    }
  });
  return form;
}

function utf8Base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}
