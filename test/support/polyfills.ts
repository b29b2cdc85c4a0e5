// Polyfills real clients expect from newer Node versions, for Node 20 only. @platformatic/kafka 2.x
// calls Promise.withResolvers (native since Node 22; the client itself declares Node >= 22.22 or
// >= 24.6), so its tests and helpers import this module before importing the client. On Node 22+
// importing it changes nothing: the client runs on the native implementation, as users' do.
interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

/** The running Node's major version. */
export const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/** Whether this process runs the Promise.withResolvers polyfill (Node 20 only). */
export const POLYFILLED_WITH_RESOLVERS = NODE_MAJOR < 22;

const promiseConstructor = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };

if (POLYFILLED_WITH_RESOLVERS) {
  promiseConstructor.withResolvers ??= <T>(): Resolvers<T> => {
    let resolve!: Resolvers<T>['resolve'];
    let reject!: Resolvers<T>['reject'];
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
} else if (typeof promiseConstructor.withResolvers !== 'function') {
  // Never polyfill on 22+: a missing native one would mean a broken runtime, not a test concern.
  throw new Error(`Node ${process.versions.node} has no native Promise.withResolvers`);
}
