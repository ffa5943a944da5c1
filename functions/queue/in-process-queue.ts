// serve's handlers --> InProcessReconcileQueue --> worker (reconcile one target) in the background
import type { EnqueueOptions, Log, ReconcileQueue } from '../sync/ports.ts';

/** The queue no longer takes work (it is draining for shutdown). */
export class QueueClosedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueClosedError';
  }
}

export interface InProcessQueueOptions {
  /** reconciles one target; false (or a throw) means "try again later" (lease busy, Losant unreachable…) */
  worker: (target: string, reason: string, trigger?: EnqueueOptions['trigger']) => Promise<boolean>;
  log: Log;
  /** targets reconciled at the same time (never the same target twice); default 2 */
  concurrency?: number;
  /** tries per queued target before it is dropped (the next schedule picks it up); default 3 */
  maxAttempts?: number;
  /** wait before a retry, doubled per attempt; default 2000 */
  retryDelayMs?: number;
}

interface Pending {
  reason: string;
  attempt: number;
  trigger?: EnqueueOptions['trigger'];
}

/**
 * The ReconcileQueue of `invite-sync serve`: what SQS and the queue handler do in AWS, in process.
 * Duplicates coalesce (a target queued while it waits runs once; queued while it runs, once more
 * after); one reconcile per target at a time; failed targets are retried with backoff, then dropped.
 * @example const q = new InProcessReconcileQueue({ worker, log }); await q.enqueue(['eng'], 'webhook'); await q.drain(30_000)
 */
export class InProcessReconcileQueue implements ReconcileQueue {
  readonly #opts: Required<InProcessQueueOptions>;
  readonly #pending = new Map<string, Pending>();
  readonly #running = new Set<string>();
  readonly #retryTimers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #idleWaiters: Array<() => void> = [];
  /** targets waiting out an enqueue delay (SCIM's debounce): the first write's timer stands, later ones join it */
  readonly #delayed = new Map<string, { timer: ReturnType<typeof setTimeout>; job: Pending }>();
  #closed = false;

  constructor(opts: InProcessQueueOptions) {
    this.#opts = { concurrency: 2, maxAttempts: 3, retryDelayMs: 2000, ...opts };
  }

  enqueue(targetNames: string[], reason: string, opts: EnqueueOptions = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new QueueClosedError('the reconcile queue is shutting down'));
    const delayMs = Math.max(0, (opts.delaySeconds ?? 0) * 1000);
    for (const name of new Set(targetNames)) {
      if (delayMs > 0) {
        if (this.#delayed.has(name) || this.#pending.has(name)) continue;
        const job: Pending = { reason, attempt: 1, ...(opts.trigger ? { trigger: opts.trigger } : {}) };
        const timer = setTimeout(() => this.#release(name), delayMs);
        timer.unref?.();
        this.#delayed.set(name, { timer, job });
        continue;
      }
      const timer = this.#retryTimers.get(name);
      if (timer) {
        // new work supersedes a waiting retry
        clearTimeout(timer);
        this.#retryTimers.delete(name);
      }
      this.#pending.set(name, { reason, attempt: 1, ...(opts.trigger ? { trigger: opts.trigger } : {}) });
    }
    this.#pump();
    return Promise.resolve();
  }

  /** targets waiting, running or waiting for a retry */
  get size(): number {
    return new Set([...this.#pending.keys(), ...this.#running, ...this.#retryTimers.keys(), ...this.#delayed.keys()]).size;
  }

  /**
   * Stops taking work and waits until queued and running reconciles finish, at most `timeoutMs`.
   * Retries still waiting are dropped. Resolves true when everything finished in time.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.#closed = true;
    for (const timer of this.#retryTimers.values()) clearTimeout(timer);
    this.#retryTimers.clear();
    // delayed work is not dropped at shutdown: it runs now
    for (const name of [...this.#delayed.keys()]) this.#release(name);
    if (this.#isIdle()) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const idle = new Promise<boolean>((resolve) => this.#idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([idle, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #isIdle(): boolean {
    return this.#pending.size === 0 && this.#running.size === 0 && this.#retryTimers.size === 0 && this.#delayed.size === 0;
  }

  /** A delayed target's wait is over: it joins the pending work. */
  #release(name: string): void {
    const delayed = this.#delayed.get(name);
    if (!delayed) return;
    clearTimeout(delayed.timer);
    this.#delayed.delete(name);
    if (!this.#pending.has(name)) this.#pending.set(name, delayed.job);
    this.#pump();
  }

  #pump(): void {
    for (const [name, job] of this.#pending) {
      if (this.#running.size >= this.#opts.concurrency) return;
      if (this.#running.has(name)) continue;
      this.#pending.delete(name);
      this.#running.add(name);
      void this.#run(name, job);
    }
  }

  async #run(name: string, job: Pending): Promise<void> {
    let ok = false;
    try {
      ok = await this.#opts.worker(name, job.reason, job.trigger);
    } catch (err) {
      this.#opts.log.error('queued reconcile threw', { target: name, error: (err as Error).message });
    }
    this.#running.delete(name);
    if (!ok && !this.#pending.has(name)) this.#retry(name, job);
    this.#pump();
    if (this.#isIdle()) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  #retry(name: string, job: Pending): void {
    if (this.#closed || job.attempt >= this.#opts.maxAttempts) {
      this.#opts.log.warn('queued reconcile dropped; the next schedule or event retries it', { target: name, attempts: job.attempt });
      return;
    }
    const delay = this.#opts.retryDelayMs * 2 ** (job.attempt - 1);
    const timer = setTimeout(() => {
      this.#retryTimers.delete(name);
      if (!this.#pending.has(name)) this.#pending.set(name, { ...job, attempt: job.attempt + 1 });
      this.#pump();
    }, delay);
    timer.unref?.();
    this.#retryTimers.set(name, timer);
  }
}
