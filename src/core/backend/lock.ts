/**
 * tfjs keeps one engine per thread with one active backend. Jobs that switch backends (the
 * self-test, probing, setBackend) must therefore not interleave with each other: if a probe
 * switches to cpu while the self-test is halfway through a webgl step, the self-test compares the
 * wrong numbers. exclusive() queues such jobs so each runs alone on its thread.
 */
let tail: Promise<unknown> = Promise.resolve();

export function exclusive<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>): (...args: A) => Promise<R> {
  return (...args: A) => {
    const run = tail.then(() => fn(...args));
    tail = run.catch(() => undefined);
    return run;
  };
}
