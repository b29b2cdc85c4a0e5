import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker } from '/work/main/test/support/broker.ts';
const broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 1000 });
const kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.WARN });
const admin = kafka.admin(); await admin.connect();
await admin.createTopics({ topics: [{ topic: 't6', numPartitions: 6 }] });
const producer = kafka.producer(); await producer.connect();
await producer.send({ topic: 't6', messages: Array.from({ length: 60 }, (_, i) => ({ key: String(i), value: String(i), partition: i % 6 })) });
const seen = new Set<string>();
const assignments: Record<string, number[]> = {};
const consumers = [];
for (let i = 0; i < 3; i++) {
  const c = kafka.consumer({ groupId: 'g1', sessionTimeout: 6000, heartbeatInterval: 500 });
  c.on(c.events.GROUP_JOIN, (e) => { assignments[i] = e.payload.memberAssignment['t6'] ?? []; console.log('join', i, e.payload.groupId, JSON.stringify(e.payload.memberAssignment)); });
  await c.connect(); await c.subscribe({ topic: 't6', fromBeginning: true });
  await c.run({ eachMessage: async ({ message }) => { seen.add(message.value!.toString()); } });
  consumers.push(c);
}
const t0 = Date.now();
while (seen.size < 60 && Date.now() - t0 < 20000) await new Promise(r => setTimeout(r, 200));
console.log('seen', seen.size, assignments);
console.log(await admin.describeGroups(['g1']).then(d => JSON.stringify(d.groups.map(g => ({ state: g.state, members: g.members.length })))));
console.log(JSON.stringify(await admin.fetchOffsets({ groupId: 'g1', topics: ['t6'] })));
for (const c of consumers) await c.disconnect();
console.log(JSON.stringify(await admin.listGroups()));
await producer.disconnect(); await admin.disconnect(); await broker.close();
