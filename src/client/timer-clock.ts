// The default clock of the tools' connections (KafkaConnection, PipelinedConnection), which always
// run in real time: plain timers, so tools need not wire a clock. Code that must also run in
// simulation (the node transport, the framing core) takes its Clock as a parameter instead.
import { performance } from 'node:perf_hooks';
import type { Clock } from '../base/clock.js';

/** setTimeout's largest delay; longer deadlines are cut to it. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

export const timerClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  schedule(delayMs, callback) {
    const timer = setTimeout(callback, Math.min(Math.max(0, delayMs), MAX_TIMER_DELAY_MS));
    // A deadline alone never keeps a process alive: the open socket does while it is needed.
    timer.unref();
    return () => clearTimeout(timer);
  },
};
