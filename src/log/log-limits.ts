// Named bounds for every cache, queue and buffer the log keeps (DESIGN.md decision 8).

/** Recently appended batches one partition keeps in memory for tailing consumers. */
export const TAIL_CACHE_BYTES_PER_PARTITION = 1024 * 1024;
/** All partitions' tail caches together; the least recently appended-to partitions give way first. */
export const TAIL_CACHE_BYTES_TOTAL = 64 * 1024 * 1024;
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
