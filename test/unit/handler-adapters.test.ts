// The handlers' AWS adapters (SDK clients short-circuited in their middleware stack) and serve's in-process queue.
import { describe, expect, it } from 'vitest';
import { SQSClient, type SendMessageBatchCommandInput, type SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import { SecretsManagerClient, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { QueueError, SqsReconcileQueue } from '../../functions/queue/sqs-queue.ts';
import { parseReconcileMessage } from '../../functions/queue/reconcile-message.schema.ts';
import { InProcessReconcileQueue, QueueClosedError } from '../../functions/queue/in-process-queue.ts';
import { CachedSecret, SecretError } from '../../functions/secrets/secrets-manager.ts';
import type { Log } from '../../functions/sync/ports.ts';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' };
const silent: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A real SQSClient whose SendMessageBatch calls end in `answer` instead of the network. */
function sqsClient(answer: (input: SendMessageBatchCommandInput, call: number) => Partial<SendMessageBatchCommandOutput>) {
  const calls: SendMessageBatchCommandInput[] = [];
  const client = new SQSClient({ region: 'eu-central-1', credentials: CREDENTIALS });
  client.middlewareStack.add(
    () => async (args) => {
      const input = structuredClone(args.input as SendMessageBatchCommandInput);
      calls.push(input);
      return { output: { $metadata: {}, Successful: [], Failed: [], ...answer(input, calls.length) }, response: {} };
    },
    { step: 'initialize', name: 'answerLocally' },
  );
  return { client, calls };
}

const ok = (input: SendMessageBatchCommandInput) => ({
  Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id!, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })),
});

describe('Function: SqsReconcileQueue.enqueue', () => {
  it('returns after sending one message per distinct target in batches of at most 10', async () => {
    // Arrange
    const { client, calls } = sqsClient(ok);
    const queue = new SqsReconcileQueue({ queueUrl: 'https://sqs.eu-central-1.amazonaws.com/1/q', client });
    const names = Array.from({ length: 23 }, (_, i) => `t${i}`);
    // Act
    await queue.enqueue([...names, 't0', 't5'], 'schedule 53dc');
    // Assert
    expect(calls.map((c) => c.Entries?.length)).toEqual([10, 10, 3]);
    const bodies = calls.flatMap((c) => c.Entries ?? []).map((e) => parseReconcileMessage(e.MessageBody!));
    expect(bodies.map((b) => b?.target)).toEqual(names);
    expect(bodies.every((b) => b?.reason === 'schedule 53dc')).toBe(true);
    expect(calls[0]?.QueueUrl).toBe('https://sqs.eu-central-1.amazonaws.com/1/q');
  });

  it('returns after resending only the entries SQS failed on its side', async () => {
    const { client, calls } = sqsClient((input, call) =>
      call === 1
        ? { Successful: [{ Id: 't0', MessageId: 'm', MD5OfMessageBody: 'x' }], Failed: [{ Id: 't1', SenderFault: false, Code: 'InternalError' }] }
        : ok(input),
    );
    await new SqsReconcileQueue({ queueUrl: 'https://q', client }).enqueue(['a', 'b'], 'r');
    expect(calls.map((c) => (c.Entries ?? []).map((e) => parseReconcileMessage(e.MessageBody!)?.target))).toEqual([['a', 'b'], ['b']]);
  });

  it('throws QueueError naming the targets SQS refused as sender faults', async () => {
    const { client, calls } = sqsClient(() => ({ Successful: [], Failed: [{ Id: 't0', SenderFault: true, Code: 'InvalidParameterValue' }, { Id: 't1', SenderFault: true, Code: 'X' }] }));
    const run = new SqsReconcileQueue({ queueUrl: 'https://q', client }).enqueue(['eng', 'ops'], 'r');
    await expect(run).rejects.toBeInstanceOf(QueueError);
    await expect(run).rejects.toMatchObject({ targets: ['eng', 'ops'] });
    expect(calls).toHaveLength(1);
  });
});

/** A real SecretsManagerClient whose GetSecretValue answers come from `values` in turn. */
function secretsClient(values: Array<string | Error>) {
  let calls = 0;
  const client = new SecretsManagerClient({ region: 'eu-central-1', credentials: CREDENTIALS });
  client.middlewareStack.add(
    () => async () => {
      const v = values[Math.min(calls, values.length - 1)]!;
      calls++;
      if (v instanceof Error) throw v;
      const output: GetSecretValueCommandOutput = { $metadata: {}, SecretString: v };
      return { output, response: {} };
    },
    { step: 'initialize', name: 'answerLocally' },
  );
  return { client, calls: () => calls };
}

