// unit: roster file drops — key rules, occurredAt, parts of 10 000 (sync/drops.ts), ingestDrop over the memory store, the drop dir watcher with a fake clock
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeS3EventKey, dropDeliveryId, dropEvents, dropOccurredAt, MAX_DROP_BYTES, maxDropBytes, parseDropKey, sha256Hex } from '../../functions/sync/drops.ts';
import { MAX_PEOPLE_PER_EVENT } from '../../functions/sync/events.ts';
import { ingestDrop, type DropInput, type DropResult } from '../../functions/handlers/ingest-drop.ts';
import type { IngestDeps } from '../../functions/handlers/ingest-and-queue.ts';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';
import { keyedLog } from '../../functions/runtime/logger.ts';
import { DropDirWatcher, isIgnoredDropFile } from '../../cli/drop-dir.ts';
import { handleS3Drops } from '../../functions/handlers/s3-drop.handler.ts';
import { MemoryStateStore } from '../helpers/memory-store.ts';
import { memoryLog } from '../helpers/sync-harness.ts';
import { memoryMetrics } from '../helpers/aws-local.ts';
import { person } from '../helpers/builders.ts';
import { fixture } from '../helpers/fixtures.ts';

describe('Function: parseDropKey', () => {
  it.each([
    ['rosters/workday/2026-05.csv', { source: 'workday', file: '2026-05.csv', format: 'csv' }],
    ['rosters/adp.us/Export.JSON', { source: 'adp.us', file: 'Export.JSON', format: 'json' }],
  ])('returns source, file and format for %s', (key, expected) => {
    expect(parseDropKey(key)).toEqual(expected);
  });

  it.each([
    ['rosters/workday/2026/05.csv', 'nested deeper'],
    ['rosters/work day/05.csv', 'source "work day" must be 1-64 characters'],
    ['rosters/workday/05.xlsx', 'not a .csv or .json file'],
    ['rosters/workday/.csv', 'not a .csv or .json file'],
    ['rosters/05.csv', 'no source folder'],
    ['exports/workday/05.csv', 'not under rosters/'],
  ])('refuses %s', (key, reason) => {
    const r = parseDropKey(key);
    expect('rejected' in r && r.rejected).toContain(reason);
  });
});

describe('Function: decodeS3EventKey', () => {
  it('turns + into spaces and decodes percent escapes, and keeps a key that is not valid percent-encoding', () => {
    expect(decodeS3EventKey('rosters/hr/May+2026%2B%281%29.csv')).toBe('rosters/hr/May 2026+(1).csv');
    expect(decodeS3EventKey('rosters/hr/100%.csv')).toBe('rosters/hr/100%.csv');
  });
});

describe('Function: dropDeliveryId', () => {
  it('returns <location>#sha256:<hex of the bytes>, and refuses one too long for an event id', () => {
    const bytes = Buffer.from('email\na@example.com\n');
    expect(dropDeliveryId('s3:b/rosters/hr/a.csv', bytes)).toBe(`s3:b/rosters/hr/a.csv#sha256:${sha256Hex(bytes)}`);
    expect(sha256Hex(bytes)).toMatch(/^[0-9a-f]{64}$/);
    expect(() => dropDeliveryId(`s3:b/rosters/hr/${'x'.repeat(200)}.csv`, bytes)).toThrow(/key: too long/);
  });
});

describe('Function: dropOccurredAt', () => {
  const lastModified = new Date('2030-01-02T03:04:05Z');
  it('prefers the metadata, then the file, then the upload time (ageUnknown unless trusted)', () => {
    expect(dropOccurredAt({ metadata: '2030-01-01T10:00:00+01:00', fileOccurredAt: '2029-01-01T00:00:00Z', lastModified, trustUploadTime: false })).toEqual({ occurredAt: '2030-01-01T09:00:00.000Z', origin: 'metadata', ageUnknown: false });
    expect(dropOccurredAt({ fileOccurredAt: '2029-01-01T00:00:00Z', lastModified, trustUploadTime: false })).toEqual({ occurredAt: '2029-01-01T00:00:00.000Z', origin: 'file', ageUnknown: false });
    expect(dropOccurredAt({ lastModified, trustUploadTime: true })).toEqual({ occurredAt: lastModified.toISOString(), origin: 'uploadTime', ageUnknown: false });
    expect(dropOccurredAt({ lastModified, trustUploadTime: false })).toEqual({ occurredAt: lastModified.toISOString(), origin: 'uploadTime', ageUnknown: true });
  });

  it('throws naming the field for a date without a zone or not a date', () => {
    expect(() => dropOccurredAt({ metadata: '2030-01-01T10:00:00', lastModified, trustUploadTime: false })).toThrow('x-amz-meta-occurred-at: must be an ISO date-time with a time zone');
    expect(() => dropOccurredAt({ fileOccurredAt: 17, lastModified, trustUploadTime: false })).toThrow('occurredAt: must be an ISO date-time with a time zone');
  });
});

