// S3 drop handler / serve --drop-dir --> ingestDrop --> parseRoster + dropEvents (sync/drops.ts) --> ingestAndQueue per part
import type { Container } from '../runtime/composition-root.ts';
import { DROPS_FAILED, DROPS_REJECTED } from '../runtime/metric-names.ts';
import { InputError } from '../sync/errors.ts';
import { maskEmails } from '../sync/email.ts';
import { dropDeliveryId, dropEvents, dropOccurredAt, jsonRosterOccurredAt, MAX_DROP_BYTES, parseDropKey, type DropRead, type OccurredAtOrigin } from '../sync/drops.ts';
import { parseRoster } from '../sync/roster.ts';
import { rosterDateCheck } from '../sync/dates.ts';
import { acceptsChannel, sourcePolicy } from '../sync/sources.ts';
import type { FailedDelivery } from '../sync/ports.ts';
import type { IngestResult } from '../sync/ingest.ts';
import { ingestAndQueue, type IngestDeps } from './ingest-and-queue.ts';

/** How long a failed drop (and its bad rows) is kept. */
export const FAILED_DELIVERY_TTL_SECONDS = 30 * 24 * 3600;
/** Bad rows written to one log line (all of them are in the failed delivery). */
const LOGGED_ROWS = 50;

export interface DropInput {
  /** `s3:<bucket>/<key>` or `file:<source>/<file>`: the delivery id is this plus `#sha256:<hex>` */
  location: string;
  /** the object's key, already URL-decoded: `rosters/<source>/<file>` */
  key: string;
  /** reads the object (only when the key and the source's `via` allow it) */
  read: () => Promise<DropRead>;
  /** the reader's limit, for the refusal's message (default MAX_DROP_BYTES) */
  maxBytes?: number;
}

export type DropResult =
  | { status: 'rejected'; key: string; reason: string }
  | { status: 'missing'; key: string }
  | { status: 'failed'; key: string; source: string; deliveryId: string; message: string; rows: number }
  | {
      status: IngestResult['status'];
      key: string;
      source: string;
      deliveryId: string;
      people: number;
      parts: number;
      occurredAt: string;
      occurredAtFrom: OccurredAtOrigin;
      touched: number;
      queued: boolean;
      blocked?: string;
      runId?: string;
    };

function count(deps: Pick<Container, 'metrics'>, metric: string): void {
  deps.metrics.addMetric(metric, 'Count', 1);
  deps.metrics.publishStoredMetrics();
}

/**
 * One roster file drop, S3 or local, through the same steps: the key must be `rosters/<source>/<file>`
 * (`.csv`/`.json`, a valid source name) and the source's `via` must include `s3`, else it is refused
 * (`DropsRejected`, logged, nothing read). The file is parsed with the `--roster` rules
 * (`limits.maxBadRows`); a bad file (too many bad rows, a bad occurred-at, over 50 MB, refused by the
 * ingest) is refused whole: recorded as a failed delivery with every bad row, logged and counted
 * (`DropsFailed`, alarmed), state unchanged. A good file becomes `roster.snapshot` events of at most
 * 10 000 people, ingested and queued like the webhook's. Store and queue failures throw (the caller retries).
 * @example await ingestDrop(container, { location: `s3:${bucket}/${key}`, key, read: () => reader.read(bucket, key) })
 */