describe('Function: CachedSecret.get', () => {
  it('returns the cached value until a refresh, and refetches at most once per interval', async () => {
    // Arrange
    let now = 1_000_000;
    const sm = secretsClient(['tok-old\n', 'tok-new', 'tok-newer']);
    const secret = new CachedSecret({ secretId: 'arn:x', label: 'Losant API token', client: sm.client, clock: { now: () => now }, minRefreshIntervalMs: 30_000 });
    // Act
    const first = await Promise.all([secret.get(), secret.get()]);
    now += 31_000;
    const refreshed = await secret.get({ refresh: true });
    const tooSoon = await secret.get({ refresh: true });
    // Assert
    expect(first).toEqual(['tok-old', 'tok-old']);
    expect(refreshed).toBe('tok-new');
    expect(tooSoon).toBe('tok-new');
    expect(sm.calls()).toBe(2);
  });

  it('throws SecretError for an empty secret and fetches again on the next call', async () => {
    const sm = secretsClient(['  ', 'whsec_abc']);
    const secret = new CachedSecret({ secretId: 'arn:x', label: 'webhook signing key', client: sm.client });
    await expect(secret.get()).rejects.toBeInstanceOf(SecretError);
    await expect(secret.get()).resolves.toBe('whsec_abc');
  });

  it('throws SecretError with a hint when the secret has no value yet', async () => {
    const notFound = Object.assign(new Error('Secrets Manager cannot find the specified secret value for staging label: AWSCURRENT'), { name: 'ResourceNotFoundException' });
    const secret = new CachedSecret({ secretId: 'arn:x', label: 'Losant API token', client: secretsClient([notFound]).client });
    await expect(secret.get()).rejects.toThrow(/put-secret-value/);
  });
});

function deferred(): { promise: Promise<boolean>; resolve: (v: boolean) => void } {
  let resolve!: (v: boolean) => void;
  const promise = new Promise<boolean>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Function: InProcessReconcileQueue', () => {
  it('returns coalesced work: a target queued while it runs runs exactly once more, never twice at a time', async () => {
    // Arrange
    const runs: string[] = [];
    let active = 0;
    let maxActive = 0;
    const gates: Array<ReturnType<typeof deferred>> = [];
    const queue = new InProcessReconcileQueue({
      log: silent,
      worker: async (t) => {
        runs.push(t);
        active++;
        maxActive = Math.max(maxActive, active);
        const gate = deferred();
        gates.push(gate);
        const result = await gate.promise;
        active--;
        return result;
      },
    });
    // Act
    await queue.enqueue(['eng'], 'webhook 1');
    await queue.enqueue(['eng'], 'webhook 2');
    await queue.enqueue(['eng', 'eng'], 'webhook 3');
    gates[0]!.resolve(true);
    await new Promise((r) => setImmediate(r));
    gates[1]!.resolve(true);
    const drained = await queue.drain(1000);
    // Assert
    expect(drained).toBe(true);
    expect(runs).toEqual(['eng', 'eng']);
    expect(maxActive).toBe(1);
  });

  it('returns after retrying a failed target with backoff until it succeeds', async () => {
    const results = [false, false, true];
    const runs: number[] = [];
    const queue = new InProcessReconcileQueue({ log: silent, retryDelayMs: 5, worker: async () => (runs.push(Date.now()), results[runs.length - 1] ?? true) });
    await queue.enqueue(['ops'], 'schedule');
    for (let i = 0; i < 100 && runs.length < 3; i++) await new Promise((r) => setTimeout(r, 5));
    expect(runs).toHaveLength(3);
    expect(queue.size).toBe(0);
  });

  it('throws QueueClosedError for work offered after drain started', async () => {
    const queue = new InProcessReconcileQueue({ log: silent, worker: async () => true });
    await queue.drain(10);
    await expect(queue.enqueue(['eng'], 'late')).rejects.toBeInstanceOf(QueueClosedError);
  });

  it('returns false from drain when a reconcile outlasts the grace time', async () => {
    const gate = deferred();
    const queue = new InProcessReconcileQueue({ log: silent, worker: () => gate.promise });
    await queue.enqueue(['eng'], 'webhook');
    const drained = await queue.drain(20);
    gate.resolve(true);
    expect(drained).toBe(false);
  });
});
