// The controller's SCRAM credential decisions (AlterUserScramCredentials, KIP-554), as Kafka's
// ScramControlManager makes them: each user named in the request is one result, changed all or
// nothing; a user named twice (in any mix of deletions and upsertions) is DUPLICATE_RESOURCE; an
// empty name or too few or too many iterations is UNACCEPTABLE_CREDENTIAL; an unknown mechanism is
// UNSUPPORTED_SASL_MECHANISM; deleting a credential the user does not have is RESOURCE_NOT_FOUND.
// An upsertion carries the client's salt and salted password; the record keeps only the keys a
// server needs (RFC 5802's StoredKey and ServerKey), never the salted password.
import { ErrorCode } from '../base/error-codes.js';
import { SCRAM_MAX_ITERATIONS, SCRAM_MIN_ITERATIONS, scramMechanismByType, serverKeys } from '../base/scram.js';
import type { MetadataImage } from './metadata-image.js';
import type { MetadataRecord } from './metadata-record.js';

export interface ScramDeletion {
  name: string;
  mechanism: number;
}

export interface ScramUpsertion {
  name: string;
  mechanism: number;
  iterations: number;
  salt: Buffer;
  saltedPassword: Buffer;
}

export interface ScramAlterResult {
  user: string;
  errorCode: number;
  errorMessage: string | null;
}

type Problem = { errorCode: number; errorMessage: string };

const DUPLICATE: Problem = { errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: 'A user credential cannot be altered twice in the same request' };

function nameAndMechanismProblem(name: string, mechanism: number): Problem | undefined {
  if (name === '') return { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Username must not be empty' };
  if (scramMechanismByType(mechanism) === undefined) return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: 'Unknown SCRAM mechanism' };
  return undefined;
}

function deletionProblem(image: MetadataImage, deletion: ScramDeletion): Problem | undefined {
  const problem = nameAndMechanismProblem(deletion.name, deletion.mechanism);
  if (problem) return problem;
  if (image.scramCredential(deletion.name, deletion.mechanism) === undefined) {
    return { errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to delete a user credential that does not exist' };
  }
  return undefined;
}

function upsertionProblem(upsertion: ScramUpsertion): Problem | undefined {
  const problem = nameAndMechanismProblem(upsertion.name, upsertion.mechanism);
  if (problem) return problem;
  if (upsertion.iterations < SCRAM_MIN_ITERATIONS) return { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too few iterations' };
  if (upsertion.iterations > SCRAM_MAX_ITERATIONS) return { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too many iterations' };
  return undefined;
}

/** The records and per-user results of an AlterUserScramCredentials request against `image`. */
export function scramCredentialChanges(image: MetadataImage, deletions: readonly ScramDeletion[], upsertions: readonly ScramUpsertion[]): { records: MetadataRecord[]; results: ScramAlterResult[] } {
  const toDelete = new Map<string, ScramDeletion>();
  const toUpsert = new Map<string, ScramUpsertion>();
  const failed = new Map<string, Problem>();
  for (const deletion of deletions) {
    if (failed.has(deletion.name)) continue;
    if (toDelete.delete(deletion.name)) {
      failed.set(deletion.name, DUPLICATE);
      continue;
    }
    const problem = deletionProblem(image, deletion);
    if (problem) failed.set(deletion.name, problem);
    else toDelete.set(deletion.name, deletion);
  }
  for (const upsertion of upsertions) {
    if (failed.has(upsertion.name)) continue;
    if (toDelete.delete(upsertion.name) || toUpsert.delete(upsertion.name)) {
      failed.set(upsertion.name, DUPLICATE);
      continue;
    }
    const problem = upsertionProblem(upsertion);
    if (problem) failed.set(upsertion.name, problem);
    else toUpsert.set(upsertion.name, upsertion);
  }
  const records: MetadataRecord[] = [];
  const results: ScramAlterResult[] = [];
  for (const { name, mechanism } of toDelete.values()) {
    records.push({ type: 'RemoveUserScramCredential', name, mechanism });
    results.push({ user: name, errorCode: ErrorCode.NONE, errorMessage: null });
  }
  for (const { name, mechanism, iterations, salt, saltedPassword } of toUpsert.values()) {
    const keys = serverKeys(scramMechanismByType(mechanism)!, saltedPassword);
    records.push({ type: 'UserScramCredential', name, mechanism, salt: Buffer.from(salt), ...keys, iterations });
    results.push({ user: name, errorCode: ErrorCode.NONE, errorMessage: null });
  }
  for (const [user, { errorCode, errorMessage }] of failed) results.push({ user, errorCode, errorMessage });
  return { records, results };
}

export interface ScramDescribeResult {
  user: string;
  errorCode: number;
  errorMessage: string | null;
  credentialInfos: { mechanism: number; iterations: number }[];
}

/**
 * DescribeUserScramCredentials from a broker's image, as Kafka answers it: every user with a
 * credential when `users` is null or empty; else each named user once (RESOURCE_NOT_FOUND without a
 * credential; DUPLICATE_RESOURCE when named twice).
 */
export function describeScramCredentials(image: MetadataImage, users: readonly string[] | null): ScramDescribeResult[] {
  const infos = (name: string) => [...(image.scramCredentials.get(name) ?? [])].map(([mechanism, { iterations }]) => ({ mechanism, iterations }));
  if (users === null || users.length === 0) {
    return [...image.scramCredentials.keys()].map((user) => ({ user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: infos(user) }));
  }
  const counts = new Map<string, number>();
  for (const user of users) counts.set(user, (counts.get(user) ?? 0) + 1);
  return [...counts].map(([user, count]) => {
    if (count > 1) return { user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`, credentialInfos: [] };
    const credentialInfos = infos(user);
    if (credentialInfos.length === 0) return { user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos };
    return { user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos };
  });
}
