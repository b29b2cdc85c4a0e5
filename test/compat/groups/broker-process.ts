// A Conveyor broker in its own process, for tests that kill it with SIGKILL: prints its bootstrap
// address as one JSON line once it listens.
import { startBroker } from '../../../src/index.js';

const [dataDir, port, configJson] = process.argv.slice(2) as [string, string, string];
const running = await startBroker({ port: Number(port), dataDir, storage: 'disk', config: JSON.parse(configJson) });
process.stdout.write(`${JSON.stringify({ bootstrapServers: running.bootstrapServers, port: running.port })}\n`);
