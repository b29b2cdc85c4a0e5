// Request and response headers of the Kafka protocol, and which header version an API version
// uses. Header versions follow the body's flexibility, with Kafka's two historical exceptions.
import { ApiKey, apiVersionRanges } from './messages/index.js';
import type { Reader } from './primitives/reader.js';
import type { Writer } from './primitives/writer.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export interface ResponseHeader {
  correlationId: number;
}

/** Whether a known API uses compact encodings and tag buffers at this version. */
export function isFlexibleVersion(apiKey: number, apiVersion: number): boolean {
  const api = apiVersionRanges[apiKey];
  return api !== undefined && apiVersion >= api.firstFlexibleVersion;
}

function isKnownVersion(apiKey: number, apiVersion: number): boolean {
  const api = apiVersionRanges[apiKey];
  return api !== undefined && apiVersion >= api.minVersion && apiVersion <= api.maxVersion;
}

/** 2 for flexible versions, else 1; ControlledShutdown v0 predates the client id and uses 0. */
export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === ApiKey.ControlledShutdown && apiVersion === 0) return 0;
  return isFlexibleVersion(apiKey, apiVersion) ? 2 : 1;
}

/** 1 for flexible versions, else 0; ApiVersions always answers with 0 so any client can parse it. */
export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === ApiKey.ApiVersions) return 0;
  return isFlexibleVersion(apiKey, apiVersion) ? 1 : 0;
}

/**
 * Reads a request header. The client id is always an INT16-length string, even in header v2.
 * The header's tag buffer is skipped only for a known API at a supported flexible version: for
 * anything else the caller decides (usually by answering ApiVersions or closing the connection).
 */
export function decodeRequestHeader(reader: Reader): RequestHeader {
  const apiKey = reader.readInt16();
  const apiVersion = reader.readInt16();
  const correlationId = reader.readInt32();
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  const clientId = headerVersion === 0 ? null : reader.readNullableString();
  if (headerVersion === 2 && isKnownVersion(apiKey, apiVersion)) reader.skipTaggedFields();
  return { apiKey, apiVersion, correlationId, clientId };
}

export function encodeRequestHeader(writer: Writer, header: RequestHeader): void {
  const headerVersion = requestHeaderVersion(header.apiKey, header.apiVersion);
  writer.writeInt16(header.apiKey);
  writer.writeInt16(header.apiVersion);
  writer.writeInt32(header.correlationId);
  if (headerVersion >= 1) writer.writeNullableString(header.clientId);
  if (headerVersion >= 2) writer.writeEmptyTaggedFields();
}

export function encodeResponseHeader(writer: Writer, headerVersion: number, correlationId: number): void {
  writer.writeInt32(correlationId);
  if (headerVersion >= 1) writer.writeEmptyTaggedFields();
}

export function decodeResponseHeader(reader: Reader, headerVersion: number): ResponseHeader {
  const correlationId = reader.readInt32();
  if (headerVersion >= 1) reader.skipTaggedFields();
  return { correlationId };
}
