// Polyfills real clients expect from newer Node versions. @platformatic/kafka 2.x calls
// Promise.withResolvers (Node 22+), so its tests import this module before importing the client.
interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const promiseConstructor = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };

// Only installed when missing, so on Node 22+ the native implementation is what the client uses.
promiseConstructor.withResolvers ??= <T>(): Resolvers<T> => {
  let resolve!: Resolvers<T>['resolve'];
  let reject!: Resolvers<T>['reject'];
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/** Whether the running Node has zstd in node:zlib (22.15+); platformatic's zstd codec needs it. */
export async function nodeHasZstd(): Promise<boolean> {
  const zlib = (await import('node:zlib')) as unknown as Record<string, unknown>;
  return typeof zlib.zstdCompressSync === 'function';
}
