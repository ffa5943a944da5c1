// Issue 12 item 2 in the deployed path: the Lambda composition root (reconcile container) passes the sync config's
// limits.maxAnswerBytes to its Losant client, as the CLI does (answer-cap-cli.int.test.ts). The real queue handler
// over the emulator (an org whose invite list is ~3 KB) and DynamoDB Local.
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { DEFAULT_ID, type RunningEmulator } from '../../emulator/index.ts';
import type { Container } from '../../functions/runtime/composition-root.ts';
import { dispatch } from '../../functions/handlers/index.handler.ts';
import { lambdaHost } from '../helpers/lambda-host.ts';
import { fixture } from '../helpers/fixtures.ts';

const PENDING = Array.from({ length: 30 }, (_, i) => ({ email: `pending${i}@cap.example`, role: 'edit' as const }));
const CAP = 2048;
const template = (fixture('lambda/sqs-reconcile.json') as SQSEvent).Records[0]!;

const host = lambdaHost({
  name: 'lambda-answer-cap',
  emulator: { seed: { instances: [{ id: DEFAULT_ID, orgs: [{ id: DEFAULT_ID, invites: PENDING }] }] } },
  config: { targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'edit' }] }], limits: { maxAnswerBytes: CAP } },
});
let emulator: RunningEmulator;
let c: Container;
host.hooks((started) => ({ emulator, container: c } = started));

describe('Lambda: reconcile with limits.maxAnswerBytes below the size of the invite list', () => {
  it('fails the target with invalidResponse naming limits.maxAnswerBytes and sends no POST', async () => {
    // Arrange
    await c.store.replaceSource('default', [{ email: 'new@cap.example', employeeId: 'E-1', status: 'active', attributes: {} }], new Date().toISOString());
    const listed = emulator.invites(DEFAULT_ID, DEFAULT_ID);
    const event: SQSEvent = { Records: [{ ...structuredClone(template), messageId: randomUUID(), body: JSON.stringify({ target: 'eng', reason: 'cap' }) }] };

    // Act
    await dispatch(event, { getRemainingTimeInMillis: () => 120_000 }, c);
    const [run] = await c.store.listRuns({ limit: 1, target: 'eng' });

    // Assert
    expect(JSON.stringify({ items: listed }).length).toBeGreaterThan(CAP);
    expect(run?.targets[0]?.error?.code).toBe('invalidResponse');
    expect(run?.targets[0]?.error?.message).toContain('limits.maxAnswerBytes');
    expect(emulator.stats().requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).map((i) => i.email)).not.toContain('new@cap.example');
  });
});
