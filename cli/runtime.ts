// CLI composition root: environment + flags --> Losant client, state store (DynamoDB or an embedded DynamoDB Local), log.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Clock, InviteApi, LeaseHolder, Log, StateStore } from '../functions/sync/ports.ts';
import { systemClock } from '../functions/sync/ports.ts';
import { LosantClient } from '../functions/losant/client.ts';
import { DynamoStateStore } from '../functions/state/dynamo-store.ts';
import { createTableIfMissing } from '../functions/state/table-design.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalDynamoDb, type LocalDynamoDb } from './local-dynamodb.ts';
import { createStderrLog, isLogLevel } from './stderr-log.ts';
import { CliError, EXIT } from './exit-codes.ts';
import { openStateDir, resolveStateDir, type OpenStateDir } from './state-dir.ts';
import { holderGone, thisHolder } from './process-info.ts';
import type { StateChoice } from './state-options.ts';

export const DEFAULT_LOSANT_API_URL = 'https://api.losant.com';
export const DEFAULT_TABLE = 'invite-sync';

export interface CliRuntimeOptions extends StateChoice {
  env: NodeJS.ProcessEnv;
  /** false for commands that never call Losant (approve) */
  needsLosant?: boolean;
  log?: Log;
  /** the longest Losant answer read (config `limits.maxAnswerBytes`); default the client's 64 MiB */
  maxAnswerBytes?: number;
  /** most connections to Losant at once (config `concurrency`); default the client's 64 */
  connections?: number;
}

export interface CliRuntime {
  api: InviteApi & { close(): Promise<void> };
  store: StateStore;
  log: Log;
  clock: Clock;
  /** where the state lives, for messages: `embedded (memory)`, `embedded (<dir>)`, or the endpoint/table */
  stateDescription: string;
  /** this process as a lease holder, and the test for a gone local holder (SyncDeps.holder / holderGone) */
  holder: LeaseHolder;
  holderGone: (holder: LeaseHolder) => boolean;
  close(): Promise<void>;
}

/**
 * Builds what a CLI command needs from the environment:
 * LOSANT_API_URL (default https://api.losant.com), LOSANT_API_TOKEN (required when Losant is needed),
 * DYNAMODB_ENDPOINT and STATE_TABLE (optional: without them the state dir's embedded DynamoDB Local, see
 * state-dir.ts: `--state-dir`, default ./.invite-sync; `--ephemeral`: one in memory),
 * INVITE_SYNC_LOG_LEVEL (debug|info|warn|error|silent; default warn).
 */
export async function createCliRuntime(opts: CliRuntimeOptions): Promise<CliRuntime> {
  const env = opts.env;
  const level = env.INVITE_SYNC_LOG_LEVEL;
  if (level !== undefined && !isLogLevel(level)) {
    throw new CliError(`INVITE_SYNC_LOG_LEVEL must be one of debug, info, warn, error, silent (got "${level}")`, EXIT.badInput);
  }
  const log = opts.log ?? createStderrLog(level ?? 'warn');
  const needsLosant = opts.needsLosant ?? true;
  const token = env.LOSANT_API_TOKEN;
  if (needsLosant && !token) {
    throw new CliError('LOSANT_API_TOKEN is not set: export a Losant API token (scopes: see README "Losant token")', EXIT.badInput);
  }
  const baseUrl = env.LOSANT_API_URL || DEFAULT_LOSANT_API_URL;
  try {
    new URL(baseUrl);
  } catch {
    throw new CliError(`LOSANT_API_URL is not a URL: "${baseUrl}"`, EXIT.badInput);
  }

  let local: LocalDynamoDb | undefined;
  let stateDir: OpenStateDir | undefined;
  let client: DynamoDBClient;
  let tableName = env.STATE_TABLE || DEFAULT_TABLE;
  let stateDescription: string;
  if (env.DYNAMODB_ENDPOINT) {
    client = new DynamoDBClient({ endpoint: env.DYNAMODB_ENDPOINT, region: env.AWS_REGION || LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    await ensureTable(client, tableName, env.DYNAMODB_ENDPOINT);
    stateDescription = `${env.DYNAMODB_ENDPOINT} table ${tableName}`;
  } else if (env.STATE_TABLE) {
    client = new DynamoDBClient(env.AWS_REGION ? { region: env.AWS_REGION } : {});
    stateDescription = `DynamoDB table ${tableName}`;
  } else if (opts.ephemeral) {
    try {
      local = await startLocalDynamoDb();
    } catch (err) {
      throw new CliError(`could not start the embedded DynamoDB Local: ${(err as Error).message}`, EXIT.couldNotRun);
    }
    client = new DynamoDBClient({ endpoint: local.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    tableName = DEFAULT_TABLE;
    await ensureTable(client, tableName, local.endpoint);
    stateDescription = 'embedded DynamoDB Local (memory, --ephemeral)';
  } else {
    stateDir = await openStateDir(resolveStateDir(opts.stateDir), { waitMs: opts.waitMs ?? 0 });
    client = new DynamoDBClient({ endpoint: stateDir.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    tableName = DEFAULT_TABLE;
    try {
      await ensureTable(client, tableName, stateDir.endpoint);
    } catch (err) {
      client.destroy();
      await stateDir.close();
      throw err;
    }
    stateDescription = `embedded DynamoDB Local (${stateDir.dir}${stateDir.role === 'guest' ? `, served by pid ${stateDir.holderPid}` : ''})`;
  }
  const store = new DynamoStateStore({ tableName, client });
  const api = new LosantClient({
    baseUrl,
    token: token ?? '',
    log,
    ...(opts.maxAnswerBytes === undefined ? {} : { maxAnswerBytes: opts.maxAnswerBytes }),
    ...(opts.connections === undefined ? {} : { connections: opts.connections }),
  });
  return {
    api,
    store,
    log,
    clock: systemClock,
    stateDescription,
    holder: thisHolder(),
    holderGone,
    close: async () => {
      await api.close();
      client.destroy();
      await local?.stop();
      await stateDir?.close();
    },
  };
}

async function ensureTable(client: DynamoDBClient, tableName: string, where: string): Promise<void> {
  try {
    await createTableIfMissing(client, tableName);
  } catch (err) {
    throw new CliError(`could not reach DynamoDB at ${where}: ${(err as Error).message}`, EXIT.couldNotRun);
  }
}
