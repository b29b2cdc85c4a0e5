// Hand-written runtime support shared by the generated codecs in this folder: the default
// values of UUID and bytes fields, and the errors for nulls where a version allows none.
import { ProtocolError } from '../primitives/protocol-error.js';

/** Kafka's zero UUID in base64url form: the default of every uuid field. */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** The default of non-nullable bytes fields; zero length, so sharing it is safe. */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

/** A null array on the wire in a version where the field is not nullable. */
export function nullField(field: string): ProtocolError {
  return new ProtocolError(`non-nullable field ${field} is null`);
}

/** Refuses to encode null into a field that the chosen version cannot represent as null. */
export function nonNull<T>(value: T | null, field: string): T {
  if (value === null) throw new ProtocolError(`field ${field} is null in a version where it is not nullable`);
  return value;
}
