// The console with 10,000 topics and 1,000 consumer groups: the topics and groups pages load and
// filter within a bound, and never put more than a page of rows in the DOM (the server filters and
// pages). Topics are made with CreateTopics requests of 1,000 topics each, groups by committing an
// offset (OffsetCommit, generation -1) for each of 1,000 group ids.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { commitGroupOffsets } from '../../src/client/group-offsets.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { CreateTopicsApi } from '../../src/protocol/messages/index.js';
import { chromiumUnavailable, launchBrowser, screenshot } from '../support/browser.js';

const skip = chromiumUnavailable();
const TOPICS = 10_000;
const GROUPS = 1_000;
/** How long a page may take to show its first page of rows, or a filtered one. */
const BOUND_MS = 5_000;

const topicName = (index: number) => `scale-${String(index).padStart(5, '0')}`;
const groupName = (index: number) => `group-${String(index).padStart(4, '0')}`;

describe('the web console with 10,000 topics and 1,000 groups', { skip, timeout: 120_000 }, () => {
  let broker: RunningBroker;
  let browser: Browser;
  let page: Page;
  let base: string;

  before(async () => {
    broker = await startBroker({ port: 0, storage: 'memory', config: { 'console.listeners': 'http://127.0.0.1:0', 'offsets.topic.num.partitions': 1 }, consoleSampleIntervalMs: 60_000 });
    base = broker.consoleUrls[0]!;
    const cluster = new ClusterClient(connectTcp, broker.bootstrapServers);
    try {
      for (let start = 0; start < TOPICS; start += 1_000) {
        const response = await cluster.request(CreateTopicsApi, {
          topics: Array.from({ length: 1_000 }, (_, index) => ({ name: topicName(start + index), numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] })),
          timeoutMs: 30_000,
          validateOnly: false,
        }, { minVersion: 4 });
        assert.deepEqual(response.topics.filter((topic) => topic.errorCode !== ErrorCode.NONE).map((topic) => topic.name), []);
      }
      await Promise.all(Array.from({ length: GROUPS }, (_, index) => commitGroupOffsets(cluster, groupName(index), [{ topic: topicName(index), partition: 0, offset: 0 }])));
    } finally {
      cluster.close();
    }
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  after(async () => {
    await browser?.close();
    await broker?.close();
  });

  async function timed(what: string, action: () => Promise<unknown>): Promise<void> {
    const started = performance.now();
    await action();
    const elapsed = performance.now() - started;
    assert.ok(elapsed < BOUND_MS, `${what} took ${Math.round(elapsed)} ms (bound ${BOUND_MS} ms)`);
  }

  it('pages and filters 10,000 topics', async () => {
    await timed('the topics page', async () => {
      await page.goto(`${base}#/topics`);
      await page.locator('#topics-total', { hasText: `1-50 of 10,000 topics` }).waitFor({ timeout: BOUND_MS });
    });
    assert.equal(await page.locator('#topics-table tbody tr').count(), 50);
    await timed('the next page', async () => {
      await page.click('#topics-next');
      await page.locator('#topics-total', { hasText: '51-100 of 10,000 topics' }).waitFor({ timeout: BOUND_MS });
    });
    assert.equal(await page.locator('#topics-table tbody tr').first().textContent().then((text) => text?.slice(0, 11)), topicName(50));
    await timed('a filter', async () => {
      await page.fill('#topic-filter', 'scale-0999');
      await page.locator('#topics-total', { hasText: '1-10 of 10 topics' }).waitFor({ timeout: BOUND_MS });
    });
    await screenshot(page, 'scale-topics');
  });

  it('pages and filters 1,000 groups', async () => {
    await timed('the groups page', async () => {
      await page.goto(`${base}#/groups`);
      await page.locator('#groups-total', { hasText: '1-50 of 1,000 groups' }).waitFor({ timeout: BOUND_MS });
    });
    assert.equal(await page.locator('#groups-table tbody tr').count(), 50);
    await timed('a filter', async () => {
      await page.fill('#group-filter', 'group-099');
      await page.locator('#groups-total', { hasText: '1-10 of 10 groups' }).waitFor({ timeout: BOUND_MS });
    });
    await timed('a group', async () => {
      await page.click('#groups-table a:has-text("group-0990")');
      await page.locator('#lag-table tbody tr').first().waitFor({ timeout: BOUND_MS });
    });
    assert.match((await page.locator('#lag-table').textContent()) ?? '', /scale-0099000/);
    await screenshot(page, 'scale-groups');
  });

  it('keeps the overview fast', async () => {
    await timed('the overview', async () => {
      await page.goto(`${base}#/overview`);
      await page.locator('#stat-topics', { hasText: '10,000' }).waitFor({ timeout: BOUND_MS });
    });
  });
});