describe('Function: dropEvents', () => {
  it('returns one event up to 10 000 people and parts of 10 000 beyond, each a valid HR event', () => {
    // Arrange
    const people = Array.from({ length: 2 * MAX_PEOPLE_PER_EVENT + 1 }, (_, i) => person({ email: `p${i}@example.com`, employeeId: `E${i}` }));
    const base = { deliveryId: `s3:b/rosters/hr/a.csv#sha256:${'ab'.repeat(32)}`, source: 'hr', occurredAt: '2030-01-01T00:00:00.000Z' };

    // Act
    const one = dropEvents({ ...base, people: people.slice(0, MAX_PEOPLE_PER_EVENT) });
    const three = dropEvents({ ...base, people });

    // Assert
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({ id: base.deliveryId, type: 'roster.snapshot' });
    expect(one[0]!.parts).toBeUndefined();
    expect(three.map((e) => [e.id, e.part, e.parts, e.people.length])).toEqual([
      [`${base.deliveryId}#part=1/3`, 1, 3, 10_000],
      [`${base.deliveryId}#part=2/3`, 2, 3, 10_000],
      [`${base.deliveryId}#part=3/3`, 3, 3, 1],
    ]);
    expect(new Set(three.map((e) => e.snapshotId))).toEqual(new Set([`drop-${'ab'.repeat(32)}`]));
    expect(three.every((e) => e.id.length <= 256 && e.occurredAt === base.occurredAt && e.source === 'hr')).toBe(true);
    expect(dropEvents({ ...base, people: [] })).toHaveLength(1);
  });
});

function deps(now: { ms: number }, extra: Record<string, unknown> = {}): IngestDeps & { store: MemoryStateStore; queued: string[][]; metrics: ReturnType<typeof memoryMetrics>; published: Record<string, number>[] } {
  const published: Record<string, number>[] = [];
  const queued: string[][] = [];
  const store = new MemoryStateStore({ now: () => now.ms });
  return {
    store,
    clock: { now: () => now.ms },
    log: keyedLog(memoryLog()),
    queue: { enqueue: async (t: string[]) => void queued.push(t) },
    config: parseSyncConfig({ targets: [{ name: 'eng', instanceId: 'a'.repeat(24), orgId: 'b'.repeat(24), rules: [{ role: 'view' }] }], sources: { hr: { via: ['s3'] } }, ...extra }),
    metrics: memoryMetrics(published),
    published,
    queued,
  };
}

const input = (key: string, text: string, lastModified: Date, occurredAt?: string): DropInput => ({
  location: `s3:b/${key}`,
  key,
  read: async () => ({ kind: 'object', bytes: Buffer.from(text), lastModified, ...(occurredAt ? { occurredAtMetadata: occurredAt } : {}) }),
});

