import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import {
  type QuotaAlteration,
  type QuotaEntityPart,
  QuotaMatchType,
  canonicalIp,
  clientQuotaChanges,
  describeClientQuotas,
  ipQuota,
  javaHashMapOrder,
  javaStringHash,
  quotaFor,
  resolveQuota,
} from './client-quotas.js';
import { imageRecords } from './image-records.js';
import { MetadataImage, quotaEntityKey } from './metadata-image.js';

const entity = (...parts: [string, string | null][]): QuotaEntityPart[] => parts.map(([entityType, entityName]) => ({ entityType, entityName }));
const user = (name: string | null) => entity(['user', name]);
const client = (name: string | null) => entity(['client-id', name]);
const userClient = (userName: string | null, clientId: string | null) => entity(['user', userName], ['client-id', clientId]);
const ip = (address: string | null) => entity(['ip', address]);
const set = (key: string, value: number) => ({ key, value, remove: false });
const remove = (key: string) => ({ key, value: 0, remove: true });
const entry = (parts: QuotaEntityPart[], ...ops: QuotaAlteration['ops'][number][]): QuotaAlteration => ({ entity: parts, ops });

function applied(image: MetadataImage, ...alterations: QuotaAlteration[]) {
  const changes = clientQuotaChanges(image, alterations);
  for (const record of changes.records) image.apply(record);
  return changes;
}

/** The values of one entity in the image, as a plain object. */
function valuesOf(image: MetadataImage, parts: QuotaEntityPart[]): Record<string, number> | undefined {
  const quotas = image.clientQuotas.get(quotaEntityKey(parts));
  return quotas && Object.fromEntries(quotas.values);
}

const INVALID = ErrorCode.INVALID_REQUEST;

