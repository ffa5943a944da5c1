// unit: the progress renderers (cli/render/progress.ts)
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { barLine, createProgress, plainLine } from '../../cli/render/progress.ts';

describe('Function: barLine', () => {
  it('returns a bar with count, rate and ETA that fits the terminal width, shrinking the bar first', () => {
    // Arrange
    const p = { target: 'engineering', done: 150, total: 300, elapsedMs: 10_000 };

    // Act
    const wide = barLine(p, 120);
    const narrow = barLine(p, 50);
    const bare = barLine(p, 40);
    const tiny = barLine(p, 20);

    // Assess
    expect(wide).toBe(`engineering [${'#'.repeat(20)}${'.'.repeat(20)}] 150/300 15/s ETA 10s`);
    expect(narrow.length).toBeLessThanOrEqual(49);
    expect(narrow).toMatch(/^engineering \[#+\.+\] 150\/300 15\/s ETA 10s$/);
    expect(bare).toBe('engineering 150/300 15/s ETA 10s');
    expect(tiny.length).toBeLessThanOrEqual(19);
  });
});

describe('Function: plainLine', () => {
  it('returns the non-TTY line with percent, rate and ETA', () => {
    expect(plainLine({ target: 'eng', done: 120, total: 300, elapsedMs: 10_000 })).toBe('progress eng 120/300 (40%) 12/s ETA 15s');
    expect(plainLine({ target: 'eng', done: 0, total: 10, elapsedMs: 0 })).toBe('progress eng 0/10 (0%) 0.0/s ETA ?');
  });
});

describe('Function: createProgress (non-TTY)', () => {
  it('returns a line at most every interval per target and one when it finishes; logs pass straight through', () => {
    // Arrange
    let out = '';
    const stream = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) });
    let now = 0;
    const progress = createProgress({ stream, tty: false, intervalMs: 10_000, now: () => now });

    // Act
    progress.update('eng', 1, 100);
    now = 5_000;
    progress.update('eng', 40, 100);
    now = 10_000;
    progress.update('eng', 50, 100);
    progress.log('warn something\n');
    now = 12_000;
    progress.update('eng', 100, 100);
    progress.update('eng', 100, 100);

    // Assess
    expect(out.split('\n').filter(Boolean)).toEqual(['progress eng 50/100 (50%) 5.0/s ETA 10s', 'warn something', 'progress eng 100/100 (100%) 8.3/s ETA 0s']);
  });
});
