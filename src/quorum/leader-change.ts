// The LeaderChange control record a new leader writes first in its epoch (Kafka's
// LeaderChangeMessage, control record type 2): the leader, the voters and those that granted it.
// The entry gives the epoch something of its own to commit, which is how the high watermark of a
// new leader can move at all.
import { Writer } from '../protocol/primitives/writer.js';
import { encodeControlRecordKey } from '../protocol/records/control-record.js';
import type { RecordInput } from '../protocol/records/record.js';

export const LEADER_CHANGE_CONTROL_TYPE = 2;
const LEADER_CHANGE_VERSION = 0;

export function leaderChangeRecord(leaderId: number, voters: readonly number[], grantingVoters: readonly number[], timestamp: number): RecordInput {
  const writer = new Writer();
  writer.writeInt16(LEADER_CHANGE_VERSION);
  // LeaderChangeMessage v0 (flexible): Version, LeaderId, Voters, GrantingVoters, tagged fields.
  writer.writeInt16(LEADER_CHANGE_VERSION);
  writer.writeInt32(leaderId);
  for (const list of [voters, grantingVoters]) {
    writer.writeCompactArrayLength(list.length);
    for (const voterId of list) {
      writer.writeInt32(voterId);
      writer.writeEmptyTaggedFields();
    }
  }
  writer.writeEmptyTaggedFields();
  return { key: encodeControlRecordKey(LEADER_CHANGE_CONTROL_TYPE), value: writer.toBuffer(), timestamp };
}
