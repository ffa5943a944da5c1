import { describe, expect, it } from 'vitest';
import { HOURS_PER_MONTH, monthCost, renderCostTable, PRICES, runsPerMonth, scalePerRun, sqsPollRequestsPerMonth, type Fixed, type PerRun } from '../../bench/cost.ts';

const perRun: PerRun = { durationMs: 999.2, invocations: 2, readUnits: 100, writeUnits: 4, sqsRequests: 2, secretCalls: 1, logBytes: 1024 ** 3 / 1000 };
const fixed: Fixed = { alarmMetrics: 17, dashboards: 1, secrets: 3, kmsKeys: 1, customMetrics: 10, sqsPollRequests: 1_000_000 };
const line = (lines: { item: string; usd: number; quantity: number }[], item: string) => {
  const found = lines.find((l) => l.item === item);
  if (!found) throw new Error(`no line ${item}`);
  return found;
};

describe('runsPerMonth', () => {
  it('counts a 730-hour month of rate() schedules', () => {
    expect(runsPerMonth('rate(15 minutes)')).toBe(2920);
    expect(runsPerMonth('rate(1 minute)')).toBe(HOURS_PER_MONTH * 60);
    expect(runsPerMonth('rate(2 hours)')).toBe(365);
    expect(runsPerMonth('rate(1 day)')).toBeCloseTo(30.4167, 3);
  });
  it('refuses cron and zero rates naming the field', () => {
    expect(() => runsPerMonth('cron(0 * * * ? *)')).toThrow(/scheduleExpression/);
    expect(() => runsPerMonth('rate(0 minutes)')).toThrow(/scheduleExpression/);
  });
});

describe('monthCost', () => {
  const month = monthCost(perRun, 1000, 2048, fixed);
  it('prices Lambda GB-s from memory × duration rounded up to the ms', () => {
    const l = line(month.variable, 'Lambda duration');
    expect(l.quantity).toBeCloseTo(1000 * 2 * 1.0, 9); // 999.2 ms bills as 1 000 ms, 2 GB
    expect(l.usd).toBeCloseTo(2000 * PRICES.lambdaArmGbSecond, 12);
    expect(line(month.variable, 'Lambda requests').quantity).toBe(2000);
    expect(line(month.variable, 'Lambda requests').usd).toBeCloseTo(2000 * 0.2e-6, 12);
  });
  it('prices request units, SQS, secret calls and logs per run', () => {
    expect(line(month.variable, 'DynamoDB reads').usd).toBeCloseTo(100_000 * 0.125e-6, 12);
    expect(line(month.variable, 'DynamoDB writes').usd).toBeCloseTo(4000 * 0.625e-6, 12);
    expect(line(month.variable, 'SQS requests of runs').usd).toBeCloseTo(2000 * 0.4e-6, 12);
    expect(line(month.variable, 'Secrets Manager API calls').usd).toBeCloseTo(1000 * 0.05e-4, 12);
    expect(line(month.variable, 'Log ingestion').quantity).toBeCloseTo(1, 9);
    expect(line(month.variable, 'Log ingestion').usd).toBeCloseTo(0.5, 9);
  });
  it('adds the fixed items whatever the runs', () => {
    expect(month.fixedUsd).toBeCloseTo(17 * 0.1 + 3 + 10 * 0.3 + 3 * 0.4 + 1 + 0.4, 9);
    expect(monthCost(perRun, 0, 1024, fixed).fixedUsd).toBeCloseTo(month.fixedUsd, 12);
    expect(monthCost(perRun, 0, 1024, fixed).variableUsd).toBe(0);
    expect(month.totalUsd).toBeCloseTo(month.fixedUsd + month.variableUsd, 12);
  });
  it('refuses a non-positive memory', () => {
    expect(() => monthCost(perRun, 1, 0, fixed)).toThrow(/memoryMb/);
  });
});

describe('scalePerRun', () => {
  it('scales the per-person counts linearly but not the per-run invocations, SQS requests and secret call', () => {
    const s = scalePerRun(perRun, 10_000, 100_000);
    expect(s.readUnits).toBe(1000);
    expect(s.writeUnits).toBe(40);
    expect(s.durationMs).toBeCloseTo(9992, 9);
    expect(s.secretCalls).toBe(1);
    expect(s.invocations).toBe(2);
    expect(s.sqsRequests).toBe(2);
    expect(() => scalePerRun(perRun, 0, 10)).toThrow(/fromPeople/);
  });
});

describe('sqsPollRequestsPerMonth', () => {
  it('counts five 20 s long polls back to back', () => {
    expect(sqsPollRequestsPerMonth()).toBe(657_000);
  });
});

describe('renderCostTable', () => {
  it('prints a column per size with the total in USD', () => {
    const month = monthCost(perRun, 10, 1024, fixed);
    const text = renderCostTable([{ people: 1000, basis: 'measured', perRun, month }]);
    expect(text.split('\n')[0]).toBe('| item | 1,000 people (measured) |');
    expect(text).toContain(`| **total a month (USD)** | **$${month.totalUsd.toFixed(2)}** |`);
    expect(text).toContain('| Log ingestion (GB) | 0.010: $0.0050 |');
  });
});
