// bench/run.ts --> BenchContext --> scenarios: shared DynamoDB Local, quiet logs, scenario shape
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalDynamoDb, type LocalDynamoDb } from '../../cli/local-dynamodb.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import type { Log } from '../../functions/sync/ports.ts';
import type { Row, ScenarioResult } from './report.ts';
import type { Scope } from './processes.ts';

/** What a scenario hands back; run.ts adds id, title and the time it took. */
export interface ScenarioOutput {
  rows: Row[];
  details: Record<string, unknown>;
}

export interface Scenario {
  id: string;
  title: string;
  run(ctx: BenchContext, scope: Scope): Promise<ScenarioOutput>;
}

export type { ScenarioResult };

/** Services every scenario may use; DynamoDB Local starts on first use, once for the whole bench. */
export class BenchContext {
  private ddb: Promise<LocalDynamoDb> | undefined;
  private tables = 0;
  /** bench/results.json `environment` notes that scenarios add (e.g. how a figure was scaled) */
  readonly notes: string[] = [];

  /** The shared DynamoDB Local (started on first call). */
  dynamo(): Promise<LocalDynamoDb> {
    this.ddb ??= startLocalDynamoDb();
    return this.ddb;
  }

  /** A client of the shared DynamoDB Local; the scope destroys it. */
  async dynamoClient(scope: Scope): Promise<DynamoDBClient> {
    const { endpoint } = await this.dynamo();
    const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    scope.defer('dynamodb client', () => client.destroy());
    return client;
  }

  /** A fresh table for one scenario; the scope deletes it (DynamoDB Local keeps everything in its heap). */
  async table(client: DynamoDBClient, prefix: string, scope: Scope): Promise<string> {
    const name = `bench-${prefix}-${process.pid}-${++this.tables}`;
    await createTableIfMissing(client, name);
    scope.defer(`table ${name}`, async () => {
      await client.send(new DeleteTableCommand({ TableName: name }));
    });
    return name;
  }

  /** Stops DynamoDB Local if it was started. */
  async close(): Promise<void> {
    if (!this.ddb) return;
    const ddb = await this.ddb.catch(() => undefined);
    this.ddb = undefined;
    await ddb?.stop();
  }
}

/** A Log that keeps only counts and the last few warnings (callers already mask emails). */
export function quietLog(): Log & { warnings: string[]; counts: Record<string, number> } {
  const warnings: string[] = [];
  const counts: Record<string, number> = { debug: 0, info: 0, warn: 0, error: 0 };
  const keep = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    counts[level] = (counts[level] ?? 0) + 1;
    if (level === 'warn' || level === 'error') {
      warnings.push(`${level} ${message} ${extra ? JSON.stringify(extra) : ''}`.slice(0, 300));
      if (warnings.length > 20) warnings.shift();
    }
  };
  return { warnings, counts, debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}
