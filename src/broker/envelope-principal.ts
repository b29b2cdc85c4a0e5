// The client's principal in an Envelope (Kafka's DefaultKafkaPrincipalBuilder serialization): a
// broker that forwards a request to the active controller sends who asked, so the controller
// authorizes the request as the client's, not as the forwarding broker's. The bytes are an int16
// version, then DefaultPrincipalData (type, name, token-authenticated).
import { ProtocolError } from '../protocol/primitives/protocol-error.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import { decodeDefaultPrincipalData, encodeDefaultPrincipalData } from '../protocol/messages/records/default-principal-data.js';

const VERSION = 0;

/** `User:alice` as an Envelope's requestPrincipal bytes. */
export function serializePrincipal(principal: string): Buffer {
  const separator = principal.indexOf(':');
  const writer = new Writer();
  writer.writeInt16(VERSION);
  encodeDefaultPrincipalData(writer, VERSION, { type: principal.slice(0, separator), name: principal.slice(separator + 1), tokenAuthenticated: false });
  return writer.toBuffer();
}

/** The principal (`Type:name`) an Envelope carries; throws ProtocolError on bytes that are not one. */
export function deserializePrincipal(bytes: Buffer): string {
  const reader = new Reader(bytes);
  const version = reader.readInt16();
  if (version !== VERSION) throw new ProtocolError(`unknown principal data version ${version}`);
  const { type, name } = decodeDefaultPrincipalData(reader, version);
  return `${type}:${name}`;
}
