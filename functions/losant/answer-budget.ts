// LosantTransport.send --> AnswerBudget: how many answer bytes may be on their way at once
//
// Every POST of an invite is answered with the org's whole invite collection: 36 MB at 79 000 pending. Sixteen
// of those in flight, each held as bytes and then as text, take more memory than a 1024 MB function has beside
// 100 000 people. The budget admits a request while the answers already on their way, counted at the size the
// last answer of the same path had, leave room for it; a request is always admitted when nothing is in flight.

/**
 * What one answer byte costs while it is read: the bytes, then the text decoded from them (a GET's list, a POST
 * answer the byte search of answer-bytes.ts cannot settle; a POST it settles is never decoded, so this is the worst case).
 */
const MEMORY_PER_ANSWER_BYTE = 2;

/** The share of the function's memory answers on their way may take (the rest: people, ledger, invites, members). */
const ANSWER_MEMORY_SHARE = 0.2;

/** The memory assumed without a function's (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`): the stage default. */
const DEFAULT_MEMORY_MB = 1024;

/**
 * The answer bytes a host with `memoryMb` of memory lets be on their way at once: a fifth of the memory,
 * halved because each byte is held twice while it is read. 1024 MB: 102.4 MiB (two 36 MB answers).
 * @example answerBytesInFlight(1024) // 107374182
 */
export function answerBytesInFlight(memoryMb?: number): number {
  const mb = memoryMb !== undefined && Number.isFinite(memoryMb) && memoryMb > 0 ? memoryMb : DEFAULT_MEMORY_MB;
  return Math.floor((mb * 1024 * 1024 * ANSWER_MEMORY_SHARE) / MEMORY_PER_ANSWER_BYTE);
}

/**
 * Counts the bytes of answers on their way and holds back requests that would exceed the budget.
 * The size of an answer is guessed from the last answer of the same path (the GET of an org's invites
 * tells the size of the POST answers to the same path before the first POST).
 * @example const size = await budget.acquire('/instances/i/orgs/o/invites', deadline); …; budget.release(path, size, bodyBytes)
 */
export class AnswerBudget {
  readonly maxBytes: number;
  private inFlight = 0;
  private peak = 0;
  private held = 0;
  private readonly lastSize = new Map<string, number>();
  private readonly waiting: (() => void)[] = [];

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Bytes of answers on their way now, the most there were, and how often a request waited (sizes as guessed at admission). */
  stats(): { bytesInFlight: number; peakBytesInFlight: number; held: number } {
    return { bytesInFlight: this.inFlight, peakBytesInFlight: this.peak, held: this.held };
  }

  /**
   * Waits until an answer to `path` fits (or nothing is in flight) and books its guessed size, which it
   * returns for `release`. Rejects at `deadline` (epoch ms) or when `signal` aborts: the request was not sent.
   */
  async acquire(path: string, now: () => number, deadline?: number, signal?: AbortSignal): Promise<number> {
    const size = this.lastSize.get(path) ?? 0;
    if (this.inFlight > 0 && this.inFlight + size > this.maxBytes) this.held += 1;
    while (this.inFlight > 0 && this.inFlight + size > this.maxBytes) {
      await this.wait(now, deadline, signal);
    }
    this.inFlight += size;
    this.peak = Math.max(this.peak, this.inFlight);
    return size;
  }

  /**
   * Ends a request admitted with `booked` bytes; `answerBytes` (when an answer came) guesses the next answer to
   * `path`. A `narrowed` answer (a GET with a filter: one email's invites) never lowers the guess, so the lookup
   * after an unanswered POST does not let the next POSTs, each answered with the whole collection, in at once.
   */
  release(path: string, booked: number, answerBytes?: number, narrowed = false): void {
    this.inFlight -= booked;
    if (answerBytes !== undefined) this.lastSize.set(path, narrowed ? Math.max(this.lastSize.get(path) ?? 0, answerBytes) : answerBytes);
    for (const wake of this.waiting.splice(0)) wake();
  }

  private wait(now: () => number, deadline?: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new Error('aborted while waiting for answer memory'));
        return;
      }
      const left = deadline === undefined ? undefined : deadline - now();
      if (left !== undefined && left <= 0) {
        reject(new Error('deadline reached while waiting for answer memory'));
        return;
      }
      const done = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const wake = () => {
        done();
        resolve();
      };
      const onAbort = () => {
        done();
        const i = this.waiting.indexOf(wake);
        if (i !== -1) this.waiting.splice(i, 1);
        reject(new Error('aborted while waiting for answer memory'));
      };
      const timer =
        left === undefined
          ? undefined
          : setTimeout(() => {
              const i = this.waiting.indexOf(wake);
              if (i !== -1) this.waiting.splice(i, 1);
              signal?.removeEventListener('abort', onAbort);
              reject(new Error('deadline reached while waiting for answer memory'));
            }, left);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(wake);
    });
  }
}