export async function ingestDrop(deps: IngestDeps, input: DropInput): Promise<DropResult> {
  const { key } = input;
  const parsed = parseDropKey(key);
  if ('rejected' in parsed) return reject(deps, key, parsed.rejected);
  const policy = sourcePolicy(deps.config.sources, parsed.source);
  if (!acceptsChannel(policy, 's3')) return reject(deps, key, `source "${parsed.source}" does not take file drops (add "s3" to sources.${parsed.source}.via)`);

  const read = await input.read();
  if (read.kind === 'missing') {
    deps.log.warn('roster drop gone before it was read', { key });
    return { status: 'missing', key };
  }
  if (read.kind === 'tooLarge') {
    const limit = input.maxBytes ?? MAX_DROP_BYTES;
    const mb = (limit / (1024 * 1024)).toFixed(1);
    const why = limit < MAX_DROP_BYTES ? ` (what this function's memory holds; raise the stage's memoryMb for up to ${MAX_DROP_BYTES / (1024 * 1024)} MB)` : '';
    const message = `${key}: ${read.size} bytes, more than ${limit} (${mb} MB)${why}: split the roster`;
    return fail(deps, key, { source: parsed.source, id: `${input.location}#size:${read.size}`, message, rows: [{ field: '(file)', message: `larger than ${mb} MB` }] });
  }

  let deliveryId: string;
  try {
    deliveryId = dropDeliveryId(input.location, read.bytes);
  } catch (err) {
    if (err instanceof InputError) return reject(deps, key, err.message);
    throw err;
  }
  try {
    const text = new TextDecoder('utf-8').decode(read.bytes);
    const at = dropOccurredAt({
      metadata: read.occurredAtMetadata,
      fileOccurredAt: jsonRosterOccurredAt(text, parsed.format),
      lastModified: read.lastModified,
      trustUploadTime: policy.trustUploadTime,
    });
    // the --roster rules: a bad start or end date or zone is a bad row naming its line and field
    const check = rosterDateCheck(deps.config, deps.clock.now());
    const { people, badRows } = parseRoster(text, parsed.format, { origin: key, maxBadRows: deps.config.limits.maxBadRows, ...(check ? { check } : {}) });
    if (badRows.length) deps.log.warn('roster drop: bad rows left out (limits.maxBadRows)', { deliveryId, rows: badRows.slice(0, LOGGED_ROWS).map((r) => ({ ...r, message: maskEmails(r.message) })) });
    const events = dropEvents({ deliveryId, source: parsed.source, occurredAt: at.occurredAt, people });
    let last: Awaited<ReturnType<typeof ingestAndQueue>> | undefined;
    let duplicates = 0;
    for (const event of events) {
      last = await ingestAndQueue(deps, event, 's3', { ageUnknown: at.ageUnknown });
      if (last.status === 'duplicate') duplicates++;
    }
    const result = last!;
    // a resent file whose parts were all seen before is a duplicate; a retry that completes a snapshot is not
    const status = duplicates === events.length ? 'duplicate' : result.status;
    deps.log.info('roster drop ingested', { deliveryId, source: parsed.source, status, people: people.length, parts: events.length, occurredAtFrom: at.origin });
    return {
      status,
      key,
      source: parsed.source,
      deliveryId,
      people: people.length,
      parts: events.length,
      occurredAt: at.occurredAt,
      occurredAtFrom: at.origin,
      touched: result.touched.length,
      queued: result.queued,
      ...(result.blocked ? { blocked: result.blocked } : {}),
      ...(result.run ? { runId: result.run.runId } : {}),
    };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    const rows = err.issues.length ? err.issues.map((i) => ({ ...(i.line !== undefined ? { line: i.line } : {}), field: i.path, message: i.message })) : [{ field: '(file)', message: err.message }];
    return fail(deps, key, { source: parsed.source, id: deliveryId, message: err.message, rows });
  }
}

function reject(deps: IngestDeps, key: string, reason: string): DropResult {
  deps.log.error('roster drop rejected', { key: maskEmails(key), reason: maskEmails(reason) });
  count(deps, DROPS_REJECTED);
  return { status: 'rejected', key, reason };
}

async function fail(deps: IngestDeps, key: string, f: { source: string; id: string; message: string; rows: FailedDelivery['rows'] }): Promise<DropResult> {
  const failure: FailedDelivery = { ...f, failedAt: new Date(deps.clock.now()).toISOString(), rowCount: f.rows.length };
  await deps.store.recordFailedDelivery(failure, FAILED_DELIVERY_TTL_SECONDS);
  deps.log.error('roster drop refused: bad file (nothing stored; see the failed delivery)', {
    deliveryId: f.id,
    message: maskEmails(f.message),
    rowCount: f.rows.length,
    rows: f.rows.slice(0, LOGGED_ROWS).map((r) => ({ ...r, message: maskEmails(r.message) })),
  });
  count(deps, DROPS_FAILED);
  return { status: 'failed', key, source: f.source, deliveryId: f.id, message: f.message, rows: f.rows.length };
}
