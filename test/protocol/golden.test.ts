// Golden bytes captured from real clients (test/protocol/capture/capture.ts first-frames): each
// first frame decodes to the values the client sent, and re-encoding header and body gives the
// same bytes. The frames of whole client sessions (Produce, Fetch, groups, transactions, admin)
// are checked in client-frames.test.ts; golden/index.json lists both kinds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeRequestHeader, encodeRequestHeader, type RequestHeader } from '../../src/protocol/headers.js';
import { apiDescriptor } from '../../src/protocol/messages/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';

interface Golden {
  readonly file: string;
  readonly header: RequestHeader;
  readonly body: unknown;
}

const API_VERSIONS_V0_2 = { clientSoftwareName: '', clientSoftwareVersion: '' };

const GOLDEN: Golden[] = [
  {
    file: 'kafkajs-api-versions',
    header: { apiKey: 18, apiVersion: 2, correlationId: 0, clientId: 'conveyor-capture' },
    body: API_VERSIONS_V0_2,
  },
  {
    file: 'kcat-api-versions',
    header: { apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'rdkafka' },
    body: { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' },
  },
  {
    file: 'platformatic-api-versions',
    header: { apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'conveyor-capture' },
    body: { clientSoftwareName: 'platformatic-kafka', clientSoftwareVersion: '2.12.1' },
  },
  {
    file: 'kafka-python-api-versions',
    header: { apiKey: 18, apiVersion: 0, correlationId: 1, clientId: 'conveyor-capture' },
    body: API_VERSIONS_V0_2,
  },
  {
    file: 'kafka-python-metadata',
    header: { apiKey: 3, apiVersion: 0, correlationId: 2, clientId: 'conveyor-capture' },
    body: { topics: [], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false },
  },
];

function frameOf(file: string): Buffer {
  return Buffer.from(readFileSync(new URL(`golden/${file}.hex`, import.meta.url), 'utf8').trim(), 'hex');
}

describe('golden request frames from real clients', () => {
  it('covers every first frame golden/index.json lists', () => {
    const index = JSON.parse(readFileSync(new URL('golden/index.json', import.meta.url), 'utf8')) as { file: string; source: string }[];
    const listed = index.filter((entry) => entry.source === 'first-frame').map((entry) => entry.file);
    assert.deepEqual(listed.sort(), GOLDEN.map((golden) => golden.file).sort());
  });

  for (const golden of GOLDEN) {
    it(`${golden.file} decodes and re-encodes byte for byte`, () => {
      const frame = frameOf(golden.file);
      const reader = new Reader(frame);
      assert.equal(reader.readInt32(), frame.length - 4, 'frame size');
      const header = decodeRequestHeader(reader);
      assert.deepEqual(header, golden.header);
      const api = apiDescriptor(header.apiKey);
      assert.ok(api !== undefined);
      const body = api.decodeRequest(reader, header.apiVersion);
      assert.equal(reader.remaining, 0, 'no trailing bytes');
      assert.deepEqual(body, golden.body);

      const writer = new Writer();
      writer.writeInt32(0);
      encodeRequestHeader(writer, header);
      api.encodeRequest(writer, header.apiVersion, body);
      writer.patchInt32(0, writer.length - 4);
      assert.deepEqual(writer.toBuffer(), frame);
    });
  }
});