describe('Function: ingestDrop', () => {
  it('stores a roster of 25 000 people sent in three parts as one snapshot, queues once, and answers duplicate for the same bytes', async () => {
    // Arrange
    const now = { ms: Date.parse('2031-03-04T05:06:07Z') };
    const d = deps(now);
    const csv = ['email,employeeId', ...Array.from({ length: 25_000 }, (_, i) => `p${i}@example.com,E${i}`)].join('\n');
    const at = new Date(now.ms - 3_600_000).toISOString();

    // Act
    const first = await ingestDrop(d, input('rosters/hr/all.csv', csv, new Date(now.ms), at));
    const again = await ingestDrop(d, input('rosters/hr/all.csv', csv, new Date(now.ms), at));

    // Assert
    expect(first).toMatchObject({ status: 'applied', people: 25_000, parts: 3, touched: 1, queued: true, occurredAtFrom: 'metadata' });
    expect((await d.store.listPeople()).length).toBe(25_000);
    expect(d.queued).toEqual([['eng']]);
    expect(again).toMatchObject({ status: 'duplicate', touched: 0 });
  });

  it('refuses a file with bad rows whole, recording every row, and stores nothing', async () => {
    // Arrange
    const now = { ms: Date.parse('2031-03-04T05:06:07Z') };
    const d = deps(now);
    const csv = 'email,employeeId\na@example.com,E1\nbad,E2\nb@example.com,E1\n';

    // Act
    const r = (await ingestDrop(d, input('rosters/hr/x.csv', csv, new Date(now.ms), new Date(now.ms).toISOString()))) as Extract<DropResult, { status: 'failed' }>;

    // Assert
    expect(r).toMatchObject({ status: 'failed', rows: 2, message: 'rosters/hr/x.csv: 2 bad rows' });
    const failure = await d.store.getFailedDelivery({ source: 'hr', id: r.deliveryId });
    expect(failure).toMatchObject({ failedAt: new Date(now.ms).toISOString(), rowCount: 2 });
    expect(failure?.rows).toEqual([
      { line: 3, field: 'email', message: expect.any(String) },
      { line: 4, field: 'employeeId', message: 'same person as line 2' },
    ]);
    expect(await d.store.listPeople()).toEqual([]);
    expect(d.published.reduce((n, m) => n + (m.DropsFailed ?? 0), 0)).toBe(1);
  });

  it('holds a file older than a configured limits.maxSnapshotAgeHours (2) as staleSnapshot and applies a younger one', async () => {
    // Arrange
    const now = { ms: Date.parse('2031-03-04T05:06:07Z') };
    const d = deps(now, { limits: { maxSnapshotAgeHours: 2 } });
    const hoursAgo = (h: number) => new Date(now.ms - h * 3_600_000).toISOString();

    // Act
    const old = await ingestDrop(d, input('rosters/hr/old.csv', 'email\nold@example.com\n', new Date(now.ms), hoursAgo(3)));
    const young = await ingestDrop(d, input('rosters/hr/young.csv', 'email\nyoung@example.com\n', new Date(now.ms), hoursAgo(1)));

    // Assert
    expect(old).toMatchObject({ status: 'blocked', blocked: 'staleSnapshot', touched: 0 });
    expect(young).toMatchObject({ status: 'applied', touched: 1 });
    expect((await d.store.listPeople()).map((p) => p.email)).toEqual(['young@example.com']);
  });

  it('leaves out a row with a bad start date when limits.maxBadRows allows it, as --roster does', async () => {
    // Arrange
    const now = { ms: Date.parse('2031-03-04T05:06:07Z') };
    const d = deps(now, { limits: { maxBadRows: 1 }, people: { startDateField: 'startDate' } });
    const csv = 'email,startDate\nok@example.com,2031-03-10\nbad@example.com,10/03/2031\n';

    // Act
    const r = await ingestDrop(d, input('rosters/hr/dated.csv', csv, new Date(now.ms), new Date(now.ms).toISOString()));

    // Assert
    expect(r).toMatchObject({ status: 'applied', people: 1 });
    expect((await d.store.listPeople()).map((p) => p.email)).toEqual(['ok@example.com']);
  });

  it('refuses an occurredAt more than 5 minutes ahead as a failed delivery', async () => {
    const now = { ms: Date.parse('2031-03-04T05:06:07Z') };
    const d = deps(now);
    const r = await ingestDrop(d, input('rosters/hr/y.csv', 'email\na@example.com\n', new Date(now.ms), new Date(now.ms + 3_600_000).toISOString()));
    expect(r).toMatchObject({ status: 'failed', message: expect.stringContaining('occurredAt: more than 5 minutes in the future') });
  });
});

describe('Function: handleS3Drops', () => {
  it("reads the notification's object at its decoded key and version, and skips records that are not ObjectCreated", async () => {
    // Arrange
    const now = { ms: Date.parse('2031-03-04T05:06:07Z') };
    const d = deps(now);
    const event = fixture('lambda/s3-object-created.json') as { Records: Record<string, unknown>[] };
    event.Records[0]!.s3 = { ...(event.Records[0]!.s3 as object), object: { key: 'rosters/hr/May+2026.csv', size: 30, versionId: 'v-1' } };
    event.Records.push({ ...event.Records[0]!, eventName: 'ObjectRemoved:Delete' });
    const reads: unknown[][] = [];
    const drops = { maxBytes: MAX_DROP_BYTES, read: async (...args: unknown[]) => (reads.push(args), { kind: 'object' as const, bytes: Buffer.from('email\na@example.com\n'), lastModified: new Date(now.ms), occurredAtMetadata: new Date(now.ms).toISOString() }) };

    // Act
    const results = await handleS3Drops(event, { ...d, drops });

    // Assert
    expect(reads).toEqual([['is-dev-drops-123456789012-us-east-1', 'rosters/hr/May 2026.csv', 'v-1']]);
    expect(results).toMatchObject([{ status: 'applied', key: 'rosters/hr/May 2026.csv', people: 1 }]);
  });
});

