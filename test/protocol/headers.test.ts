// Request and response headers: version rules (including the ControlledShutdown v0 and
// ApiVersions exceptions), the always-INT16 client id, and tag-buffer handling.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  type RequestHeader,
} from '../../src/protocol/headers.js';
import { ApiKey } from '../../src/protocol/messages/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';

const hex = (text: string): Buffer => Buffer.from(text.replaceAll(' ', ''), 'hex');

function encodeHeader(header: RequestHeader): Buffer {
  const writer = new Writer();
  encodeRequestHeader(writer, header);
  return writer.toBuffer();
}

describe('header versions', () => {
  it('follows flexibility of the request body', () => {
    assert.equal(requestHeaderVersion(ApiKey.Fetch, 11), 1);
    assert.equal(requestHeaderVersion(ApiKey.Fetch, 12), 2);
    assert.equal(requestHeaderVersion(ApiKey.ApiVersions, 3), 2);
    assert.equal(requestHeaderVersion(ApiKey.Metadata, 0), 1);
    assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 0), 0);
    assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 1), 1);
    assert.equal(requestHeaderVersion(9999, 0), 1);
  });

  it('answers ApiVersions with response header v0 even when flexible', () => {
    assert.equal(responseHeaderVersion(ApiKey.ApiVersions, 3), 0);
    assert.equal(responseHeaderVersion(ApiKey.Fetch, 12), 1);
    assert.equal(responseHeaderVersion(ApiKey.Fetch, 11), 0);
  });
});

describe('request header', () => {
  it('round trips v1 and v2, keeping the client id an INT16 string', () => {
    const v1 = { apiKey: ApiKey.Metadata, apiVersion: 1, correlationId: 7, clientId: 'app' };
    assert.deepEqual(encodeHeader(v1), hex('0003 0001 00000007 0003 617070'));
    const v2 = { apiKey: ApiKey.ApiVersions, apiVersion: 3, correlationId: 1, clientId: null };
    assert.deepEqual(encodeHeader(v2), hex('0012 0003 00000001 ffff 00'));
    for (const header of [v1, v2]) {
      const reader = new Reader(encodeHeader(header));
      assert.deepEqual(decodeRequestHeader(reader), header);
      assert.equal(reader.remaining, 0);
    }
  });

  it('reads ControlledShutdown v0 without a client id', () => {
    const header = { apiKey: ApiKey.ControlledShutdown, apiVersion: 0, correlationId: 3, clientId: null };
    assert.deepEqual(encodeHeader(header), hex('0007 0000 00000003'));
    assert.deepEqual(decodeRequestHeader(new Reader(hex('0007 0000 00000003'))), header);
  });

  it('skips header tagged fields of known flexible versions', () => {
    const reader = new Reader(hex('0001 000c 00000002 0001 41 01 05 02 aaaa ee'));
    assert.deepEqual(decodeRequestHeader(reader), { apiKey: 1, apiVersion: 12, correlationId: 2, clientId: 'A' });
    assert.equal(reader.readInt8(), -18);
  });

  it('leaves the tag buffer to the caller for unsupported versions and unknown keys', () => {
    for (const input of ['0012 0063 00000002 0000 00', '7000 0005 00000002 0000 00']) {
      const reader = new Reader(hex(input));
      decodeRequestHeader(reader);
      assert.equal(reader.remaining, 1);
    }
  });
});

describe('response header', () => {
  it('writes a tag buffer only in v1', () => {
    for (const [version, expected] of [[0, '0000002a'], [1, '0000002a 00']] as const) {
      const writer = new Writer();
      encodeResponseHeader(writer, version, 42);
      const bytes = writer.toBuffer();
      assert.deepEqual(bytes, hex(expected));
      const reader = new Reader(bytes);
      assert.deepEqual(decodeResponseHeader(reader, version), { correlationId: 42 });
      assert.equal(reader.remaining, 0);
    }
  });
});