describe('AlterClientQuotas decisions', () => {
  it('sets, replaces and removes values with one record per changed key; the image and a snapshot of it keep them', () => {
    const image = new MetadataImage();
    const first = applied(
      image,
      entry(user('alice'), set('producer_byte_rate', 1024), set('consumer_byte_rate', 2048)),
      entry(client('app'), set('request_percentage', 12.5)),
      entry(userClient('bob', 'app'), set('controller_mutation_rate', 3.5)),
      entry(user(null), set('producer_byte_rate', 100)),
      entry(ip('1.2.3.4'), set('connection_creation_rate', 10)),
      entry(ip(null), set('connection_creation_rate', 5)),
    );
    assert.ok(first.results.every(({ errorCode, errorMessage }) => errorCode === ErrorCode.NONE && errorMessage === null));
    assert.equal(first.results.length, 6);
    assert.equal(first.records.length, 7);
    assert.deepEqual(first.records.find((record) => record.key === 'controller_mutation_rate'), {
      type: 'ClientQuota',
      entity: [{ entityType: 'client-id', entityName: 'app' }, { entityType: 'user', entityName: 'bob' }],
      key: 'controller_mutation_rate',
      value: 3.5,
      remove: false,
    });
    assert.deepEqual(valuesOf(image, user('alice')), { producer_byte_rate: 1024, consumer_byte_rate: 2048 });
    assert.deepEqual(valuesOf(image, entity(['client-id', 'app'], ['user', 'bob'])), { controller_mutation_rate: 3.5 });
    assert.deepEqual(valuesOf(image, user(null)), { producer_byte_rate: 100 });
    assert.deepEqual(valuesOf(image, ip(null)), { connection_creation_rate: 5 });

    // The same values again write nothing; a changed one is one record.
    const again = applied(image, entry(user('alice'), set('producer_byte_rate', 1024), set('consumer_byte_rate', 4096)));
    assert.deepEqual(again.records.map(({ key, value }) => [key, value]), [['consumer_byte_rate', 4096]]);

    // Removing a key the entity has is a removal record; one it does not have (even an unknown key) answers NONE and writes nothing.
    const removal = applied(image, entry(user('alice'), remove('producer_byte_rate'), remove('request_percentage'), remove('no_such_key')));
    assert.deepEqual(removal.results, [{ errorCode: ErrorCode.NONE, errorMessage: null, entity: user('alice') }]);
    assert.deepEqual(removal.records, [{ type: 'ClientQuota', entity: user('alice'), key: 'producer_byte_rate', value: 0, remove: true }]);
    assert.deepEqual(valuesOf(image, user('alice')), { consumer_byte_rate: 4096 });
    applied(image, entry(user('alice'), remove('consumer_byte_rate')));
    assert.equal(valuesOf(image, user('alice')), undefined, 'an entity without values is gone');

    const copy = new MetadataImage();
    for (const record of imageRecords(image)) copy.apply(record);
    assert.deepEqual(copy.clientQuotas, image.clientQuotas);
    assert.equal(copy.clientQuotas.size, 5);
  });

  it('counts quota changes in quotaVersion, and only them', () => {
    const image = new MetadataImage();
    const before = image.quotaVersion;
    image.apply({ type: 'Topic', name: 'orders', topicId: 'q7vKjbdwQvWsVqzvI3oZ3A' });
    image.apply({ type: 'Config', resourceType: 2, resourceName: 'orders', name: 'retention.ms', value: '1000' });
    assert.equal(image.quotaVersion, before);
    applied(image, entry(user('alice'), set('producer_byte_rate', 1024)));
    assert.equal(image.quotaVersion, before + 1);
    applied(image, entry(user('alice'), remove('producer_byte_rate')));
    assert.equal(image.quotaVersion, before + 2);
    image.reset();
    assert.equal(image.quotaVersion, before + 3);
  });

  it('reset forgets the quotas', () => {
    const image = new MetadataImage();
    applied(image, entry(user('alice'), set('producer_byte_rate', 1024)));
    image.reset();
    assert.equal(image.clientQuotas.size, 0);
    assert.equal(quotaFor(image, 'producer_byte_rate', 'alice', 'app'), undefined);
  });

  it("refuses a bad entity with Kafka's message, changing nothing for it while the other entities go through", () => {
    const cases: [QuotaEntityPart[], string, QuotaAlteration['ops'][number]][] = [
      [[], 'Invalid empty client quota entity', set('producer_byte_rate', 1)],
      [entity(['group', 'g1']), 'Unhandled client quota entity type: group', set('producer_byte_rate', 1)],
      [entity(['', 'x']), 'Unhandled client quota entity type: ', set('producer_byte_rate', 1)],
      [user(''), 'Empty user not supported', set('producer_byte_rate', 1)],
      [client(''), 'Empty client-id not supported', set('producer_byte_rate', 1)],
      [ip(''), 'Empty ip not supported', set('connection_creation_rate', 1)],
      [entity(['ip', '1.2.3.4'], ['user', 'alice']), 'Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId', set('connection_creation_rate', 1)],
      [entity(['client-id', null], ['ip', null]), 'Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId', set('connection_creation_rate', 1)],
      [ip('not-an-ip'), 'not-an-ip is not a valid IP or resolvable host.', set('connection_creation_rate', 1)],
      [ip('1.2.3.256'), '1.2.3.256 is not a valid IP or resolvable host.', set('connection_creation_rate', 1)],
      [ip('1::2::3'), '1::2::3 is not a valid IP or resolvable host.', set('connection_creation_rate', 1)],
    ];
    for (const [parts, message, op] of cases) {
      const image = new MetadataImage();
      const { records, results } = applied(image, entry(parts, op), entry(user('ok'), set('producer_byte_rate', 10)));
      const refused = results.find((result) => result.entity.every((part) => part.entityName !== 'ok'));
      assert.deepEqual(refused && [refused.errorCode, refused.errorMessage], [INVALID, message], JSON.stringify(parts));
      assert.deepEqual(records.map(({ entity: recordEntity }) => recordEntity), [user('ok')], JSON.stringify(parts));
    }
  });

  it("refuses a bad key or value with Kafka's message, and then none of that entity's changes", () => {
    const cases: [QuotaEntityPart[], QuotaAlteration['ops'][number], string][] = [
      [user('alice'), set('connection_creation_rate', 10), 'Invalid configuration key connection_creation_rate'],
      [ip('10.0.0.1'), set('producer_byte_rate', 10), 'Invalid configuration key producer_byte_rate'],
      [user('alice'), set('producer_byte_rate', 0), 'Quota producer_byte_rate must be greater than 0'],
      [user('alice'), set('producer_byte_rate', -0), 'Quota producer_byte_rate must be greater than 0'],
      [client('app'), set('request_percentage', -1.5), 'Quota request_percentage must be greater than 0'],
      [user('alice'), set('consumer_byte_rate', 1024.5), 'consumer_byte_rate cannot be a fractional value.'],
      [ip(null), set('connection_creation_rate', 1.25), 'connection_creation_rate cannot be a fractional value.'],
      [ip(null), set('connection_creation_rate', 2147483648), 'Proposed value for connection_creation_rate is too large for an INT.'],
      [user('alice'), set('producer_byte_rate', 1e19), 'Proposed value for producer_byte_rate is too large for a LONG.'],
      [user('alice'), set('producer_byte_rate', Number.POSITIVE_INFINITY), 'Proposed value for producer_byte_rate is too large for a LONG.'],
    ];
    for (const [parts, op, message] of cases) {
      const image = new MetadataImage();
      // A valid key comes first in the entry (ip entities have only the one key): it is not written either.
      const valid = parts[0]!.entityType === 'ip' ? [] : [set('controller_mutation_rate', 7)];
      const { records, results } = applied(image, entry(parts, ...valid, op));
      assert.deepEqual(results.map(({ errorCode, errorMessage }) => [errorCode, errorMessage]), [[INVALID, message]], message);
      assert.deepEqual(records, []);
      assert.equal(image.clientQuotas.size, 0);
    }
  });

  it('takes integral longs and ints up to their bounds (within 1e-6 of a whole number), and any positive double', () => {
    const image = new MetadataImage();
    const { results } = applied(
      image,
      entry(user('alice'), set('producer_byte_rate', 2 ** 63), set('consumer_byte_rate', 1024.0000001), set('request_percentage', 0.001), set('controller_mutation_rate', 1e300)),
      entry(ip('::1'), set('connection_creation_rate', 2147483647)),
    );
    assert.deepEqual(results.map(({ errorCode }) => errorCode), [ErrorCode.NONE, ErrorCode.NONE]);
    assert.deepEqual(valuesOf(image, user('alice')), { producer_byte_rate: 2 ** 63, consumer_byte_rate: 1024.0000001, request_percentage: 0.001, controller_mutation_rate: 1e300 });
  });

  it("keeps Kafka's quirks: a key twice answers 'Ignoring duplicate entity', an entity twice too while its first entry still applies, a type twice keeps its last name, NaN passes", () => {
    const image = new MetadataImage();
    const duplicateKey = applied(image, entry(user('alice'), set('producer_byte_rate', 1), set('producer_byte_rate', 2)));
    assert.deepEqual(duplicateKey.results, [{ errorCode: INVALID, errorMessage: 'Ignoring duplicate entity ClientQuotaEntity(entries={user=alice})', entity: user('alice') }]);
    assert.deepEqual(duplicateKey.records, []);

    const duplicateEntity = applied(image, entry(userClient('bob', 'app'), set('producer_byte_rate', 100)), entry(entity(['client-id', 'app'], ['user', 'bob']), set('producer_byte_rate', 200)));
    assert.deepEqual(duplicateEntity.results, [
      { errorCode: INVALID, errorMessage: 'Ignoring duplicate entity ClientQuotaEntity(entries={client-id=app, user=bob})', entity: entity(['client-id', 'app'], ['user', 'bob']) },
    ]);
    assert.deepEqual(valuesOf(image, userClient('bob', 'app')), { producer_byte_rate: 100 }, "the first entry's change is made");

    const typeTwice = applied(image, entry(entity(['user', 'carol'], ['user', 'dave']), set('producer_byte_rate', 5)));
    assert.deepEqual(typeTwice.results, [{ errorCode: ErrorCode.NONE, errorMessage: null, entity: user('dave') }]);
    assert.deepEqual(valuesOf(image, user('dave')), { producer_byte_rate: 5 });
    assert.equal(valuesOf(image, user('carol')), undefined);

    const notANumber = applied(image, entry(user('erin'), set('producer_byte_rate', Number.NaN)));
    assert.equal(notANumber.results[0]!.errorCode, ErrorCode.NONE);
    assert.deepEqual(valuesOf(image, user('erin')), { producer_byte_rate: Number.NaN });
    assert.deepEqual(applied(image, entry(user('erin'), set('producer_byte_rate', Number.NaN))).records, [], 'NaN equals NaN, as Double.equals has it');
  });

  it("checks an entry's keys in the order of Kafka's HashMap, so the first error reported is Kafka's", () => {
    // java.util.HashMap(2) iterates consumer_byte_rate before producer_byte_rate (checked with a JDK).
    const { results } = clientQuotaChanges(new MetadataImage(), [entry(user('alice'), set('producer_byte_rate', 1.5), set('consumer_byte_rate', 0))]);
    assert.equal(results[0]!.errorMessage, 'Quota consumer_byte_rate must be greater than 0');
    // An unknown type after an empty name: the HashMap order {user=, group=g} reports the user's.
    const order = clientQuotaChanges(new MetadataImage(), [entry(entity(['group', 'g'], ['user', '']), set('producer_byte_rate', 1))]);
    assert.equal(order.results[0]!.errorMessage, 'Empty user not supported');
  });

  it("answers in the order of Kafka's response (its HashMap of entities), one result per distinct entity", () => {
    const entities = [user('alice'), user(null), client('app'), userClient('bob', 'app'), ip('1.2.3.4'), ip(null), client(null), user('carol')];
    const { results } = clientQuotaChanges(new MetadataImage(), entities.map((parts) => entry(parts)));
    // A JDK's HashMap<ClientQuotaEntity, ApiError> iterates these as 4 0 5 2 1 6 3 7.
    const order = [4, 0, 5, 2, 1, 6, 3, 7];
    assert.deepEqual(
      results.map((result) => quotaEntityKey(result.entity)),
      order.map((index) => quotaEntityKey(entities[index]!)),
    );
    assert.deepEqual(clientQuotaChanges(new MetadataImage(), []), { records: [], results: [] });
  });
});

