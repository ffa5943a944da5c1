// test --> `invite-sync emulator` flag parsing
import { describe, it, expect } from 'vitest';
import { parseEmulatorFlags } from '../../cli/commands/emulator.ts';
import { CliError, EXIT } from '../../cli/exit-codes.ts';

describe('Function: parseEmulatorFlags', () => {
  it('returns the options for valid flags', () => {
    expect(
      parseEmulatorFlags({ port: '4010', host: ' 0.0.0.0 ', latency: '25', errorRate: '0.1', lostResponseRate: '0', faultSeed: '42', rateLimit: '5' }),
    ).toEqual({ port: 4010, host: '0.0.0.0', latencyMs: 25, errorRate: 0.1, lostResponseRate: 0, faultSeed: 42, rateLimit: 5 });
  });

  it('returns plainAnswers only when --plain-answers is given', () => {
    expect(parseEmulatorFlags({ port: '0', host: '127.0.0.1', plainAnswers: true })).toEqual({ port: 0, host: '127.0.0.1', plainAnswers: true });
    expect(parseEmulatorFlags({ port: '0', host: '127.0.0.1' })).not.toHaveProperty('plainAnswers');
  });

  it('returns postDelayMs from --post-delay-ms', () => {
    // Act
    const options = parseEmulatorFlags({ port: '0', host: '127.0.0.1', postDelayMs: '12000' });

    // Assess
    expect(options).toEqual({ port: 0, host: '127.0.0.1', postDelayMs: 12000 });
  });

  it('returns only port and host when no fault flag is given', () => {
    expect(parseEmulatorFlags({ port: '0', host: '127.0.0.1' })).toEqual({ port: 0, host: '127.0.0.1' });
  });

  it.each([
    [{ port: '-1' }, '--port'],
    [{ port: '70000' }, '--port'],
    [{ port: '' }, '--port'],
    [{ host: '  ' }, '--host'],
    [{ latency: '1.5' }, '--latency'],
    [{ errorRate: '1.01' }, '--error-rate'],
    [{ lostResponseRate: 'half' }, '--lost-response-rate'],
    [{ faultSeed: '-3' }, '--fault-seed'],
    [{ rateLimit: '-1' }, '--rate-limit'],
    [{ postDelayMs: '-5' }, '--post-delay-ms'],
    [{ postDelayMs: 'soon' }, '--post-delay-ms'],
  ])('throws CliError (exit 2) naming the flag for %j', (bad, flag) => {
    // Act
    let caught: unknown;
    try {
      parseEmulatorFlags({ port: '0', host: '127.0.0.1', ...bad });
    } catch (err) {
      caught = err;
    }

    // Assess
    expect(caught).toBeInstanceOf(CliError);
    expect((caught as CliError).exitCode).toBe(EXIT.badInput);
    expect((caught as CliError).message).toContain(flag);
  });
});
