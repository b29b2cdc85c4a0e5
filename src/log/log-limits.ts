// Named bounds for every cache, queue and buffer the log keeps (DESIGN.md decision 8).

/** Recently appended batches one partition keeps in memory for tailing consumers. */
export const TAIL_CACHE_BYTES_PER_PARTITION = 1024 * 1024;
/** All partitions' tail caches together; the least recently appended-to partitions give way first. */
export const TAIL_CACHE_BYTES_TOTAL = 64 * 1024 * 1024;
/**
 * The reused chunks tail caches copy batches into (tail-cache.ts); a larger batch is kept as it is.
 * A partition's cache holds whole chunks, so this is also the least one cached partition takes.
 */
export const TAIL_CACHE_CHUNK_BYTES = 64 * 1024;
/** Free tail-cache chunks kept for reuse beyond those the caches hold. */
export const TAIL_CACHE_FREE_CHUNKS_MAX = 32;
/** Bytes gathered into one write call from queued appends. */
export const WRITE_COALESCE_BYTES_MAX = 4 * 1024 * 1024;
/** Batches gathered into one write call (stays under the kernel's IOV_MAX of 1024). */
export const WRITE_COALESCE_BATCHES_MAX = 512;
/** Bytes of appends waiting for the disk in one partition before new appends are refused. */
export const APPEND_QUEUE_BYTES_MAX = 64 * 1024 * 1024;
/** File descriptors the log manager keeps open across all partitions (an LRU). */
export const OPEN_FILE_HANDLES_MAX = 1024;
/** Partition directories loaded at the same time when the log manager opens. */
export const OPEN_PARTITIONS_CONCURRENCY = 64;
/** Bytes read at a time while scanning batch headers to locate an offset. */
export const SCAN_CHUNK_BYTES = 16 * 1024;
/** Bytes read at a time while recovering (validating) a segment. */
export const RECOVERY_CHUNK_BYTES = 1024 * 1024;
/** The most bytes one read returns, whatever maxBytes asks (a single oversized batch excepted). */
export const READ_BYTES_MAX = 64 * 1024 * 1024;
/** Bytes all segments together keep read ahead for sequential readers (read-ahead.ts); the oldest give way. */
export const READ_AHEAD_BYTES_TOTAL = 64 * 1024 * 1024;
/**
 * Size of the reused read buffers (read-buffer-pool.ts): a fetch's default max.partition.fetch.bytes
 * plus the slack a read takes to walk from the index entry to the fetch offset.
 */
export const READ_POOL_SLAB_BYTES = 1024 * 1024 + 16 * 1024;
/** Read buffers kept for reuse (about two per consumer reading at full speed). */
export const READ_POOL_FREE_MAX = 16;
/** Read-aheads one segment keeps at once: about one per consumer reading it. */
export const READ_AHEADS_PER_SEGMENT_MAX = 4;
/** Bytes the log cleaner reads from a segment at a time (a larger single batch is read whole). */
export const CLEANER_READ_BUFFER_BYTES = 1024 * 1024;
/** Bytes of cleaned batches the cleaner gathers before one write to the `.cleaned` segment. */
export const CLEANER_WRITE_BUFFER_BYTES = 1024 * 1024;
/** Decompressed bytes one batch may expand to while the cleaner or the compacted-topic check decodes it. */
export const CLEANER_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;
/** Producer ids whose last batch one cleaning pass tracks; beyond it every producer batch is kept. */
export const CLEANER_PRODUCERS_MAX = 100_000;
/** The offset map's load factor (Kafka's log.cleaner.io.buffer.load.factor). */
export const CLEANER_OFFSET_MAP_LOAD_FACTOR = 0.9;
/**
 * log.cleaner.dedupe.buffer.size default. Kafka's is 128 MiB; Conveyor is often embedded in tests
 * and small services, so it defaults to 32 MiB (about 1.3 million keys per pass) and the key raises it.
 */
export const CLEANER_DEDUPE_BUFFER_BYTES_DEFAULT = 32 * 1024 * 1024;
/** log.cleaner.backoff.ms default: how long the cleaner sleeps when no log needs cleaning. */
export const CLEANER_BACKOFF_MS_DEFAULT = 15_000;
/** log.retention.check.interval.ms default. */
export const RETENTION_CHECK_INTERVAL_MS_DEFAULT = 300_000;
/** Segments whose deletion waits for file.delete.delay.ms in one log; beyond it deletion is immediate. */
export const PENDING_FILE_DELETIONS_MAX = 10_000;
/** CPU time the cleaner works before giving the event loop a turn, even inside one batch. */
export const CLEANER_SLICE_MS = 0.25;
/** Records the cleaner handles between two looks at the clock. */
export const CLEANER_RECORDS_PER_CLOCK_CHECK = 32;