describe("java.util.HashMap's order, as a JDK shows it", () => {
  it("hashes strings as Java's String.hashCode", () => {
    assert.equal(javaStringHash('hello'), 99162322);
    assert.equal(javaStringHash('user'), 3599307);
    assert.equal(javaStringHash('client-id'), -1904137635);
    assert.equal(javaStringHash(''), 0);
  });

  it('iterates keys by bucket of the final table, then in insertion order', () => {
    const order = (keys: string[], capacity?: number) => javaHashMapOrder(keys, javaStringHash, capacity);
    assert.deepEqual(order(['user', 'client-id'], 2), ['client-id', 'user']);
    assert.deepEqual(order(['user', 'client-id', 'ip'], 3), ['client-id', 'user', 'ip']);
    assert.deepEqual(order(['group', 'user'], 2), ['user', 'group']);
    assert.deepEqual(order(['producer_byte_rate', 'consumer_byte_rate'], 2), ['consumer_byte_rate', 'producer_byte_rate']);
    assert.deepEqual(order(['producer_byte_rate', 'consumer_byte_rate', 'request_percentage', 'controller_mutation_rate', 'bogus_key'], 5), [
      'producer_byte_rate',
      'consumer_byte_rate',
      'controller_mutation_rate',
      'request_percentage',
      'bogus_key',
    ]);
  });
});

