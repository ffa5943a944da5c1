// S3 notification / drop-dir watcher --> drops (pure): key → source and file, bytes → roster.snapshot events of ≤ 10 000 people
import { createHash } from 'node:crypto';
import { MAX_PEOPLE_PER_EVENT, type RosterSnapshotEvent } from './events.ts';
import { InputError } from './errors.ts';
import type { RosterFormat } from './roster.ts';
import { SOURCE_NAME, SOURCE_NAME_MESSAGE } from './sources.ts';
import type { Person } from './types.ts';

/** Largest roster file taken from a drop (bytes); a bigger one is refused before it is read. */
export const MAX_DROP_BYTES = 50 * 1024 * 1024;
/**
 * Memory a drop takes while it is parsed and stored, per byte of file: a 50 MB CSV of 633 009 people
 * peaked at about 1 GB RSS (20×), so 24× leaves room for the runtime.
 */
export const DROP_MEMORY_FACTOR = 24;

/**
 * The largest drop a function with `memoryMb` of memory reads: MAX_DROP_BYTES, or less where the
 * memory would not hold it (1024 MB: 42.7 MB), so a big file is refused with a reason instead of
 * ending the function out of memory. Undefined memory (the CLI): MAX_DROP_BYTES.
 * @example maxDropBytes(1024) // 44739242
 */
export function maxDropBytes(memoryMb?: number): number {
  if (memoryMb === undefined || !Number.isFinite(memoryMb) || memoryMb <= 0) return MAX_DROP_BYTES;
  return Math.min(MAX_DROP_BYTES, Math.floor((memoryMb * 1024 * 1024) / DROP_MEMORY_FACTOR));
}

/** Key prefix of roster drops in the bucket: `rosters/<source>/<file>`. */
export const DROP_PREFIX = 'rosters/';
/** The metadata key (S3 `x-amz-meta-occurred-at`) that says when the export was taken. */
export const OCCURRED_AT_METADATA = 'occurred-at';
/** Longest drop delivery id: an HR event id may be 256 characters, and a part adds `#part=<n>/<parts>` (≤ 16). */
const MAX_DELIVERY_ID = 240;

/** The object behind a drop, as its adapter (S3, the drop dir) read it. */
export type DropRead =
  | {
      kind: 'object';
      bytes: Uint8Array;
      lastModified: Date;
      /** the `occurred-at` metadata (S3 `x-amz-meta-occurred-at`) */
      occurredAtMetadata?: string | undefined;
    }
  /** bigger than the reader's `maxBytes`: refused before being read */
  | { kind: 'tooLarge'; size: number }
  /** gone before it could be read (deleted or overwritten): nothing to do */
  | { kind: 'missing' };

/** Reads a dropped object (S3: functions/drops/s3-drop-reader.ts). */
export interface DropReader {
  /** the largest object it reads (maxDropBytes) */
  readonly maxBytes: number;
  read(bucket: string, key: string, versionId?: string): Promise<DropRead>;
}

/** A drop's key as read: the source it feeds, the file name and its format. */
export interface DropKey {
  source: string;
  file: string;
  format: RosterFormat;
}

/** Why a key is not a roster drop (counted in `DropsRejected`). */
export interface DropKeyRejection {
  rejected: string;
}

/**
 * An S3 event key as the object's key: S3 notifications URL-encode keys with `+` for a space.
 * @example decodeS3EventKey('rosters/hr/May+2026%281%29.csv') // 'rosters/hr/May 2026(1).csv'
 */
export function decodeS3EventKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw; // not valid percent-encoding: keep it, parseDropKey refuses what it cannot read
  }
}

/**
 * Reads `rosters/<source>/<file>`: exactly three segments, a valid source name, a `.csv` or `.json` file.
 * @example parseDropKey('rosters/workday/2026-05.csv') // { source: 'workday', file: '2026-05.csv', format: 'csv' }
 */
export function parseDropKey(key: string): DropKey | DropKeyRejection {
  if (!key.startsWith(DROP_PREFIX)) return { rejected: `not under ${DROP_PREFIX}` };
  const parts = key.slice(DROP_PREFIX.length).split('/');
  if (parts.length !== 2) return { rejected: 'not rosters/<source>/<file> (nested deeper, or no source folder)' };
  const [source, file] = parts as [string, string];
  if (!SOURCE_NAME.test(source)) return { rejected: `source "${source}" ${SOURCE_NAME_MESSAGE}` };
  const m = /\.(json|csv)$/i.exec(file);
  if (!m?.[1] || file.length <= m[0].length) return { rejected: 'not a .csv or .json file' };
  return { source, file, format: m[1].toLowerCase() as RosterFormat };
}

