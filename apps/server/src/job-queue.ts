/**
 * The bounded FIFO in front of the model worker: one job runs at a time (the worker owns one encoder
 * session and one decoder), at most `capacity` jobs wait or run, and a job whose client has gone
 * (its `AbortSignal` fired) is dropped before it starts. A full queue refuses at once with
 * `QueueFullError` (503 + `Retry-After`), so the server never builds an unbounded backlog.
 */
import { HttpError } from './errors.js';

/** 503: the model queue is full; `retryAfterSeconds` is an estimate of when a slot frees up. */
export class QueueFullError extends HttpError {
  override readonly code: string = 'queue-full';
  override readonly name: string = 'QueueFullError';
  constructor(
    readonly capacity: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      503,
      `queue: the model queue is full (${capacity} jobs waiting or running); retry after ${retryAfterSeconds} s`,
    );
  }
}

/** The request's client went away before its job started: the job is dropped, nothing is sent. */
export class ClientGoneError extends HttpError {
  override readonly code: string = 'client-gone';
  override readonly name: string = 'ClientGoneError';
  constructor(what: string) {
    super(499, `queue: ${what} dropped before it started, its client closed the connection`);
  }
}

/** Counters reported by `GET /api/health`. */
export interface QueueStats {
  readonly capacity: number;
  /** Jobs waiting (not started). */
  readonly waiting: number;
  /** 1 while a job runs. */
  readonly running: number;
  /** Jobs finished (successfully or not). */
  readonly done: number;
  /** Jobs dropped because their client had gone. */
  readonly dropped: number;
  /** Requests refused with 503. */
  readonly refused: number;
  /** Mean duration of the last jobs in milliseconds (0 before the first). */
  readonly meanMs: number;
}

interface Waiting {
  readonly what: string;
  readonly start: () => void;
}

export class JobQueue {
  private readonly waitingJobs: Waiting[] = [];
  private running = false;
  private paused = false;
  private done = 0;
  private dropped = 0;
  private refused = 0;
  private meanMs = 0;

  /** @param capacity most jobs waiting or running (>= 1). */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`JobQueue(capacity): expected an integer >= 1, got ${capacity}`);
  }

  /** Jobs waiting or running. */
  get size(): number {
    return this.waitingJobs.length + (this.running ? 1 : 0);
  }

  stats(): QueueStats {
    const { capacity, done, dropped, refused } = this;
    const meanMs = Math.round(this.meanMs * 10) / 10;
    return {
      capacity,
      waiting: this.waitingJobs.length,
      running: this.running ? 1 : 0,
      done,
      dropped,
      refused,
      meanMs,
    };
  }

  /** Seconds a client refused now should wait: the queue's expected drain time, at least 1. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.size * Math.max(this.meanMs, 100)) / 1000));
  }

  /**
   * Runs `task` after the jobs queued before it.
   * @param what job description for messages (`predict`, `embed`)
   * @param signal aborted when the client has gone: a waiting job is then dropped (ClientGoneError)
   * @param always queued even beyond `capacity` (maintenance jobs such as a decoder swap)
   * @throws QueueFullError (503) at once when `capacity` jobs are waiting or running
   */
  run<T>(what: string, task: () => Promise<T>, signal?: AbortSignal, always = false): Promise<T> {
    if (!always && this.size >= this.capacity) {
      this.refused++;
      return Promise.reject(new QueueFullError(this.capacity, this.retryAfterSeconds()));
    }
    if (signal?.aborted) {
      this.dropped++;
      return Promise.reject(new ClientGoneError(what));
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waitingJobs.indexOf(job);
        if (i < 0) return; // already started: it finishes, its reply is discarded by HTTP
        this.waitingJobs.splice(i, 1);
        this.dropped++;
        reject(new ClientGoneError(what));
      };
      const job: Waiting = {
        what,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          const t0 = performance.now();
          const finish = (): void => {
            const ms = performance.now() - t0;
            this.meanMs = this.done === 0 ? ms : 0.8 * this.meanMs + 0.2 * ms;
            this.done++;
            this.running = false;
            this.next();
          };
          task().then(
            (v) => {
              finish();
              resolve(v);
            },
            (e: unknown) => {
              finish();
              reject(e);
            },
          );
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waitingJobs.push(job);
      this.next();
    });
  }

  /** Stops starting jobs (waiting ones stay queued and count against the capacity); for maintenance and tests. */
  pause(): void {
    this.paused = true;
  }

  /** Starts queued jobs again. */
  resume(): void {
    this.paused = false;
    this.next();
  }

  private next(): void {
    if (this.running || this.paused) return;
    const job = this.waitingJobs.shift();
    if (!job) return;
    this.running = true;
    job.start();
  }
}
