// Run by kafkajs-consumer-stop.test.ts in its own process: kafkajs 2.2.4's fetch manager (the part
// of its consumer that runs one fetcher per node) with a fetch like its consumer's runner, which
// returns an empty list at once once the consumer is stopped. Node 2 leaves the set of nodes, so
// fetcher 1's next fetch asks for a rebuild while node 2's fetch is still out; then the consumer
// stops (as disconnect() does: running false, then the fetch manager's stop). Prints `stopped`
// after the stop and `alive` every 100 ms while the event loop runs; exits after 1 s.
const createFetchManager = require('kafkajs/src/consumer/fetchManager.js');

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
quiet.namespace = () => quiet;
let running = true;
let nodeIds = [1, 2];
let endSlowFetch = () => {};
const fetchManager = createFetchManager({
  logger: quiet,
  getNodeIds: () => nodeIds,
  fetch: async (nodeId) => {
    if (!running) return [];
    if (nodeId === 2) await new Promise((resolve) => (endSlowFetch = resolve));
    else await new Promise((resolve) => setTimeout(resolve, 10));
    return [];
  },
  handler: async () => {},
});
fetchManager.start().catch(() => {});
setTimeout(() => (nodeIds = [1, 3]), 50);
setTimeout(async () => {
  running = false;
  await fetchManager.stop();
  console.log('stopped');
  endSlowFetch();
}, 100);
setInterval(() => console.log('alive'), 100);
setTimeout(() => process.exit(0), 1_000);