describe('IP address literals', () => {
  it('reads what InetAddress.getByName takes as a literal, in one canonical form (outcomes checked with JDK 17)', () => {
    const cases: [string, string | undefined][] = [
      ['1.2.3.4', '1.2.3.4'],
      ['127.1', '127.0.0.1'],
      ['2130706433', '127.0.0.1'],
      ['010.0.0.1', '10.0.0.1'],
      ['0.0.0.0', '0.0.0.0'],
      ['255.255.255.255', '255.255.255.255'],
      ['::ffff:1.2.3.4', '1.2.3.4'],
      ['::ffff:0102:0304', '1.2.3.4'],
      ['::1.2.3.4', '0:0:0:0:0:0:102:304'],
      ['[::1]', '0:0:0:0:0:0:0:1'],
      ['::1', '0:0:0:0:0:0:0:1'],
      ['0:0:0:0:0:0:0:1', '0:0:0:0:0:0:0:1'],
      ['::', '0:0:0:0:0:0:0:0'],
      ['abcd::', 'abcd:0:0:0:0:0:0:0'],
      ['ABCD::EF', 'abcd:0:0:0:0:0:0:ef'],
      ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
      ['1.2.3.256', undefined],
      ['1.2.3.4.5', undefined],
      ['1::2::3', undefined],
      ['[1.2.3.4]', undefined],
      ['1:2:3:4:5:6:7:8:9', undefined],
      ['::ffff:1.2.3', undefined],
      ['localhost', undefined],
      ['fe80::1%eth0', undefined],
      ['', undefined],
    ];
    for (const [text, canonical] of cases) assert.equal(canonicalIp(text), canonical, text);
  });
});

