import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import { saltedPassword, scramMechanismByType, serverKeys } from '../base/scram.js';
import { MetadataImage } from './metadata-image.js';
import { imageRecords } from './image-records.js';
import { describeScramCredentials, scramCredentialChanges, type ScramUpsertion } from './scram-credentials.js';

const upsert = (name: string, mechanism = 1, iterations = 8192): ScramUpsertion => {
  const salt = Buffer.from(`salt of ${name}`);
  return { name, mechanism, iterations, salt, saltedPassword: saltedPassword(scramMechanismByType(mechanism) ?? scramMechanismByType(1)!, `${name}-secret`, salt, 4096) };
};

function applied(image: MetadataImage, deletions: Parameters<typeof scramCredentialChanges>[1], upsertions: ScramUpsertion[]) {
  const { records, results } = scramCredentialChanges(image, deletions, upsertions);
  for (const record of records) image.apply(record);
  return results;
}

describe('SCRAM credential changes', () => {
  it('stores the stored and server keys of the salted password, never the salted password, and replaces them on a new upsertion', () => {
    const image = new MetadataImage();
    const alice = upsert('alice', 2);
    assert.deepEqual(applied(image, [], [alice]), [{ user: 'alice', errorCode: ErrorCode.NONE, errorMessage: null }]);
    const stored = image.scramCredential('alice', 2)!;
    assert.deepEqual(stored, { salt: alice.salt, iterations: 8192, ...serverKeys(scramMechanismByType(2)!, alice.saltedPassword) });
    const { records } = scramCredentialChanges(image, [], [alice]);
    assert.ok(!JSON.stringify(records).includes(alice.saltedPassword.toString('hex')));
    assert.ok(!Object.values(records[0]!).some((value) => Buffer.isBuffer(value) && value.equals(alice.saltedPassword)));
    applied(image, [], [{ ...upsert('alice', 2, 10000) }]);
    assert.equal(image.scramCredential('alice', 2)!.iterations, 10000);
  });

  it("answers Kafka's errors per user, and a failing user changes nothing while others go through", () => {
    const image = new MetadataImage();
    applied(image, [], [upsert('bob', 1), upsert('dave', 1)]);
    applied(image, [], [upsert('dave', 2)]);
    const results = applied(image, [{ name: 'carol', mechanism: 1 }, { name: 'bob', mechanism: 2 }, { name: 'dave', mechanism: 1 }, { name: 'dave', mechanism: 2 }], [
      upsert('', 1),
      upsert('erin', 3),
      upsert('frank', 1, 4095),
      upsert('grace', 2, 16385),
      upsert('heidi', 1, 4096),
      upsert('heidi', 2, 4096),
      upsert('ivan', 2, 16384),
    ]);
    const byUser = Object.fromEntries(results.map(({ user, errorCode, errorMessage }) => [user, [errorCode, errorMessage]]));
    assert.deepEqual(byUser, {
      carol: [ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist'],
      bob: [ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist'],
      dave: [ErrorCode.DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request'],
      '': [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty'],
      erin: [ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism'],
      frank: [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations'],
      grace: [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations'],
      heidi: [ErrorCode.DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request'],
      ivan: [ErrorCode.NONE, null],
    });
    assert.deepEqual([...image.scramCredentials.keys()].sort(), ['bob', 'dave', 'ivan']);
    assert.equal(image.scramCredentials.get('dave')!.size, 2);
    assert.deepEqual(applied(image, [{ name: 'bob', mechanism: 1 }], []), [{ user: 'bob', errorCode: ErrorCode.NONE, errorMessage: null }]);
    assert.deepEqual([...image.scramCredentials.keys()].sort(), ['dave', 'ivan']);
  });

  it('describes users as Kafka does, and a snapshot of the image keeps the credentials', () => {
    const image = new MetadataImage();
    applied(image, [], [upsert('alice', 1)]);
    applied(image, [], [upsert('alice', 2, 4096)]);
    applied(image, [], [upsert('bob', 2)]);
    const infos = (results: ReturnType<typeof describeScramCredentials>) => results.map(({ user, errorCode, credentialInfos }) => [user, errorCode, credentialInfos]);
    assert.deepEqual(infos(describeScramCredentials(image, null)), [['alice', 0, [{ mechanism: 1, iterations: 8192 }, { mechanism: 2, iterations: 4096 }]], ['bob', 0, [{ mechanism: 2, iterations: 8192 }]]]);
    assert.deepEqual(describeScramCredentials(image, []).length, 2);
    assert.deepEqual(describeScramCredentials(image, ['bob', 'zed', 'alice', 'alice']).map(({ user, errorCode, errorMessage }) => [user, errorCode, errorMessage]), [
      ['bob', ErrorCode.NONE, null],
      ['zed', ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to describe a user credential that does not exist: zed'],
      ['alice', ErrorCode.DUPLICATE_RESOURCE, 'Cannot describe SCRAM credentials for the same user twice in a single request: alice'],
    ]);
    const copy = new MetadataImage();
    for (const record of imageRecords(image)) copy.apply(record);
    assert.deepEqual(copy.scramCredentials, image.scramCredentials);
  });
});
