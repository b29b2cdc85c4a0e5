// One transform's worker thread on this broker: a V8 isolate of its own with the deployment's
// heap limit (resourceLimits), fed one batch at a time. Every way the user's code can fail ends in
// a TransformFailure with a sentence for `conveyor transforms list`, never in the broker: an
// exception (the worker reports it), a batch past its time limit (the broker terminates the
// worker, the only way to stop a busy loop), the heap limit reached (the worker dies with
// ERR_WORKER_OUT_OF_MEMORY) or output that is not records. A failed worker is not used again.
import { Worker } from 'node:worker_threads';
import type { Clock } from '../../base/clock.js';
import type { RecordHeader } from '../../protocol/records/record.js';
import { WORKER_SOURCE } from './worker-source.js';

/** A record as the transform function receives it. */
export interface TransformInput {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  timestamp: number;
  topic: string;
  partition: number;
  offset: number;
}

/** A record the function returned; topic null means the deployment's first output topic. */
export interface TransformOutput {
  topic: string | null;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  timestamp: number;
}

/** The user's code failed: the transform pauses with this message. */
export class TransformFailure extends Error {
  override name = 'TransformFailure';
}

export interface TransformWorkerOptions {
  code: string;
  environment: Record<string, string>;
  memoryLimitMb: number;
  timeoutMs: number;
  clock: Clock;
}

interface Pending {
  resolve: (outputs: TransformOutput[]) => void;
  reject: (error: Error) => void;
}

type WorkerMessage = { type: 'loaded' } | { type: 'done'; id: number; outputs: WireOutput[] } | { type: 'failed'; id: number | undefined; error: string };

interface WireOutput {
  topic: string | null;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: { key: string; value: Uint8Array | null }[];
  timestamp: number;
}

const LOAD_ID = 0;
/**
 * How long starting the worker and loading the module may take, whatever the batch limit: a new
 * isolate on a busy machine can take longer than a tight per-batch limit, and that is not the
 * user's code being slow. (A module whose top level never returns is stopped by it.)
 */
const LOAD_TIMEOUT_MS = 10_000;

export class TransformWorker {
  readonly #worker: Worker;
  readonly #options: TransformWorkerOptions;
  readonly #pending = new Map<number, Pending>();
  #nextId = LOAD_ID + 1;
  /** Why the worker is unusable, once it is. */
  #failure: TransformFailure | undefined;
  /** Batches run one after another: the function sees one record at a time, in order. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(options: TransformWorkerOptions) {
    this.#options = options;
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      env: { ...options.environment },
      // Young generation: a quarter of the heap, at most 16 MB (V8's semi-spaces are small anyway).
      resourceLimits: { maxOldGenerationSizeMb: options.memoryLimitMb, maxYoungGenerationSizeMb: Math.max(1, Math.min(16, Math.floor(options.memoryLimitMb / 4))) },
      stdout: false,
      stderr: false,
    });
    this.#worker.on('message', (message: WorkerMessage) => this.#onMessage(message));
    this.#worker.on('error', (error: Error & { code?: string }) => {
      this.#fail(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `exceeded its memory limit of ${options.memoryLimitMb} MB`
          : `failed outside a batch: ${error.name}: ${error.message}`,
      );
    });
    this.#worker.on('exit', (code) => this.#fail(`its worker stopped (exit code ${code})`));
  }

  /** A worker with the module loaded; a module that does not load or export `transform` is a TransformFailure. */
  static async start(options: TransformWorkerOptions): Promise<TransformWorker> {
    const worker = new TransformWorker(options);
    try {
      await worker.#request(LOAD_ID, { type: 'load', code: options.code }, 'loading the module', Math.max(options.timeoutMs, LOAD_TIMEOUT_MS));
      return worker;
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  /** The outputs of `records`, in input order, once the batches before them are done. */
  run(records: readonly TransformInput[]): Promise<TransformOutput[]> {
    const result = this.#queue.then(() => {
      const id = this.#nextId++;
      return this.#request(id, { type: 'run', id, records: records.map(wireInput) }, 'a batch', this.#options.timeoutMs);
    });
    this.#queue = result.catch(() => {});
    return result;
  }

  async terminate(): Promise<void> {
    this.#fail('the worker was stopped');
    await this.#worker.terminate();
  }

  #request(id: number, message: unknown, what: string, timeoutMs: number): Promise<TransformOutput[]> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<TransformOutput[]>((resolve, reject) => {
      const cancel = this.#options.clock.schedule(timeoutMs, () => {
        // A busy loop never yields: only terminating the worker stops it.
        this.#fail(`exceeded its time limit of ${timeoutMs} ms (${what})`);
        void this.#worker.terminate();
      });
      const settle = <T>(action: (value: T) => void) => (value: T) => {
        cancel();
        this.#pending.delete(id);
        action(value);
      };
      this.#pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      this.#worker.postMessage(message);
    });
  }

  #onMessage(message: WorkerMessage): void {
    if (message.type === 'loaded') return this.#pending.get(LOAD_ID)?.resolve([]);
    const pending = this.#pending.get(message.id ?? LOAD_ID);
    if (message.type === 'done') pending?.resolve(message.outputs.map(bufferOutput));
    else pending?.reject(new TransformFailure(message.id === undefined || message.id === LOAD_ID ? `the module does not load: ${message.error}` : message.error));
  }

  /** The first reason wins: a terminated worker's exit must not hide why it was terminated. */
  #fail(reason: string): void {
    this.#failure ??= new TransformFailure(reason);
    for (const pending of [...this.#pending.values()]) pending.reject(this.#failure);
  }
}

/**
 * The record with its bytes copied out: a consumed record's Buffers are views of the whole fetch
 * response, and a view would carry all of its ArrayBuffer across to the worker. They cross as
 * Uint8Arrays; the worker makes them Buffers again.
 */
function wireInput(record: TransformInput): unknown {
  return { ...record, key: copy(record.key), value: copy(record.value), headers: record.headers.map((header) => ({ key: header.key, value: copy(header.value) })) };
}

/** A Uint8Array on an ArrayBuffer of its own (Buffer.from would take a slice of the shared pool). */
function copy(bytes: Buffer | null): Uint8Array | null {
  return bytes === null ? null : new Uint8Array(bytes);
}

function toBuffer(view: Uint8Array | null): Buffer | null {
  return view === null ? null : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function bufferOutput(output: WireOutput): TransformOutput {
  return { topic: output.topic, timestamp: output.timestamp, key: toBuffer(output.key), value: toBuffer(output.value), headers: output.headers.map((header) => ({ key: header.key, value: toBuffer(header.value) })) };
}
