// Runtime pieces of the Lambda: masked Powertools logs, EMF run metrics, the env schema, trigger detection.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLambdaLogger, keyedLog, maskingReplacer, REDACTED } from '../../functions/runtime/logger.ts';
import { createLambdaMetrics, recordRunMetrics, runMetricValues, RUN_METRICS } from '../../functions/runtime/metrics.ts';
import { EnvironmentError, parseLambdaEnv } from '../../functions/runtime/env.schema.ts';
import { detectTrigger, dispatch } from '../../functions/handlers/index.handler.ts';
import { dispatchReconcile } from '../../functions/handlers/reconcile.handler.ts';
import { coldStartOnce } from '../../functions/runtime/host-container.ts';
import { UnknownEventError } from '../../functions/handlers/errors.ts';
import type { Container } from '../../functions/runtime/composition-root.ts';
import type { RunReport, TargetReport } from '../../functions/sync/types.ts';
import { emptyActionCounts, emptySkipCounts } from '../../functions/sync/types.ts';
import { fixture } from '../helpers/fixtures.ts';


/** Captures the lines written to stdout and stderr while `fn` runs (Powertools writes its JSON lines there). */
function captureOutput(fn: () => void): string[] {
  const out: string[] = [];
  const sink = (chunk: string | Uint8Array) => {
    out.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const spies = [vi.spyOn(process.stdout, 'write').mockImplementation(sink), vi.spyOn(process.stderr, 'write').mockImplementation(sink)];
  try {
    fn();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return out.join('').split('\n').filter(Boolean);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Function: createLambdaLogger', () => {
  it('returns a logger whose JSON lines mask emails in the message, extra fields and errors and redact credentials', () => {
    // Arrange
    const log = createLambdaLogger({ serviceName: 'invite-sync', persistentKeys: { stage: 'test' } });
    // Act
    const lines = captureOutput(() => {
      log.appendKeys({ eventId: 'evt-1' });
      log.error('invite failed for Jane.Doe@Example.com', {
        people: ['omar.haddad@example.com', { email: 'li.wei@example.org' }],
        authorization: 'Bearer tok_abc123',
        token: 'tok_abc123',
        error: new Error('Losant said: ann@example.com already invited'),
      });
      log.removeKeys(['eventId']);
      log.info('second line');
    });
    // Assert
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    const text = lines.join('\n');
    expect(first).toMatchObject({ level: 'ERROR', service: 'invite-sync', stage: 'test', eventId: 'evt-1', authorization: REDACTED, token: REDACTED });
    expect(first.message).toBe('invite failed for J***@E***.com');
    for (const email of ['Jane.Doe@Example.com', 'omar.haddad@example.com', 'li.wei@example.org', 'ann@example.com']) expect(text).not.toContain(email);
    expect(text).not.toContain('tok_abc123');
    expect(JSON.parse(lines[1]!)).not.toHaveProperty('eventId');
  });
});

describe('Function: maskingReplacer', () => {
  it('returns masked strings, redacted credential fields and other values untouched', () => {
    const out = JSON.parse(JSON.stringify({ a: 'xy@ab.com', n: 3, secretArn: 'arn:…', webhookSignature: 'v1,abc', ok: true }, maskingReplacer));
    expect(out).toEqual({ a: 'x***@a***.com', n: 3, secretArn: REDACTED, webhookSignature: REDACTED, ok: true });
  });
});

describe('Function: keyedLog', () => {
  it('returns a log that adds appended keys to every line until they are removed', () => {
    const seen: Array<Record<string, unknown> | undefined> = [];
    const log = keyedLog({ debug: () => {}, info: (_m, e) => seen.push(e), warn: () => {}, error: () => {} });
    log.appendKeys({ runId: 'r-1' });
    log.info('a', { n: 1 });
    log.removeKeys(['runId']);
    log.info('b');
    expect(seen).toEqual([{ runId: 'r-1', n: 1 }, undefined]);
  });
});

function target(over: Partial<TargetReport>): TargetReport {
  return {
    name: 't', instanceId: 'i', orgId: 'o', desired: 0, pending: 0, members: 0,
    planned: emptyActionCounts(), done: emptyActionCounts(), failed: 0, skipped: emptySkipCounts(), blocked: null, complete: true,
    ...over,
  };
}

describe('Function: recordRunMetrics', () => {
  it('returns summed run metrics and publishes one EMF record per target in [service, stage] and [service, stage, target]', () => {
    // Arrange
    const report: RunReport = {
      mode: 'apply', runId: 'r-1', complete: false,
      targets: [
        target({ name: 'eng', planned: { invite: 5, renew: 2, fixRole: 0, revoke: 0, remove: 0 }, done: { invite: 4, renew: 2, fixRole: 0, revoke: 0, remove: 0 }, failed: 3,
          failures: [{ email: 'a@example.com', reason: 'ambiguous' }, { email: 'b@example.com', reason: 'ambiguous' }],
          skipped: { ...emptySkipCounts(), noSeat: 3 }, seats: { limit: 10, reserve: 1, used: 9, free: 0, noSeat: 3 } }),
        target({ name: 'ops', planned: { invite: 9, renew: 0, fixRole: 0, revoke: 0, remove: 0 }, blocked: 'maxInvitesPerRun', complete: false }),
      ],
    };
    const metrics = createLambdaMetrics({ namespace: 'InviteSync', serviceName: 'invite-sync', stage: 'prod' });
    // Act
    let values: ReturnType<typeof recordRunMetrics> | undefined;
    const lines = captureOutput(() => {
      values = recordRunMetrics(metrics, report, 1234.4);
    });
    // Assert
    expect(values).toEqual({ InvitesSent: 4, InvitesRenewed: 2, InvitesFailed: 1, InvitesAmbiguous: 2, InvitesNoSeat: 3, RunsBlocked: 1, DriftRemaining: 10, RunDurationMs: 1234, MembersRemoved: 0 });
    expect(lines).toHaveLength(2);
    type Emf = { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } } & Record<string, unknown>;
    const [eng, ops] = lines.map((l) => JSON.parse(l) as Emf);
    const directive = eng!._aws.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe('InviteSync');
    expect(directive.Dimensions).toEqual([['service', 'stage'], ['service', 'stage', 'target']]);
    expect(directive.Metrics.map((m) => m.Name).sort()).toEqual([...RUN_METRICS, 'SeatsFree'].sort());
    // SeatsFree only for a target whose org has a member limit
    expect(ops!._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name)).not.toContain('SeatsFree');
    expect(directive.Metrics.find((m) => m.Name === 'RunDurationMs')?.Unit).toBe('Milliseconds');
    expect(eng).toMatchObject({ service: 'invite-sync', stage: 'prod', target: 'eng', InvitesSent: 4, InvitesFailed: 1, InvitesAmbiguous: 2, InvitesNoSeat: 3, SeatsFree: 0, DriftRemaining: 1, RunsBlocked: 0 });
    expect(ops).toMatchObject({ service: 'invite-sync', stage: 'prod', target: 'ops', InvitesSent: 0, DriftRemaining: 9, RunsBlocked: 1 });
  });

  it('returns the sums and publishes one [service, stage] record for a run without targets', () => {
    // Arrange
    const metrics = createLambdaMetrics({ namespace: 'InviteSync', serviceName: 'invite-sync', stage: 'dev' });
    // Act
    const lines = captureOutput(() => {
      recordRunMetrics(metrics, { mode: 'apply', runId: 'r', complete: true, targets: [] }, 7);
    });
    // Assert
    expect(lines).toHaveLength(1);
    const emf = JSON.parse(lines[0]!) as { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } } & Record<string, unknown>;
    expect(emf._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'stage']]);
    expect(emf).toMatchObject({ stage: 'dev', RunDurationMs: 7 });
    expect(emf.target).toBeUndefined();
  });

  it('returns zero drift for a run that did everything it planned', () => {
    const report: RunReport = { mode: 'apply', runId: 'r', complete: true, targets: [target({ planned: { invite: 3, renew: 0, fixRole: 0, revoke: 1, remove: 0 }, done: { invite: 3, renew: 0, fixRole: 0, revoke: 1, remove: 0 } })] };
    expect(runMetricValues(report, 5)).toMatchObject({ InvitesSent: 3, DriftRemaining: 0, RunsBlocked: 0 });
  });
});

