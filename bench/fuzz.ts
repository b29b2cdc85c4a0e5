// The on-demand fuzz run (not part of npm test): 1,000,000 mutated request frames through the
// decoder and against a live in-process broker, with a healthy client checked every few hundred
// frames and RSS sampled throughout. Prints progress and the figures for docs/reliability.md.
//
//   node --import tsx bench/fuzz.ts [--frames 1000000] [--seed 1] [--lanes 8] [--auto-create false]
// Memory grows with the topics mutated Metadata requests auto-create (each a partition log);
// --auto-create false turns that off, so what remains of any growth is the broker's own.
import { parseArgs } from 'node:util';
import { MemoryFileSystem } from '../src/base/memory-file-system.js';
import { createTopic } from '../src/testing/workload.js';
import { type DecodeOutcome, FUZZ_TOPIC, decodeFrame, distinctErrors, fuzzLiveBroker, heldTotal, mutatedFrames, seedFrames } from '../test/fuzz/frame-fuzzer.js';
import { FaultBroker } from '../test/support/fault-memory-broker.js';

const { values } = parseArgs({ options: { frames: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '1' }, lanes: { type: 'string', default: '8' }, 'auto-create': { type: 'string', default: 'true' } } });
const frames = Number(values.frames);
const seed = Number(values.seed);

/** The slowest single frame through the decoder, in ms (a figure, not a test: the tests bound work instead). */
let slowestDecodeMs = 0;

function decoderRun(): DecodeOutcome {
  const generator = mutatedFrames(seedFrames({ live: false }), seed);
  const outcome: DecodeOutcome = { decoded: 0, protocolErrors: 0, unknownApis: 0 };
  for (let index = 0; index < frames; index += 1) {
    const { frame, mutation } = generator.next().value;
    const startedAt = performance.now();
    try {
      decodeFrame(frame, outcome);
      slowestDecodeMs = Math.max(slowestDecodeMs, performance.now() - startedAt);
    } catch (error) {
      throw new Error(`decoder: ${mutation}: ${String(error)}; frame ${frame.toString('hex')}`);
    }
  }
  return outcome;
}

async function liveRun(): Promise<void> {
  // No durability tracking and a broker logging errors only: a million frames must not fill memory with log lines.
  const broker = new FaultBroker(new MemoryFileSystem({ trackDurability: false }), { 'group.initial.rebalance.delay.ms': '0', 'auto.create.topics.enable': values['auto-create'] === 'false' ? 'false' : 'true' }, '/data', 'error');
  await broker.start();
  await createTopic(broker.address, FUZZ_TOPIC, 2);
  const startedAt = performance.now();
  const rssStartMiB = process.memoryUsage().rss / (1024 * 1024);
  let lastReport = 0;
  try {
    const stats = await fuzzLiveBroker({
      address: broker.address,
      frames,
      lanes: Number(values.lanes),
      seed,
      seeds: seedFrames({ live: true }),
      holdMs: 750,
      healthEvery: 500,
      onProgress: (progress) => {
        if (progress.frames - lastReport < 50_000) return;
        lastReport = progress.frames;
        broker.lines.splice(0, broker.lines.length - 1_000);
        const rate = progress.frames / ((performance.now() - startedAt) / 1000);
        console.log(`${progress.frames} frames (${Math.round(rate)}/s): ${progress.responses} answered, ${progress.closes} closed, ${heldTotal(progress)} held, ${progress.unanswered.length} unanswered; RSS peak ${Math.round(progress.rssPeakMiB)} MiB`);
      },
    });
    const errors = distinctErrors(broker.lines).map((error) => error.split('\n')[0]!);
    const seconds = (performance.now() - startedAt) / 1000;
    console.log(`live: ${stats.frames} frames in ${seconds.toFixed(0)} s: ${stats.responses} answered, ${stats.closes} closed, ${heldTotal(stats)} held ${JSON.stringify(stats.held)}, ${stats.slow} slow, ${stats.unanswered.length} unanswered; ${stats.healthChecks} health checks, slowest ${Math.round(stats.healthMaxMs)} ms; RSS ${Math.round(rssStartMiB)} -> peak ${Math.round(stats.rssPeakMiB)} MiB; protocol violations ${stats.violations.length}`);
    console.log(`topics at the end: ${broker.broker.services.image.topicsByName.size}`);
    console.log(`broker errors: ${errors.length}${errors.length > 0 ? `:\n  ${errors.join('\n  ')}` : ''}`);
    if (stats.unanswered.length > 0) console.log(`unanswered frames (first 5):\n  ${stats.unanswered.slice(0, 5).join('\n  ')}`);
    if (errors.length > 0 || stats.violations.length > 0 || stats.unanswered.length > 0) process.exitCode = 1;
  } finally {
    await broker.stop();
  }
}

const decoderStartedAt = performance.now();
const decoded = decoderRun();
console.log(`decoder: ${frames} frames in ${((performance.now() - decoderStartedAt) / 1000).toFixed(0)} s: ${decoded.decoded} decoded, ${decoded.protocolErrors} ProtocolErrors, ${decoded.unknownApis} unknown api/version, no other exception; slowest frame ${slowestDecodeMs.toFixed(2)} ms`);
await liveRun();
