// S3 ObjectCreated notification (bucket prefix rosters/) --> handleS3Drops --> ingestDrop per record (S3DropReader reads the object)
import type { S3Event } from 'aws-lambda';
import { z } from 'zod';
import type { Container } from '../runtime/composition-root.ts';
import { decodeS3EventKey } from '../sync/drops.ts';
import { EventShapeError } from './errors.ts';
import { ingestDrop, type DropResult } from './ingest-drop.ts';
import type { IngestDeps } from './ingest-and-queue.ts';

/** What the handler reads of an S3 notification (tolerant: S3 adds fields; IPv6 source addresses are fine). */
const S3NotificationSchema = z.object({
  Records: z
    .array(
      z.object({
        eventSource: z.literal('aws:s3'),
        eventName: z.string(),
        s3: z.object({
          bucket: z.object({ name: z.string().min(1) }),
          object: z.object({ key: z.string().min(1), versionId: z.string().optional(), size: z.number().optional() }),
        }),
      }),
    )
    .min(1),
});

export type S3DropDeps = IngestDeps & Pick<Container, 'drops'>;

/**
 * Each `ObjectCreated:*` record of an S3 notification is one roster drop (other events are skipped).
 * Keys arrive URL-encoded (`+` for a space) and are decoded; the object is read at the version the
 * record names. Refused keys and bad files are answered in the results, not thrown (a retry could not
 * fix them); a store, queue or S3 failure throws, so Lambda's async retries deliver the notification
 * again (every drop is deduped by its delivery id, so the records already done are duplicates).
 * @example await handleS3Drops(s3Event, container) // [{ status: 'applied', source: 'workday', … }]
 */
export async function handleS3Drops(event: S3Event | unknown, deps: S3DropDeps): Promise<DropResult[]> {
  const parsed = S3NotificationSchema.safeParse(event);
  if (!parsed.success) throw new EventShapeError('not an S3 event notification', { cause: parsed.error });
  const reader = deps.drops;
  if (!reader) throw new EventShapeError('this host reads no roster drops (no drop reader configured)');
  const results: DropResult[] = [];
  for (const record of parsed.data.Records) {
    if (!record.eventName.startsWith('ObjectCreated:')) continue;
    const bucket = record.s3.bucket.name;
    const key = decodeS3EventKey(record.s3.object.key);
    const { versionId, size } = record.s3.object;
    // the notification already says how big the object is: a file over the reader's limit is not even fetched
    const read = () => (size !== undefined && size > reader.maxBytes ? Promise.resolve({ kind: 'tooLarge' as const, size }) : reader.read(bucket, key, versionId));
    results.push(await ingestDrop(deps, { location: `s3:${bucket}/${key}`, key, read, maxBytes: reader.maxBytes }));
  }
  return results;
}
