// Time and randomness as ports (DESIGN.md decision 7): domain code takes them as parameters so a
// simulation can drive it; src/node wires in the real ones.

export interface Clock {
  /** Wall-clock milliseconds since the epoch (record timestamps, retention). */
  nowMs(): number;
  /** Monotonic milliseconds for measuring intervals (timeouts, idle connections). */
  monotonicMs(): number;
  /** Runs `callback` after `delayMs`; the returned function cancels it. */
  schedule(delayMs: number, callback: () => void): () => void;
}

export interface RandomSource {
  /** A uniformly random integer in [0, bound). */
  nextInt(bound: number): number;
  /** `length` random bytes. */
  bytes(length: number): Buffer;
}