const GOOD_ENV = {
  STAGE: 'dev',
  STATE_TABLE: 'invite-sync-dev-State',
  LOSANT_API_URL: 'https://api.losant.com',
  LOSANT_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:LosantToken-AbCdEf',
  WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:WebhookSecret-AbCdEf',
  RECONCILE_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/invite-sync-dev-Reconcile',
  PATH: '/usr/bin',
};

describe('Function: parseLambdaEnv', () => {
  it('returns the environment with defaults for the optional variables', () => {
    const env = parseLambdaEnv({ ...GOOD_ENV, POWERTOOLS_LOG_LEVEL: 'debug' });
    expect(env).toMatchObject({ STAGE: 'dev', SYNC_CONFIG_FILE: 'sync-config.json', POWERTOOLS_SERVICE_NAME: 'invite-sync', POWERTOOLS_METRICS_NAMESPACE: 'InviteSync', POWERTOOLS_LOG_LEVEL: 'DEBUG' });
  });

  it('throws EnvironmentError naming every bad variable without its value', () => {
    const { STATE_TABLE: _drop, ...rest } = GOOD_ENV;
    let caught: unknown;
    try {
      parseLambdaEnv({ ...rest, RECONCILE_QUEUE_URL: 'not a url secret-ish' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(EnvironmentError);
    expect((caught as EnvironmentError).variables.sort()).toEqual(['RECONCILE_QUEUE_URL', 'STATE_TABLE']);
    expect((caught as Error).message).not.toContain('secret-ish');
  });
});

describe('Function: detectTrigger', () => {
  it.each([
    ['http-api-webhook.json', 'http'],
    ['eventbridge-scheduled.json', 'schedule'],
    ['eventbridge-hr-event.json', 'hrEvent'],
    ['sqs-reconcile.json', 'sqs'],
    ['s3-object-created.json', 's3'],
  ])('returns the trigger of %s', (file, expected) => {
    expect(detectTrigger(fixture(`lambda/${file}`))).toBe(expected);
  });

  it('returns null for shapes no trigger sends', () => {
    expect([null, 'x', [], { Records: [] }, { Records: [{ eventSource: 'aws:kinesis' }] }, { Records: [{ eventSource: 'aws:s3' }, { eventSource: 'aws:sqs' }] }, { version: '1.0', requestContext: {} }].map(detectTrigger)).toEqual([null, null, null, null, null, null, null]);
  });
});

describe('Function: dispatch', () => {
  it('throws UnknownEventError and logs only the keys of an unknown event', async () => {
    // Arrange
    const logged: string[] = [];
    const log = keyedLog({ debug: () => {}, info: () => {}, warn: () => {}, error: (m, e) => logged.push(`${m} ${JSON.stringify(e)}`) });
    const deps = { log } as unknown as Container;
    // Act
    const run = dispatch({ kind: 'S3', secretValue: 'jane@example.com' }, { getRemainingTimeInMillis: () => 60_000 }, deps);
    // Assert
    await expect(run).rejects.toBeInstanceOf(UnknownEventError);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('secretValue');
    expect(logged[0]).not.toContain('jane@example.com');
  });
});

describe('Function: dispatchReconcile', () => {
  it('throws UnknownEventError for an HTTP API request (the HTTP function serves those) and logs only its keys', async () => {
    // Arrange
    const logged: string[] = [];
    const log = keyedLog({ debug: () => {}, info: () => {}, warn: () => {}, error: (m, e) => logged.push(`${m} ${JSON.stringify(e)}`) });
    const deps = { log } as unknown as Container;
    const event = fixture('lambda/http-api-webhook.json');
    // Act
    const run = dispatchReconcile(event, { getRemainingTimeInMillis: () => 60_000 }, deps);
    // Assert
    expect(detectTrigger(event)).toBe('http');
    await expect(run).rejects.toBeInstanceOf(UnknownEventError);
    expect(logged).toEqual([expect.stringContaining('unknown event shape rejected')]);
    expect(logged[0]).toContain('requestContext');
  });
});

describe('Function: coldStartOnce', () => {
  it('returns the first build to every caller, and builds again after a build failed', async () => {
    // Arrange
    const slot: { current?: Promise<string> } = {};
    let builds = 0;
    const failing = () => {
      builds += 1;
      return Promise.reject(new Error('no config'));
    };
    const working = () => {
      builds += 1;
      return Promise.resolve(`container ${builds}`);
    };
    // Act
    const failed = await coldStartOnce(slot, failing).catch((e: unknown) => (e as Error).message);
    const first = await coldStartOnce(slot, working);
    const second = await coldStartOnce(slot, working);
    // Assert
    expect(failed).toBe('no config');
    expect([first, second]).toEqual(['container 2', 'container 2']);
    expect(builds).toBe(2);
  });
});