describe('Function: maxDropBytes', () => {
  it('reads up to 50 MB, less where the function memory would not hold the file (memoryMb ÷ 24)', () => {
    expect(maxDropBytes(undefined)).toBe(MAX_DROP_BYTES);
    expect(maxDropBytes(1024)).toBe(44_739_242);
    expect(maxDropBytes(512)).toBe(22_369_621);
    expect(maxDropBytes(1280)).toBe(MAX_DROP_BYTES);
    expect(maxDropBytes(10_240)).toBe(MAX_DROP_BYTES);
  });

  it("refuses a notification's object over the reader's limit without reading it, naming memoryMb", async () => {
    // Arrange: a reader of a 512 MB function, an object of 30 MB by the notification
    const now = { ms: Date.parse('2031-03-04T05:06:07Z') };
    const d = deps(now);
    const event = fixture('lambda/s3-object-created.json') as { Records: Record<string, unknown>[] };
    event.Records[0]!.s3 = { ...(event.Records[0]!.s3 as object), object: { key: 'rosters/hr/big.csv', size: 30 * 1024 * 1024, versionId: 'v-1' } };
    let reads = 0;
    const drops = { maxBytes: maxDropBytes(512), read: async () => (reads++, { kind: 'missing' as const }) };

    // Act
    const results = await handleS3Drops(event, { ...d, drops });

    // Assert
    expect(reads).toBe(0);
    expect(results).toMatchObject([{ status: 'failed', key: 'rosters/hr/big.csv' }]);
    expect(JSON.stringify(results)).toMatch(/more than 22369621 \(21\.3 MB\).*memoryMb/);
  });
});

describe('Function: isIgnoredDropFile', () => {
  it.each([
    ['.roster.csv', true],
    ['roster.csv.tmp', true],
    ['roster.csv.PART', true],
    ['roster.csv', false],
    ['roster.json', false],
  ])('%s → %s', (name, ignored) => expect(isIgnoredDropFile(name)).toBe(ignored));
});

describe('Class: DropDirWatcher', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'invite-sync-drops-'));
    await mkdir(join(dir, 'hr'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hands a file over only after its size and mtime held for 2 s of the clock, once, and never an ignored file', async () => {
    // Arrange
    const now = { ms: 1_000_000 };
    const seen: DropInput[] = [];
    const reads: unknown[] = [];
    const w = new DropDirWatcher({
      dir,
      log: memoryLog(),
      clock: { now: () => now.ms },
      ingest: async (i) => {
        seen.push(i);
        reads.push(await i.read());
        return { status: 'applied' } as DropResult;
      },
    });
    await writeFile(join(dir, 'hr', 'a.csv.part'), 'email\n');
    await writeFile(join(dir, 'hr', '.hidden.csv'), 'email\n');

    // Act + Assert: first sight, then 1.9 s later: not yet
    await writeFile(join(dir, 'hr', 'a.csv'), 'email\na@example.com\n');
    await w.poll();
    now.ms += 1_900;
    await w.poll();
    expect(seen).toEqual([]);
    // 2 s stable: read once
    now.ms += 100;
    await w.poll();
    expect(seen.map((i) => [i.key, i.location])).toEqual([['rosters/hr/a.csv', 'file:hr/a.csv']]);
    expect(reads[0]).toMatchObject({ kind: 'object', bytes: Buffer.from('email\na@example.com\n') });
    now.ms += 5_000;
    await w.poll();
    expect(seen).toHaveLength(1);
    // a rename of the finished .part file is a new file: stable for 2 s, then read
    await rename(join(dir, 'hr', 'a.csv.part'), join(dir, 'hr', 'b.csv'));
    await w.poll();
    now.ms += 2_000;
    await w.poll();
    expect(seen.map((i) => i.key)).toEqual(['rosters/hr/a.csv', 'rosters/hr/b.csv']);
  });

  it('starts the 2 s again when a file grows, and retries an ingest that threw', async () => {
    // Arrange
    const now = { ms: 5_000 };
    let fail = true;
    const seen: string[] = [];
    const w = new DropDirWatcher({
      dir,
      log: memoryLog(),
      clock: { now: () => now.ms },
      ingest: async (i) => {
        if (fail) throw new Error('store down');
        const read = await i.read();
        seen.push(read.kind === 'object' ? Buffer.from(read.bytes).toString('utf8') : read.kind);
        return { status: 'applied' } as DropResult;
      },
    });
    const file = join(dir, 'hr', 'c.csv');
    await writeFile(file, 'email\n');
    await w.poll();
    now.ms += 1_500;
    await writeFile(file, 'email\nc@example.com\n');
    await w.poll();
    now.ms += 1_500;

    // Act + Assert
    await w.poll();
    expect(seen).toEqual([]); // grown 1.5 s ago: not stable yet
    now.ms += 500;
    await w.poll(); // stable now, but the ingest throws
    fail = false;
    await w.poll();
    expect(seen).toEqual(['email\nc@example.com\n']);
  });
});
