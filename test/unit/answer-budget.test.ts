// test --> AnswerBudget (answer bytes on their way at once) and answerBytesInFlight (its size per function memory)
import { describe, expect, it } from 'vitest';
import { AnswerBudget, answerBytesInFlight } from '../../functions/losant/answer-budget.ts';

const PATH = '/instances/i/orgs/o/invites';
const now = () => Date.now();

describe('Function: answerBytesInFlight', () => {
  it('is a tenth of the memory in bytes (a fifth, each byte held twice), a 1024 MB function without one', () => {
    expect(answerBytesInFlight(1024)).toBe(Math.floor((1024 * 1024 * 1024) / 10));
    expect(answerBytesInFlight(3008)).toBe(Math.floor((3008 * 1024 * 1024) / 10));
    expect(answerBytesInFlight(undefined)).toBe(answerBytesInFlight(1024));
    expect(answerBytesInFlight(-1)).toBe(answerBytesInFlight(1024));
  });
});

describe('Class: AnswerBudget', () => {
  it('admits requests of an unknown size at once, then holds a request whose answer (the last to its path) would not fit', async () => {
    const budget = new AnswerBudget(100);
    const first = await budget.acquire(PATH, now);
    budget.release(PATH, first, 60); // the next answer to PATH is guessed at 60 bytes
    const a = await budget.acquire(PATH, now);
    let bAdmitted = false;
    const b = budget.acquire(PATH, now).then((n) => ((bAdmitted = true), n));
    await new Promise((r) => setTimeout(r, 20));
    expect(bAdmitted).toBe(false);
    expect(budget.stats()).toMatchObject({ bytesInFlight: 60, held: 1 });
    budget.release(PATH, a, 60);
    expect(await b).toBe(60);
    expect(budget.stats()).toEqual({ bytesInFlight: 60, peakBytesInFlight: 60, held: 1 });
  });

  it('admits an answer larger than the whole budget when nothing else is in flight', async () => {
    const budget = new AnswerBudget(10);
    budget.release(PATH, await budget.acquire(PATH, now), 1_000);
    expect(await budget.acquire(PATH, now)).toBe(1_000);
    expect(budget.stats().bytesInFlight).toBe(1_000);
  });

  it('keeps the guess per path: a small answer elsewhere passes beside a large one', async () => {
    const budget = new AnswerBudget(100);
    budget.release(PATH, await budget.acquire(PATH, now), 90);
    budget.release('/me', await budget.acquire('/me', now), 5);
    await budget.acquire(PATH, now);
    expect(await budget.acquire('/me', now)).toBe(5);
    expect(budget.stats().bytesInFlight).toBe(95);
  });

  it('rejects a held request at its deadline and when its signal aborts, and lets it go from the queue', async () => {
    const budget = new AnswerBudget(100);
    budget.release(PATH, await budget.acquire(PATH, now), 80);
    const holding = await budget.acquire(PATH, now);
    await expect(budget.acquire(PATH, now, Date.now() + 30)).rejects.toThrow(/deadline/);
    const abort = new AbortController();
    const aborted = budget.acquire(PATH, now, undefined, abort.signal);
    abort.abort();
    await expect(aborted).rejects.toThrow(/aborted/);
    await expect(budget.acquire(PATH, now, Date.now() - 1)).rejects.toThrow(/deadline/);
    budget.release(PATH, holding, 80);
    expect(budget.stats().bytesInFlight).toBe(0);
    expect(await budget.acquire(PATH, now)).toBe(80);
  });

  it('never lowers the guess for a narrowed answer (a filtered GET), and lowers it for a whole one', async () => {
    const budget = new AnswerBudget(100);
    budget.release(PATH, await budget.acquire(PATH, now), 90);
    budget.release(PATH, await budget.acquire(PATH, now), 2, true); // one email's invites
    expect(await budget.acquire(PATH, now)).toBe(90);
    budget.release(PATH, 90, 95, true);
    expect(await budget.acquire(PATH, now)).toBe(95);
    budget.release(PATH, 95, 10);
    expect(await budget.acquire(PATH, now)).toBe(10);
  });
});
