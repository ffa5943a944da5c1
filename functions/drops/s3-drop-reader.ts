// S3 drop handler --> S3DropReader (the only code that speaks to S3) --> GetObject (bounded to 50 MB) --> DropRead
import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { MAX_DROP_BYTES, OCCURRED_AT_METADATA, type DropRead, type DropReader } from '../sync/drops.ts';

export interface S3DropReaderOptions {
  /** default `new S3Client({})` */
  client?: S3Client;
  /** default MAX_DROP_BYTES (50 MB) */
  maxBytes?: number;
}

/**
 * Reads a dropped roster object: the version the notification named (when given), its bytes, LastModified
 * and `x-amz-meta-occurred-at`. An object over `maxBytes` (by its Content-Length, and again while reading)
 * is answered `tooLarge` without reading the rest; a key or version gone since the notification `missing`.
 * Other S3 failures throw (the Lambda's retries deliver the notification again).
 * @example const read = await new S3DropReader().read('my-drops', 'rosters/hr/2026-05.csv', versionId)
 */
export class S3DropReader implements DropReader {
  private readonly client: S3Client;
  readonly maxBytes: number;

  constructor(options: S3DropReaderOptions = {}) {
    this.client = options.client ?? new S3Client({});
    this.maxBytes = options.maxBytes ?? MAX_DROP_BYTES;
  }

  async read(bucket: string, key: string, versionId?: string): Promise<DropRead> {
    let out;
    try {
      out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
    } catch (err) {
      if (err instanceof NoSuchKey || (err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NoSuchVersion'))) return { kind: 'missing' };
      throw err;
    }
    const body = out.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    if (out.ContentLength !== undefined && out.ContentLength > this.maxBytes) {
      body?.destroy?.();
      return { kind: 'tooLarge', size: out.ContentLength };
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (body) {
      for await (const chunk of body) {
        size += chunk.byteLength;
        if (size > this.maxBytes) {
          body.destroy?.();
          return { kind: 'tooLarge', size };
        }
        chunks.push(chunk);
      }
    }
    const metadata = out.Metadata?.[OCCURRED_AT_METADATA];
    return {
      kind: 'object',
      bytes: Buffer.concat(chunks),
      lastModified: out.LastModified ?? new Date(0),
      ...(metadata !== undefined ? { occurredAtMetadata: metadata } : {}),
    };
  }
}
