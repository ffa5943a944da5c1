// test --> AWS SDK clients answered in-process (Secrets Manager, SQS) and a metrics sink kept in memory.
// These stand in for AWS services the handlers' integration tests cannot reach; our own modules run unchanged.
import { randomUUID } from 'node:crypto';
import { SecretsManagerClient, type GetSecretValueCommandInput, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { SQSClient, type SendMessageBatchCommandInput, type SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import type { MetricsSink } from '../../functions/runtime/metrics.ts';

export const LOCAL_AWS_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' };

/** A Secrets Manager client whose GetSecretValue answers `values[SecretId]`. */
export function localSecretsClient(values: Record<string, string>): SecretsManagerClient {
  const client = new SecretsManagerClient({ region: 'eu-central-1', credentials: LOCAL_AWS_CREDENTIALS });
  client.middlewareStack.add(
    () => async (args) => {
      const id = (args.input as GetSecretValueCommandInput).SecretId ?? '';
      const output: GetSecretValueCommandOutput = { $metadata: {}, SecretString: values[id] };
      return { output, response: {} };
    },
    { step: 'initialize', name: 'secretsLocally' },
  );
  return client;
}

/** An SQS client whose SendMessageBatch succeeds and pushes each message body (parsed) onto `sent` and each entry (DelaySeconds…) onto `entries`, when given. */
export function localSqsClient(sent?: { target: string; reason: string }[], entries?: NonNullable<SendMessageBatchCommandInput['Entries']>): SQSClient {
  const client = new SQSClient({ region: 'eu-central-1', credentials: LOCAL_AWS_CREDENTIALS });
  client.middlewareStack.add(
    () => async (args) => {
      const input = args.input as SendMessageBatchCommandInput;
      for (const e of input.Entries ?? []) sent?.push(JSON.parse(e.MessageBody!) as { target: string; reason: string });
      entries?.push(...(input.Entries ?? []));
      const output: SendMessageBatchCommandOutput = { $metadata: {}, Failed: [], Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id!, MessageId: randomUUID(), MD5OfMessageBody: '' })) };
      return { output, response: {} };
    },
    { step: 'initialize', name: 'sqsLocally' },
  );
  return client;
}

/** A metrics sink that sums each metric until publish, then pushes the record onto `published`. */
export function memoryMetrics(published: Record<string, number>[]): MetricsSink {
  let stored: Record<string, number> = {};
  return {
    addMetric: (name, _unit, value) => void (stored[name] = (stored[name] ?? 0) + value),
    publishStoredMetrics: () => {
      published.push(stored);
      stored = {};
    },
  };
}

/** The environment the Lambda composition root reads, for a table, an emulator and a task root holding the sync config. */
export function lambdaEnv(table: string, losantUrl: string, taskRoot: string, extra: Record<string, string> = {}) {
  return {
    ...extra,
    STAGE: 'test',
    STATE_TABLE: table,
    LOSANT_API_URL: losantUrl,
    LOSANT_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:LosantToken',
    WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:WebhookSecret',
    RECONCILE_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/reconcile',
    LAMBDA_TASK_ROOT: taskRoot,
  };
}
