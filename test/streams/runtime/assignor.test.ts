// The streams task assignor (src/streams/runtime/assignor.ts) without a broker: tasks per
// sub-topology, balance across members and within each sub-topology, stickiness across a
// rebalance, standbys never on the active's member and only for stateful sub-topologies, the host
// map, and the assignment's round trip through the consumer protocol.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assignTasks, decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, type MemberInfo } from '../../../src/streams/runtime/assignor.js';

const member = (processId: string, host = '', previousActive: string[] = [], previousStandby: string[] = []): MemberInfo => ({ processId, host, previousActive, previousStandby });
const counts = new Map([[0, 4], [1, 4]]);

describe('streams task assignor', () => {
  test('one member gets every task, named <subtopology>_<partition>', () => {
    const result = assignTasks(new Map([['m1', member('p1')]]), counts, 0);
    assert.deepEqual(result.get('m1')!.active, ['0_0', '0_1', '0_2', '0_3', '1_0', '1_1', '1_2', '1_3']);
  });

  test('a second member gets half of each sub-topology, and a member keeps what it had (sticky)', () => {
    const all = ['0_0', '0_1', '0_2', '0_3', '1_0', '1_1', '1_2', '1_3'];
    const result = assignTasks(new Map([['m1', member('p1', '', all)], ['m2', member('p2')]]), counts, 0);
    const m1 = result.get('m1')!.active;
    const m2 = result.get('m2')!.active;
    assert.equal(m1.length, 4);
    assert.equal(m1.filter((t) => t.startsWith('0_')).length, 2);
    assert.deepEqual([...m1, ...m2].sort(), all);
    const again = assignTasks(new Map([['m1', member('p1', '', m1)], ['m2', member('p2', '', m2)]]), counts, 0);
    assert.deepEqual(again.get('m1')!.active, m1);
    assert.deepEqual(again.get('m2')!.active, m2);
  });

  test('standbys go to another member, for stateful sub-topologies only; hosts map the active tasks', () => {
    const result = assignTasks(new Map([['m1', member('p1', 'a:1')], ['m2', member('p2', 'b:2')]]), counts, 1, new Set([1]));
    for (const [id, assignment] of result) {
      const other = result.get(id === 'm1' ? 'm2' : 'm1')!;
      assert.deepEqual(assignment.standby, other.active.filter((t) => t.startsWith('1_')));
    }
    assert.deepEqual(result.get('m1')!.hosts, { 'a:1': result.get('m1')!.active, 'b:2': result.get('m2')!.active });
    const lone = assignTasks(new Map([['m1', member('p1')]]), counts, 1, new Set([1]));
    assert.deepEqual(lone.get('m1')!.standby, []);
  });

  test('subscription and assignment survive the consumer protocol encoding', () => {
    const info = member('p1', 'a:1', ['0_0'], ['1_1']);
    assert.deepEqual(decodeSubscription(encodeSubscription(['t'], info)), info);
    const assignment = assignTasks(new Map([['m1', info]]), counts, 0).get('m1')!;
    assert.deepEqual(decodeAssignment(encodeAssignment(new Map([['t', [0, 1]]]), assignment)), assignment);
  });
});
