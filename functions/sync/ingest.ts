// handler / CLI --> ingestHrEvent --> StateStore (people, snapshot parts, deliveries, dirty marks)
import type { Clock, Log, ReplaceSourceResult, RunRecord, StateStore } from './ports.ts';
import { holdEmptySnapshot } from './held-snapshot.ts';
import type { BlockCode, Person, Target } from './types.ts';
import type { HrEvent } from './events.ts';
import { InputError } from './errors.ts';
import type { Channel } from './sources.ts';

/** What ingestHrEvent needs (handlers/ingest-and-queue.ts `IngestDeps` adds the queue and metrics around it). */
export interface IngestHrEventDeps {
  store: StateStore;
  clock: Clock;
  log: Log;
}

export interface IngestOptions {
  /** the sync config's targets: every one a person change may touch */
  targets: Target[];
  /** apply an empty snapshot anyway (the `emptySnapshot` brake) */
  force?: boolean;
  /** how long a delivery id is remembered (default 7 days) */
  deliveryTtlSeconds?: number;
  /** the run id of a held empty snapshot's run record (default a new one) */
  runId?: string;
  /** who delivered the event, for a held snapshot's run record (default `event`) */
  trigger?: RunRecord['trigger'];
  /** the channel the event came by (sources' `via`); declared for the stale-source guard (h/sources) */
  channel?: Channel;
  /** true: nobody said when the snapshot was taken (a file drop without occurred-at): held `staleSnapshot` */
  ageUnknown?: boolean;
}

export interface IngestResult {
  /**
   * - applied: people changed (or were confirmed) — `touched` targets need a reconcile
   * - duplicate: this delivery id was already accepted; nothing happened
   * - stale: older than what is stored for that person; nothing changed
   * - partial: a part of a multi-part snapshot was stored; the rest has not arrived
   * - blocked: an empty snapshot was held back (brake `emptySnapshot`)
   */
  status: 'applied' | 'duplicate' | 'stale' | 'partial' | 'blocked';
  /** names of the targets to reconcile */
  touched: string[];
  blocked?: BlockCode;
  /** blocked: the run record that holds the snapshot (`approve --run <runId>` releases it) */
  run?: RunRecord;
  snapshot?: ReplaceSourceResult & { people: number };
  parts?: { received: number; parts: number };
}

export const DELIVERY_TTL_SECONDS = 7 * 24 * 3600;
/** How far ahead of our clock an event's `occurredAt` may lie (clock skew); later ones are refused. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** Throws `InputError` (field `occurredAt`) for an event more than 5 minutes in the future: it would pin the person for good. */
function refuseFuture(event: HrEvent, now: number): void {
  if (Date.parse(event.occurredAt) <= now + MAX_FUTURE_SKEW_MS) return;
  const message = `more than ${MAX_FUTURE_SKEW_MS / 60_000} minutes in the future (our clock: ${new Date(now).toISOString()})`;
  throw new InputError(`occurredAt: ${message}`, [{ path: 'occurredAt', message }]);
}

/**
 * Applies one validated HR event to the stored people. Idempotent per event id and per person
 * (an event older than the last one applied for that person changes nothing).
 * Throws `InputError` naming the field for an event that cannot be applied (nothing is stored and
 * its delivery id is not recorded, so a corrected resend is processed): `occurredAt` more than 5
 * minutes ahead, a snapshot part whose `parts` disagrees with the parts already received.
 * @example const r = await ingestHrEvent(deps, parseHrEvent(body), { targets: config.targets })
 */
export async function ingestHrEvent(deps: IngestHrEventDeps, event: HrEvent, opts: IngestOptions): Promise<IngestResult> {
  const { store } = deps;
  refuseFuture(event, deps.clock.now());
  const delivery = { source: event.source, id: event.id };
  if (await store.hasDelivery(delivery)) return { status: 'duplicate', touched: [] };

  const all = opts.targets.map((t) => t.name);
  let result: IngestResult;
  if (event.type === 'roster.snapshot') {
    result = await ingestSnapshot(deps, event, opts, all);
  } else {
    const outcome = await store.applyPersonEvent(event.source, event.person, event.occurredAt);
    result = outcome === 'applied' ? { status: 'applied', touched: all } : { status: 'stale', touched: [] };
  }

  if (result.touched.length) {
    await store.markDirty(opts.targets.filter((t) => result.touched.includes(t.name)));
  }
  await store.recordDelivery(delivery, opts.deliveryTtlSeconds ?? DELIVERY_TTL_SECONDS);
  deps.log.info('hr event ingested', { eventId: event.id, type: event.type, status: result.status, touched: result.touched.length });
  return result;
}

async function ingestSnapshot(
  deps: IngestHrEventDeps,
  event: Extract<HrEvent, { type: 'roster.snapshot' }>,
  opts: IngestOptions,
  all: string[],
): Promise<IngestResult> {
  const { store } = deps;
  let people: Person[] = event.people;
  const parts = event.parts ?? 1;
  if (parts > 1) {
    const snapshotId = event.snapshotId!;
    const stored = await store.putSnapshotPart(event.source, snapshotId, event.part ?? 1, parts, event.people);
    if (!stored.complete) return { status: 'partial', touched: [], parts: { received: stored.received, parts } };
    people = await store.readSnapshot(event.source, snapshotId);
  }
  if (people.length === 0 && !opts.force) {
    const held = { source: event.source, snapshotId: event.snapshotId ?? event.id, occurredAt: event.occurredAt, eventId: event.id };
    const run = await holdEmptySnapshot(deps, held, opts.targets, opts.trigger ?? 'event', opts.runId);
    if (parts > 1) await store.deleteSnapshot(event.source, event.snapshotId!);
    return { status: 'blocked', touched: [], blocked: 'emptySnapshot', run };
  }
  const replaced = await store.replaceSource(event.source, people, event.occurredAt);
  if (parts > 1) await store.deleteSnapshot(event.source, event.snapshotId!);
  const changed = replaced.upserted + replaced.left > 0;
  return {
    status: changed || replaced.unchanged > 0 ? 'applied' : 'stale',
    // a snapshot that changed nothing still asks for a check: drift in Losant is fixed by reconciling
    touched: all,
    snapshot: { ...replaced, people: people.length },
    ...(parts > 1 ? { parts: { received: parts, parts } } : {}),
  };
}
