// The program a transform's worker thread runs, as JavaScript text given to
// `new Worker(source, { eval: true })`. Text rather than a file: the broker runs from the sources
// (tsx), from the compiled modules (dist/src) and from the one-file CLI bundle (dist/cli), and only
// text reaches the worker the same way from all three. It loads the user's ES module from a data:
// URL (so it may import node: built-ins, nothing relative), then answers batches: each input
// record goes through `transform`, awaited, and what comes back (nothing, a record or an array of
// records) is checked and flattened into the batch's outputs, in input order; an output keeps its
// input's timestamp unless it sets its own.
export const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort } = require('node:worker_threads');
let transform;

function bytes(value, what) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return value;
  throw new TypeError('invalid output: ' + what + ' must be a Buffer, a Uint8Array, a string or null, not ' + (Array.isArray(value) ? 'an array' : typeof value));
}

function headersOf(headers) {
  if (headers === null || headers === undefined) return [];
  if (Array.isArray(headers)) return headers.map((header) => ({ key: String(header.key), value: bytes(header.value, 'a header value') }));
  if (typeof headers === 'object') return Object.entries(headers).map(([key, value]) => ({ key, value: bytes(value, 'a header value') }));
  throw new TypeError('invalid output: headers must be an array of {key, value} or an object');
}

function outputOf(result, timestamp) {
  if (typeof result !== 'object' || result === null || result instanceof Uint8Array) {
    throw new TypeError('invalid output: a transform returns null, a record {key?, value, headers?, topic?} or an array of records');
  }
  if (result.topic !== undefined && typeof result.topic !== 'string') throw new TypeError('invalid output: topic must be a string');
  if (result.timestamp !== undefined && !Number.isSafeInteger(result.timestamp)) throw new TypeError('invalid output: timestamp must be milliseconds since the epoch');
  const own = result.timestamp === undefined ? timestamp : result.timestamp;
  return { topic: result.topic === undefined ? null : result.topic, key: bytes(result.key, 'key'), value: bytes(result.value, 'value'), headers: headersOf(result.headers), timestamp: own };
}

function buffer(view) {
  return view === null ? null : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function describe(error) {
  if (error instanceof Error) return (error.name || 'Error') + ': ' + error.message;
  return String(error);
}

async function load(code) {
  const module = await import('data:text/javascript;base64,' + Buffer.from(code, 'utf8').toString('base64'));
  if (typeof module.transform !== 'function') throw new TypeError('the module does not export a function named transform');
  transform = module.transform;
}

async function run(records) {
  const outputs = [];
  for (const input of records) {
    const record = { ...input, key: buffer(input.key), value: buffer(input.value), headers: input.headers.map((header) => ({ key: header.key, value: buffer(header.value) })) };
    let result;
    try {
      result = await transform(record);
    } catch (error) {
      throw new Error('transform threw at offset ' + input.offset + ': ' + describe(error));
    }
    if (result === null || result === undefined) continue;
    for (const each of Array.isArray(result) ? result : [result]) outputs.push(outputOf(each, input.timestamp));
  }
  return outputs;
}

parentPort.on('message', async (message) => {
  try {
    if (message.type === 'load') {
      await load(message.code);
      parentPort.postMessage({ type: 'loaded' });
    } else {
      parentPort.postMessage({ type: 'done', id: message.id, outputs: await run(message.records) });
    }
  } catch (error) {
    parentPort.postMessage({ type: 'failed', id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
`;
