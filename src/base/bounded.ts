// Bounded concurrency for I/O-heavy loops over many items (thousands of partitions): enough work in
// flight to keep the file system busy, never one promise per item at once.

/**
 * Runs `work` over `items` with at most `limit` in flight. After a failure no new item starts, and
 * the returned promise rejects with that failure.
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed) {
      const item = items[next]!;
      next += 1;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}
