// The web console in a real browser (Debian's headless Chromium through playwright-core) against
// a live broker serving it on console.listeners: each page is clicked through, a topic created in
// the page is seen by kafkajs, a record produced in the page is read back in the page and tailed
// live, a kafkajs consumer group's lag shows and is reset, a SCRAM user is added, and a topic is
// deleted. Screenshots land in test-results/console/.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { chromiumUnavailable, launchBrowser, screenshot } from '../support/browser.js';
import { kafkajsClient } from '../support/kafkajs.js';
import { waitFor } from '../support/wait.js';

const skip = chromiumUnavailable();

describe('the web console in headless Chromium', { skip, timeout: 60_000 }, () => {
  let broker: RunningBroker;
  let browser: Browser;
  let page: Page;
  let base: string;
  const kafka = () => kafkajsClient(broker.bootstrapServers, 'console-test');

  before(async () => {
    broker = await startBroker({ port: 0, storage: 'memory', config: { 'console.listeners': 'http://127.0.0.1:0', 'metrics.listeners': 'http://127.0.0.1:0', 'offsets.topic.num.partitions': 1, 'group.initial.rebalance.delay.ms': 0 }, consoleSampleIntervalMs: 1_000 });
    base = broker.consoleUrls[0]!;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('dialog', (dialog) => void dialog.accept());
  });

  after(async () => {
    await browser?.close();
    await broker?.close();
  });

  it('shows the overview: brokers, controller, quorum and partition health', async () => {
    await page.goto(`${base}#/overview`);
    await page.locator('#brokers-table').waitFor();
    assert.equal(await page.locator('#stat-brokers').textContent(), '1');
    assert.equal(await page.locator('#controller-id').textContent(), String(broker.nodeId));
    assert.equal(await page.locator('#quorum-leader').textContent(), String(broker.nodeId));
    assert.equal(await page.locator('#stat-offline').textContent(), '0');
    await screenshot(page, 'overview');
  });

  it('creates a topic in the page that a Kafka client then sees', async () => {
    await page.goto(`${base}#/topics`);
    await page.locator('#topics-total').waitFor();
    await page.fill('#create-name', 'ui-created');
    await page.fill('#create-partitions', '3');
    await page.fill('#create-configs', 'retention.ms=3600000');
    await page.click('#create-submit');
    await page.locator('#topics-table a', { hasText: 'ui-created' }).waitFor();
    const admin = kafka().admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: ['ui-created'] });
      assert.equal(metadata.topics[0]!.partitions.length, 3);
      const configs = await admin.describeConfigs({ resources: [{ type: 2, name: 'ui-created', configNames: ['retention.ms'] }], includeSynonyms: false });
      assert.equal(configs.resources[0]!.configEntries[0]!.configValue, '3600000');
    } finally {
      await admin.disconnect();
    }
    await page.fill('#topic-filter', 'ui-cre');
    await waitFor('the filtered list', async () => ((await page.locator('#topics-total').textContent()) === '1-1 of 1 topics' ? true : undefined));
    await screenshot(page, 'topics');
  });

  it('shows partitions and configs, produces a record and reads it back as JSON, text and hex', async () => {
    await page.click('#topics-table a:has-text("ui-created")');
    await page.locator('#partitions-table').waitFor();
    assert.equal(await page.locator('#topic-name').textContent(), 'ui-created');
    assert.equal(await page.locator('#partitions-table tbody tr').count(), 3);
    assert.match((await page.locator('#configs-table').textContent()) ?? '', /retention\.ms3600000DYNAMIC_TOPIC_CONFIG/);

    await page.selectOption('#produce-partition', '1');
    await page.fill('#produce-key', 'order-1');
    await page.fill('#produce-value', '{"hello":"world","n":1}');
    await page.fill('#produce-headers', 'source=console');
    await page.click('#produce-send');
    await waitFor('the produce answer', async () => ((await page.locator('#produce-result').textContent()) === 'written to partition 1 at offset 0' ? true : undefined));

    await page.selectOption('#msg-partition', '1');
    await page.click('#msg-read');
    await page.locator('#records-table').waitFor();
    const row = (await page.locator('#records-table tbody tr').first().textContent()) ?? '';
    assert.match(row, /^0/);
    assert.match(row, /order-1/);
    assert.match(row, /"hello": "world"/);
    assert.match(row, /source: console/);
    await page.selectOption('#msg-view', 'hex');
    assert.match((await page.locator('#records-table tbody tr').first().textContent()) ?? '', /6f 72 64 65 72 2d 31/); // "order-1"
    await page.selectOption('#msg-view', 'auto');

    // The record is really in the log: kafkajs reads it.
    const consumer = kafka().consumer({ groupId: 'console-reader' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'ui-created', fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(`${message.key?.toString()}=${message.value?.toString()}`) });
    await waitFor('kafkajs to read the record', () => (seen.length > 0 ? true : undefined), 20_000);
    await consumer.disconnect();
    assert.deepEqual(seen, ['order-1={"hello":"world","n":1}']);
    await screenshot(page, 'messages');
  });

  it('tails the topic live as a Kafka client produces to it', async () => {
    await page.click('#tail-toggle');
    await waitFor('the event stream to open', async () => ((await page.locator('#tail-toggle').getAttribute('data-open')) === 'true' ? true : undefined));
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({ topic: 'ui-created', messages: [{ partition: 2, key: 'live', value: 'tailed text', headers: { via: 'kafkajs' } }] });
    await producer.disconnect();
    await page.locator('#tail-table tbody tr', { hasText: 'tailed text' }).waitFor({ timeout: 10_000 });
    const cells = await page.locator('#tail-table tbody tr').first().locator('td').allTextContents();
    assert.deepEqual([cells[0], cells[1], cells[3], cells[4], cells[5]], ['2', '0', 'live', 'tailed text', 'via: kafkajs']);
    await screenshot(page, 'live-tail');
    await page.click('#tail-toggle');
  });

  it("shows a kafkajs consumer group's lag per partition, over time, and resets it", async () => {
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'lagging', numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka().producer();
    await producer.connect();
    const batch = (from: number, count: number) => Array.from({ length: count }, (_, index) => ({ partition: (from + index) % 2, value: `m${from + index}` }));
    await producer.send({ topic: 'lagging', messages: batch(0, 10) });
    const consumer = kafka().consumer({ groupId: 'ui-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'lagging', fromBeginning: true });
    let consumed = 0;
    await consumer.run({ eachMessage: async () => void consumed++ });
    await waitFor('the group to consume 10 records', () => (consumed >= 10 ? true : undefined), 20_000);
    await consumer.disconnect(); // commits what it consumed and leaves: the group is empty
    await producer.send({ topic: 'lagging', messages: batch(10, 6) });
    await producer.disconnect();

    await page.goto(`${base}#/groups`);
    await page.fill('#group-filter', 'ui-gr');
    await page.locator('#groups-table a', { hasText: 'ui-group' }).waitFor();
    await page.click('#groups-table a:has-text("ui-group")');
    await waitFor('the lag of 6', async () => ((await page.locator('#total-lag').textContent()) === '6' ? true : undefined), 15_000);
    assert.equal(await page.locator('#lag-table tbody tr').count(), 2);
    assert.match((await page.locator('#lag-table').textContent()) ?? '', /lagging05\d+3/);
    // Lag over time: the server samples the group once it was looked at; the page redraws every 5 s.
    await page.locator('#lag-chart polyline').waitFor({ state: 'attached', timeout: 15_000 });
    await screenshot(page, 'group');

    await page.selectOption('#reset-to', 'latest');
    await page.click('#reset-run');
    await waitFor('the lag to be 0', async () => ((await page.locator('#total-lag').textContent()) === '0' ? true : undefined));
    const offsets = await admin.fetchOffsets({ groupId: 'ui-group', topics: ['lagging'] });
    assert.deepEqual(offsets[0]!.partitions.map((entry) => entry.offset).sort(), ['8', '8']);
    await admin.disconnect();
  });

  it("draws the live charts from the sampled high watermarks and the broker's own metrics", async () => {
    await page.goto(`${base}#/charts`);
    // Attached, not visible: a flat line has no height, which Playwright counts as hidden.
    await page.locator('#throughput-chart polyline').waitFor({ state: 'attached', timeout: 10_000 });
    await page.locator('#latency-chart polyline').waitFor({ state: 'attached' });
    // The broker counts metrics (metrics.listeners): its own produce request times are charted too.
    await page.locator('#broker-latency-chart polyline').first().waitFor({ state: 'attached', timeout: 10_000 });
    await page.locator('#broker-bytes-chart polyline').first().waitFor({ state: 'attached' });
    await screenshot(page, 'charts');
  });

  it('lists SCRAM users and adds one; says why ACLs are unavailable without an authorizer', async () => {
    await page.goto(`${base}#/security`);
    await page.locator('#acls-error').waitFor();
    assert.match((await page.locator('#acls-error').textContent()) ?? '', /SECURITY_DISABLED/);
    await page.fill('#user-name', 'alice');
    await page.fill('#user-password', 'alice-secret');
    await page.click('#user-add');
    await page.locator('#users-table tbody tr', { hasText: 'alice' }).waitFor();
    assert.match((await page.locator('#users-table').textContent()) ?? '', /aliceSCRAM-SHA-256 \(8192\)/);
    await screenshot(page, 'security');
  });

  it('says when no Connect worker is configured', async () => {
    await page.goto(`${base}#/connect`);
    await page.locator('#connect-off').waitFor();
  });

  it('deletes a topic from its page', async () => {
    await page.goto(`${base}#/topic/ui-created`);
    await page.locator('#delete-topic').click();
    await waitFor('the topics page', async () => (page.url().endsWith('#/topics') ? true : undefined));
    const admin = kafka().admin();
    await admin.connect();
    try {
      await waitFor('the topic to be gone', async () => (!(await admin.listTopics()).includes('ui-created') ? true : undefined));
    } finally {
      await admin.disconnect();
    }
  });
});
