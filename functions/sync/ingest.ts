// handler / CLI --> ingestHrEvent --> StateStore (people, snapshot parts, deliveries, dirty marks)
import type { Clock, Log, ReplaceSourceResult, RunRecord, StateStore } from './ports.ts';
import { holdSnapshot } from './held-snapshot.ts';
import { DEFAULT_MAX_SNAPSHOT_AGE_HOURS, type BlockCode, type Person, type Target } from './types.ts';
import { dateIssues, type DateSettings } from './dates.ts';
import { channelRefusal, sourcePolicy, type Channel, type SourceSettings } from './sources.ts';
import type { HrEvent } from './events.ts';
import { InputError } from './errors.ts';

/** What ingestHrEvent needs (handlers/ingest-and-queue.ts `IngestDeps` adds the queue and metrics around it). */
export interface IngestHrEventDeps {
  store: StateStore;
  clock: Clock;
  log: Log;
}

export interface IngestOptions {
  /** the sync config's targets: every one a person change may touch */
  targets: Target[];
  /** apply a snapshot the ingest would hold back anyway (`emptySnapshot`, `staleSnapshot`, `sourceChangeFraction`) */
  force?: boolean;
  /** how long a delivery id is remembered (default 7 days) */
  deliveryTtlSeconds?: number;
  /** the run id of a held empty snapshot's run record (default a new one) */
  runId?: string;
  /** who delivered the event, for a held snapshot's run record (default `event`) */
  trigger?: RunRecord['trigger'];
  /** the channel it arrived by (default `event`): a source whose `via` lacks it refuses the event (InputError naming `source`) */
  channel?: Channel;
  /** true: the snapshot's occurredAt cannot be trusted (e.g. a file without occurred-at) → held `staleSnapshot` whatever its age */
  ageUnknown?: boolean;
  /** `limits.maxSnapshotAgeHours`: an older snapshot (by occurredAt vs the clock) is held `staleSnapshot` (default 72) */
  maxSnapshotAgeHours?: number;
  /** the sync config's `sources` map (via, maxChangeFraction); a source not in it gets the defaults */
  sources?: Readonly<Record<string, SourceSettings>>;
  /** start / end date attributes (sync/dates.ts `dateSettings(config)`): a bad date is an InputError naming the field */
  dates?: DateSettings;
}

export interface IngestResult {
  /**
   * - applied: people changed (or were confirmed) — `touched` targets need a reconcile
   * - duplicate: this delivery id was already accepted; nothing happened
   * - stale: older than what is stored for that person; nothing changed
   * - partial: a part of a multi-part snapshot was stored; the rest has not arrived
   * - blocked: a snapshot was held back (`emptySnapshot`, `staleSnapshot`, `sourceChangeFraction`)
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

/** Throws `InputError` (field `source`) when the event's source does not take deliveries by `channel` (`sources.<name>.via`). */
function refuseChannel(event: HrEvent, opts: IngestOptions): void {
  const message = channelRefusal(opts.sources, event.source, opts.channel ?? 'event');
  if (message === undefined) return;
  throw new InputError(`source: ${message}`, [{ path: 'source', message }]);
}

/** Throws `InputError` naming `person.<field>` / `people.<n>.<field>` for a bad start or end date or zone. */
function refuseBadDates(event: HrEvent, dates: DateSettings | undefined, now: number): void {
  if (!dates) return;
  const listed = event.type === 'roster.snapshot' ? event.people.map((p, i) => ({ p, at: `people.${i}` })) : [{ p: event.person, at: 'person' }];
  const issues = listed.flatMap(({ p, at }) => dateIssues(p, dates, now).map((i) => ({ path: `${at}.${i.path}`, message: i.message })));
  if (issues.length) throw new InputError(`${issues[0]!.path}: ${issues[0]!.message}`, issues);
}

/** Why a complete snapshot must be held back before storage, or null to store it. */
async function holdCode(deps: IngestHrEventDeps, event: HrEvent, people: Person[], opts: IngestOptions): Promise<BlockCode | null> {
  if (opts.force) return null;
  const maxAgeMs = (opts.maxSnapshotAgeHours ?? DEFAULT_MAX_SNAPSHOT_AGE_HOURS) * 3600_000;
  if (opts.ageUnknown || deps.clock.now() - Date.parse(event.occurredAt) > maxAgeMs) return 'staleSnapshot';
  if (people.length === 0) return 'emptySnapshot';
  const { maxChangeFraction } = sourcePolicy(opts.sources, event.source);
  if (maxChangeFraction !== undefined && deps.store.previewReplaceSource) {
    const { changes, active } = await deps.store.previewReplaceSource(event.source, people, event.occurredAt);
    // a source's first snapshot (nobody active yet) has nothing to compare with
    if (active > 0 && changes > maxChangeFraction * active) {
      deps.log.warn('snapshot changes too much of its source', { source: event.source, changes, active, maxChangeFraction });
      return 'sourceChangeFraction';
    }
  }
  return null;
}

/**
 * Applies one validated HR event to the stored people. Idempotent per event id and per person
 * (an event older than the last one applied for that person changes nothing).
 * Throws `InputError` naming the field for an event that cannot be applied (nothing is stored and
 * its delivery id is not recorded, so a corrected resend is processed): `occurredAt` more than 5
 * minutes ahead, a snapshot part whose `parts` disagrees with the parts already received, a source
 * whose `via` does not list `opts.channel` (`source`).
 * A complete snapshot is held back (a blocked run; `approve --run` stores it with its own occurredAt)
 * when it is older than `maxSnapshotAgeHours` or `ageUnknown` (`staleSnapshot`), empty (`emptySnapshot`),
 * or changes more than its source's `maxChangeFraction` of the source's active people (`sourceChangeFraction`).
 * @example const r = await ingestHrEvent(deps, parseHrEvent(body), { targets: config.targets })
 */
export async function ingestHrEvent(deps: IngestHrEventDeps, event: HrEvent, opts: IngestOptions): Promise<IngestResult> {
  const { store } = deps;
  refuseFuture(event, deps.clock.now());
  refuseChannel(event, opts);
  refuseBadDates(event, opts.dates, deps.clock.now());
  // the source watch (maxSilenceHours): every accepted delivery counts, duplicates too
  await store.noteSourceDelivery?.(event.source, new Date(deps.clock.now()).toISOString());
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
  const code = await holdCode(deps, event, people, opts);
  if (code) {
    const held = { source: event.source, snapshotId: event.snapshotId ?? event.id, occurredAt: event.occurredAt, eventId: event.id, people };
    const run = await holdSnapshot(deps, held, code, opts.targets, opts.trigger ?? 'event', opts.runId);
    if (parts > 1) await store.deleteSnapshot(event.source, event.snapshotId!);
    return { status: 'blocked', touched: [], blocked: code, run };
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