/** Hex SHA-256 of the bytes: two uploads of the same bytes are one delivery. */
export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * The delivery id of a drop: `<location>#sha256:<hex>` where location is `s3:<bucket>/<key>` or `file:<source>/<file>`.
 * Throws InputError (field `key`) when it would be longer than an HR event id may be (256).
 */
export function dropDeliveryId(location: string, bytes: Uint8Array): string {
  const id = `${location}#sha256:${sha256Hex(bytes)}`;
  if (id.length > MAX_DELIVERY_ID) {
    throw new InputError(`key: too long (the delivery id ${location}#sha256:… is over ${MAX_DELIVERY_ID} characters)`, [{ path: 'key', message: 'too long' }]);
  }
  return id;
}

/** Where a drop's occurredAt came from. */
export type OccurredAtOrigin = 'metadata' | 'file' | 'uploadTime';

export interface DropOccurredAt {
  occurredAt: string;
  origin: OccurredAtOrigin;
  /** true: nobody said when the export was taken (the age guard holds it: `staleSnapshot`) */
  ageUnknown: boolean;
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

function isoTime(value: unknown, field: string): string {
  const ms = typeof value === 'string' && ISO_WITH_ZONE.test(value.trim()) ? Date.parse(value.trim()) : Number.NaN;
  if (!Number.isFinite(ms)) {
    const message = 'must be an ISO date-time with a time zone';
    throw new InputError(`${field}: ${message}`, [{ path: field, message }]);
  }
  return new Date(ms).toISOString();
}

/**
 * The drop's occurredAt: the `occurred-at` metadata, else the JSON roster's top-level `occurredAt`,
 * else the upload time — trusted when the source says `trustUploadTime`, otherwise flagged `ageUnknown`.
 * Throws InputError naming the field for a metadata value or `occurredAt` that is not an ISO date-time.
 */
export function dropOccurredAt(input: { metadata?: string | undefined; fileOccurredAt?: unknown; lastModified: Date; trustUploadTime: boolean }): DropOccurredAt {
  if (input.metadata !== undefined) return { occurredAt: isoTime(input.metadata, `x-amz-meta-${OCCURRED_AT_METADATA}`), origin: 'metadata', ageUnknown: false };
  if (input.fileOccurredAt !== undefined) return { occurredAt: isoTime(input.fileOccurredAt, 'occurredAt'), origin: 'file', ageUnknown: false };
  return { occurredAt: input.lastModified.toISOString(), origin: 'uploadTime', ageUnknown: !input.trustUploadTime };
}

/** The top-level `occurredAt` of a JSON roster `{ "occurredAt": …, "people": [...] }` (undefined for CSV, an array, or none). */
export function jsonRosterOccurredAt(text: string, format: RosterFormat): unknown {
  if (format !== 'json') return undefined;
  try {
    const doc: unknown = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    return doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as { occurredAt?: unknown }).occurredAt : undefined;
  } catch {
    return undefined; // parseRoster reports the broken JSON
  }
}

/**
 * The `roster.snapshot` events of one drop: one event up to 10 000 people, else parts of 10 000 sharing
 * snapshotId `drop-<sha256>`; each part's id is the delivery id plus `#part=<n>/<parts>`.
 * @example dropEvents({ deliveryId, source: 'hr', occurredAt, people }).length // Math.max(1, ceil(people / 10 000))
 */
export function dropEvents(input: { deliveryId: string; source: string; occurredAt: string; people: Person[] }): RosterSnapshotEvent[] {
  const { deliveryId, source, occurredAt, people } = input;
  const parts = Math.max(1, Math.ceil(people.length / MAX_PEOPLE_PER_EVENT));
  if (parts === 1) return [{ id: deliveryId, type: 'roster.snapshot', occurredAt, source, people }];
  const sha = deliveryId.slice(deliveryId.lastIndexOf('#sha256:') + '#sha256:'.length);
  const snapshotId = `drop-${sha}`;
  return Array.from({ length: parts }, (_, i) => ({
    id: `${deliveryId}#part=${i + 1}/${parts}`,
    type: 'roster.snapshot' as const,
    occurredAt,
    source,
    people: people.slice(i * MAX_PEOPLE_PER_EVENT, (i + 1) * MAX_PEOPLE_PER_EVENT),
    snapshotId,
    part: i + 1,
    parts,
  }));
}
