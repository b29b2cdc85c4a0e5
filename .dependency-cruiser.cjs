// The import rules of docs/ARCHITECTURE.md (from DESIGN.md): dependencies point one way, from
// the edges (network, CLI, node wiring) inward to base. `npm run lint:deps` checks them in CI.
const layer = (name, allowed) => ({
  name: `${name}-imports-only-${allowed.join('-')}`,
  severity: 'error',
  from: { path: `^src/${name}/` },
  to: { path: '^src/', pathNot: [`^src/(${[name, ...allowed].join('|')})/`] },
});

module.exports = {
  forbidden: [
    layer('base', []),
    layer('protocol', ['base']),
    layer('log', ['base', 'protocol']),
    layer('metadata', ['base', 'protocol']),
    layer('quorum', ['base', 'protocol', 'log', 'metadata']),
    layer('replication', ['base', 'protocol', 'log', 'metadata']),
    layer('client', ['base', 'protocol']),
    layer('connect/api', ['base']),
    layer('connect/connectors', ['connect/api']),
    // Conveyor Streams works against any Kafka-protocol cluster: the client (and node's TCP connector), never the broker.
    layer('streams', ['base', 'protocol', 'client', 'node']),
    layer('connect/runtime', ['base', 'protocol', 'client', 'connect/api', 'connect/connectors', 'node']),
    {
      name: 'only-node-and-edges-touch-the-file-system',
      severity: 'error',
      from: { path: '^src/(base|protocol|log|metadata|quorum|replication|coordinator|client)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(node:)?(fs|fs/promises|net)$', dependencyTypes: ['core'] },
    },
    {
      name: 'nothing-outside-tests-imports-testing',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/testing/', '\\.test\\.ts$', '\\.contract\\.ts$'] },
      to: { path: '^src/testing/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '(\\.test\\.ts$|\\.contract\\.ts$)' },
  },
};