describe('DescribeClientQuotas matching', () => {
  const image = new MetadataImage();
  applied(
    image,
    entry(user('alice'), set('producer_byte_rate', 1)),
    entry(user(null), set('producer_byte_rate', 2)),
    entry(client('app'), set('consumer_byte_rate', 3)),
    entry(client(null), set('consumer_byte_rate', 4)),
    entry(userClient('alice', 'app'), set('producer_byte_rate', 5), set('request_percentage', 50)),
    entry(userClient('alice', null), set('producer_byte_rate', 6)),
    entry(userClient(null, 'app'), set('producer_byte_rate', 7)),
    entry(ip('1.2.3.4'), set('connection_creation_rate', 8)),
    entry(ip(null), set('connection_creation_rate', 9)),
  );
  const component = (entityType: string, matchType: number, match: string | null = null) => ({ entityType, matchType, match });
  const { EXACT, DEFAULT, ANY } = QuotaMatchType;
  /** The matched entities' first values, sorted. */
  const matched = (components: ReturnType<typeof component>[], strict: boolean) => {
    const result = describeClientQuotas(image, components, strict);
    assert.equal(result.errorCode, ErrorCode.NONE, result.errorMessage ?? '');
    return result.entries!.map(({ values }) => values[0]!.value).sort((a, b) => a - b);
  };

  it('matches by exact name, default entity and any name, strictly or not', () => {
    assert.deepEqual(matched([], false), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(matched([], true), []);
    assert.deepEqual(matched([component('user', EXACT, 'alice')], false), [1, 5, 6]);
    assert.deepEqual(matched([component('user', EXACT, 'alice')], true), [1]);
    assert.deepEqual(matched([component('user', DEFAULT)], false), [2, 7]);
    assert.deepEqual(matched([component('user', DEFAULT)], true), [2]);
    assert.deepEqual(matched([component('user', ANY)], false), [1, 2, 5, 6, 7]);
    assert.deepEqual(matched([component('user', ANY)], true), [1, 2]);
    assert.deepEqual(matched([component('client-id', EXACT, 'app')], false), [3, 5, 7]);
    assert.deepEqual(matched([component('client-id', DEFAULT)], true), [4]);
    assert.deepEqual(matched([component('user', ANY), component('client-id', ANY)], true), [5, 6, 7]);
    assert.deepEqual(matched([component('user', EXACT, 'alice'), component('client-id', DEFAULT)], true), [6]);
    assert.deepEqual(matched([component('user', DEFAULT), component('client-id', EXACT, 'app')], false), [7]);
    assert.deepEqual(matched([component('ip', ANY)], false), [8, 9]);
    assert.deepEqual(matched([component('ip', EXACT, '1.2.3.4')], true), [8]);
    assert.deepEqual(matched([component('ip', DEFAULT)], true), [9]);
    assert.deepEqual(matched([component('user', EXACT, 'nobody')], false), []);
    assert.deepEqual(matched([component('user', EXACT, '')], false), []);
  });

  it("answers each entity with its parts (null for a default) and every value", () => {
    const result = describeClientQuotas(image, [component('user', EXACT, 'alice'), component('client-id', EXACT, 'app')], true);
    assert.deepEqual(result, {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      entries: [{ entity: entity(['client-id', 'app'], ['user', 'alice']), values: [{ key: 'producer_byte_rate', value: 5 }, { key: 'request_percentage', value: 50 }] }],
    });
    assert.deepEqual(describeClientQuotas(image, [component('user', DEFAULT)], true).entries, [{ entity: user(null), values: [{ key: 'producer_byte_rate', value: 2 }] }]);
  });

  it("refuses a bad filter with Kafka's error and message, and no entries", () => {
    const cases: [ReturnType<typeof component>[], number, string][] = [
      [[component('', ANY)], INVALID, 'Invalid empty entity type.'],
      [[component('user', ANY), component('user', EXACT, 'alice')], INVALID, 'Entity type user cannot appear more than once in the filter.'],
      [[component('user', DEFAULT), component('user', DEFAULT)], INVALID, 'Entity type user cannot appear more than once in the filter.'],
      [[component('group', ANY)], ErrorCode.UNSUPPORTED_VERSION, 'Unsupported entity type group'],
      [[component('user', EXACT)], INVALID, 'Request specified MATCH_TYPE_EXACT, but set match string to null.'],
      [[component('user', DEFAULT, 'alice')], INVALID, 'Request specified MATCH_TYPE_DEFAULT, but also specified a match string.'],
      [[component('user', ANY, 'alice')], INVALID, 'Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.'],
      [[component('user', 3)], INVALID, 'Unknown match type 3'],
      [[component('ip', ANY), component('user', EXACT, 'alice')], INVALID, 'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.'],
      [[component('client-id', DEFAULT), component('ip', DEFAULT)], INVALID, 'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.'],
      // The first bad component decides: the duplicate is found before the unsupported type.
      [[component('user', ANY), component('user', ANY), component('group', ANY)], INVALID, 'Entity type user cannot appear more than once in the filter.'],
    ];
    for (const [components, errorCode, errorMessage] of cases) {
      assert.deepEqual(describeClientQuotas(image, components, false), { errorCode, errorMessage, entries: null }, errorMessage);
    }
  });
});

describe('quota resolution for enforcement', () => {
  const KEY = 'producer_byte_rate';
  // Kafka's precedence, most specific first, each level with its own value.
  const levels: [QuotaEntityPart[], number][] = [
    [userClient('alice', 'app'), 1],
    [userClient('alice', null), 2],
    [user('alice'), 3],
    [userClient(null, 'app'), 4],
    [userClient(null, null), 5],
    [user(null), 6],
    [client('app'), 7],
    [client(null), 8],
  ];

  it("applies the most specific of user + client-id, user + default client-id, user, default user + client-id, default user + default client-id, default user, client-id, default client-id", () => {
    const image = new MetadataImage();
    applied(image, ...levels.map(([parts, value]) => entry(parts, set(KEY, value))));
    for (const [parts, value] of levels) {
      assert.equal(quotaFor(image, KEY, 'alice', 'app'), value, JSON.stringify(parts));
      applied(image, entry(parts, remove(KEY)));
    }
    assert.equal(quotaFor(image, KEY, 'alice', 'app'), undefined);
  });

  it('resolves other clients from the same entities, and each key on its own', () => {
    const image = new MetadataImage();
    applied(image, ...levels.map(([parts, value]) => entry(parts, set(KEY, value))), entry(user('bob'), set('consumer_byte_rate', 99)));
    assert.equal(quotaFor(image, KEY, 'bob', 'other'), 5, 'default user + default client-id');
    assert.equal(quotaFor(image, KEY, 'bob', 'app'), 4, 'default user + client-id');
    assert.equal(quotaFor(image, KEY, 'alice', 'other'), 2, 'user + default client-id');
    assert.equal(quotaFor(image, 'consumer_byte_rate', 'bob', 'app'), 99);
    assert.equal(quotaFor(image, 'consumer_byte_rate', 'alice', 'app'), undefined);
    assert.equal(quotaFor(image, 'request_percentage', 'alice', 'app'), undefined);
  });

  it("names the measure as Kafka's quota metric tags: a user-level quota is shared by all the user's client ids, a client-id-level one by all users", () => {
    const image = new MetadataImage();
    applied(image, entry(user('alice'), set(KEY, 10)), entry(user(null), set(KEY, 20)), entry(client(null), set(KEY, 30)), entry(userClient('carol', null), set(KEY, 40)));
    assert.deepEqual(resolveQuota(image, KEY, 'alice', 'app'), { bound: 10, user: 'alice', clientId: '' });
    assert.deepEqual(resolveQuota(image, KEY, 'bob', 'app'), { bound: 20, user: 'bob', clientId: '' });
    assert.deepEqual(resolveQuota(image, KEY, 'carol', 'app'), { bound: 40, user: 'carol', clientId: 'app' });
    applied(image, entry(user(null), remove(KEY)));
    assert.deepEqual(resolveQuota(image, KEY, 'bob', 'app'), { bound: 30, user: '', clientId: 'app' });
    assert.equal(resolveQuota(image, 'consumer_byte_rate', 'bob', 'app'), undefined);
  });

  it("keeps Kafka's edge cases for an empty client id or user name", () => {
    const image = new MetadataImage();
    applied(image, entry(userClient('alice', null), set(KEY, 1)), entry(client(null), set(KEY, 2)));
    // An empty client id: only user and default user quotas apply.
    assert.equal(quotaFor(image, KEY, 'alice', ''), undefined);
    applied(image, entry(user(null), set(KEY, 3)));
    assert.equal(quotaFor(image, KEY, 'alice', ''), 3);
    // An empty user name: a default user quota hides the client-id ones.
    assert.equal(quotaFor(image, KEY, '', 'app'), undefined);
    applied(image, entry(user(null), remove(KEY)));
    assert.equal(quotaFor(image, KEY, '', 'app'), 2);
  });

  it("resolves an ip's connection_creation_rate: the address's own, else the default ip's, whatever form the address takes", () => {
    const image = new MetadataImage();
    assert.equal(ipQuota(image, '1.2.3.4'), undefined);
    applied(image, entry(ip('1.2.3.4'), set('connection_creation_rate', 10)), entry(ip('::1'), set('connection_creation_rate', 20)));
    assert.equal(ipQuota(image, '1.2.3.4'), 10);
    assert.equal(ipQuota(image, '::ffff:1.2.3.4'), 10, 'an IPv4-mapped socket address is its IPv4 address');
    assert.equal(ipQuota(image, '0:0:0:0:0:0:0:1'), 20);
    assert.equal(ipQuota(image, '5.6.7.8'), undefined);
    applied(image, entry(ip(null), set('connection_creation_rate', 5)));
    assert.equal(ipQuota(image, '5.6.7.8'), 5);
    assert.equal(ipQuota(image, '1.2.3.4'), 10);
    applied(image, entry(ip('1.2.3.4'), remove('connection_creation_rate')));
    assert.equal(ipQuota(image, '1.2.3.4'), 5, 'a removed quota is seen at once (the index follows quotaVersion)');
  });
});
