// tests --> a real S3 API on 127.0.0.1 (s3rver: an S3-compatible server from npm, files in a temp dir), the AWS SDK pointed at it
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export interface LocalS3 {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** an SDK client for it (path-style, dummy credentials) */
  client(): S3Client;
  /** the ObjectCreated / ObjectRemoved notifications s3rver emitted so far (S3's notification JSON) */
  events: unknown[];
  stop(): Promise<void>;
}

/**
 * Starts s3rver on 127.0.0.1 (a free port, a temp directory) with `buckets` created; `stop()` closes it
 * and removes the directory. One per test file, like a DynamoDB table per file.
 * @example const s3 = await startLocalS3(['drops']); …; await s3.stop();
 */
export async function startLocalS3(buckets: string[]): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 'invite-sync-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: buckets.map((name) => ({ name })) });
  const events: unknown[] = [];
  server.on('event', (e) => events.push(e));
  const addr = await server.run();
  const endpoint = `http://127.0.0.1:${addr.port}`;
  const clients: S3Client[] = [];
  return {
    endpoint,
    events,
    client() {
      const c = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
