// Share sessions: opening replaces a member's earlier session, epochs must follow on (wrapping to
// 1 after INT32_MAX), closing removes the session, the session limit, and a closed connection
// taking its sessions with it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../base/error-codes.js';
import { ShareSessionCache } from './share-sessions.js';

function opened(cache: ShareSessionCache, group: string, member: string, connection = 1) {
  const result = cache.open(group, member, connection);
  assert.ok(!('errorCode' in result), 'opened');
  return result;
}

describe('ShareSessionCache', () => {
  it('continues a session only at the epoch it expects, moving it on each time', () => {
    const cache = new ShareSessionCache(10);
    const { session } = opened(cache, 'g', 'm');
    assert.deepEqual(cache.continue('g', 'm', 2, 1), { errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH });
    assert.equal(session.nextEpoch, 1, 'a refused epoch moves nothing');
    assert.deepEqual(cache.continue('g', 'm', 1, 1), { session });
    assert.deepEqual(cache.continue('g', 'm', 1, 1), { errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH });
    assert.deepEqual(cache.continue('g', 'm', 2, 1), { session });
    assert.equal(session.nextEpoch, 3);
    assert.deepEqual(cache.continue('g', 'other', 1, 1), { errorCode: ErrorCode.SHARE_SESSION_NOT_FOUND });
    assert.deepEqual(cache.continue('h', 'm', 1, 1), { errorCode: ErrorCode.SHARE_SESSION_NOT_FOUND });
  });

  it('wraps the epoch from INT32_MAX to 1', () => {
    const cache = new ShareSessionCache(10);
    const { session } = opened(cache, 'g', 'm');
    session.nextEpoch = 0x7fffffff;
    assert.deepEqual(cache.continue('g', 'm', 0x7fffffff, 1), { session });
    assert.equal(session.nextEpoch, 1);
  });

  it('replaces a member\'s session on a new open, returning the old one, and closes with -1', () => {
    const cache = new ShareSessionCache(10);
    const first = opened(cache, 'g', 'm').session;
    first.add('t', 0);
    const second = opened(cache, 'g', 'm', 2);
    assert.equal(second.replaced, first);
    assert.equal(second.session.partitions.size, 0, 'a new session starts with no partitions');
    assert.equal(cache.size, 1);
    assert.deepEqual(cache.continue('g', 'm', -1, 2), { session: second.session });
    assert.equal(cache.size, 0);
    assert.deepEqual(cache.continue('g', 'm', -1, 2), { errorCode: ErrorCode.SHARE_SESSION_NOT_FOUND });
  });

  it('refuses a new session past the limit but lets a member replace its own', () => {
    const cache = new ShareSessionCache(2);
    opened(cache, 'g', 'a');
    opened(cache, 'g', 'b');
    assert.deepEqual(cache.open('g', 'c', 1), { errorCode: ErrorCode.SHARE_SESSION_LIMIT_REACHED });
    assert.ok(!('errorCode' in cache.open('g', 'b', 1)));
  });

  it('removes the sessions whose latest request came on a closed connection', () => {
    const cache = new ShareSessionCache(10);
    const a = opened(cache, 'g', 'a', 1).session;
    opened(cache, 'g', 'b', 2);
    const c = opened(cache, 'h', 'c', 2).session;
    // b moves to connection 3 with its next request.
    assert.ok(!('errorCode' in cache.continue('g', 'b', 1, 3)));
    assert.deepEqual(cache.removeConnection(2), [c]);
    assert.deepEqual(cache.removeConnection(1), [a]);
    assert.equal(cache.size, 1);
    assert.ok(cache.find('g', 'b'));
  });

  it('keeps partitions in the order added, once each, and forgets them', () => {
    const cache = new ShareSessionCache(10);
    const { session } = opened(cache, 'g', 'm');
    session.add('t', 1);
    session.add('t', 0);
    session.add('t', 1);
    session.forget('t', 1);
    session.add('u', 0);
    assert.deepEqual([...session.partitions.values()], [{ topicId: 't', partition: 0 }, { topicId: 'u', partition: 0 }]);
  });
});
