// test --> itemsForEmail (a POST answer's items for one address, found in its bytes as received) and createdAmong
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { emailNeedles, itemsForEmail, KEEP_AFTER_HIT, NeedleScan } from '../../functions/losant/answer-bytes.ts';
import { createdAmong, toPendingInvite } from '../../functions/losant/answers.ts';
import { OrgInviteSchema } from '../../functions/losant/schemas.ts';
import { newestInvite } from '../../functions/sync/invites.ts';
import type { PendingInvite } from '../../functions/sync/types.ts';

const ID = '575ec8687ae143cd83dc4a97';
const CALL = { method: 'POST', route: '/instances/{instanceId}/orgs/{orgId}/invites' } as const;
const hex = (c: string) => c.repeat(24);

function invite(email: string, extra: Record<string, unknown> = {}) {
  return { id: hex('a'), email, role: 'view', applicationRoles: [], dashboardRoles: [], inviteDate: '2024-05-01T10:00:00.000Z', ttl: 1000, hasExpired: false, disallowTransfer: false, ...extra };
}
function collection(items: unknown[], extra: Record<string, unknown> = {}) {
  return { items, instanceId: ID, orgId: ID, count: items.length, sortField: 'inviteDate', sortDirection: 'desc', _type: 'orgInvites', ...extra };
}
/** The text cut into chunks at the given byte offsets. */
function chunked(text: string, cuts: number[] = []): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    if (c > from) chunks.push(bytes.subarray(from, c));
    from = Math.max(from, c);
  }
  return chunks;
}
const one = (body: unknown) => chunked(JSON.stringify(body));
/** A POST's scan fed the chunks, as the transport feeds it; how many chunks it took over. */
function scanned(chunks: readonly Buffer[], email = 'ann@x.com'): NeedleScan & { took: number } {
  const scan = Object.assign(new NeedleScan(emailNeedles(email)!), { took: 0 });
  for (const chunk of chunks) if (scan.push(chunk)) scan.took += 1;
  return scan;
}
const itemsOf = (chunks: readonly Buffer[], email: string) => itemsForEmail(scanned(chunks, email));

describe('Class: NeedleScan', () => {
  it('finds where a needle first starts (needles of one length, as emailNeedles gives), however the body is cut into chunks', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '"'), maxLength: 60 });
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 5 }).chain((n) => fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '"'), minLength: n, maxLength: n }), { minLength: 1, maxLength: 3 })), fc.array(fc.nat(), { maxLength: 20 }), (body, words, cuts) => {
        const needles = words.map((w) => Buffer.from(w));
        const scan = new NeedleScan(needles);
        for (const chunk of chunked(body, cuts)) scan.push(chunk);
        let expected: { at: number; needle: number } | undefined;
        for (const [i, n] of needles.entries()) {
          const at = body.indexOf(n.toString());
          if (at !== -1 && (!expected || at < expected.at)) expected = { at, needle: i };
        }
        expect(scan.hit?.at).toBe(expected?.at);
        if (scan.hit) expect(body.startsWith(words[scan.hit.needle]!, scan.hit.at)).toBe(true);
        expect(scan.length).toBe(Buffer.byteLength(body));
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps every byte up to KEEP_AFTER_HIT past the hit and the last 4 KB, takes the rest over, and keeps all without a hit', () => {
    fc.assert(
      fc.property(fc.nat({ max: 400_000 }), fc.integer({ min: 300_000, max: 800_000 }), fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 40 }), (hitAt, size, sizes) => {
        const bytes = Buffer.alloc(size, 'x');
        const at = Math.min(hitAt, size - 9);
        bytes.write('"e":"ann"', at, 'latin1');
        const chunks: Buffer[] = [];
        for (let from = 0, k = 0; from < size; from += sizes[k++ % sizes.length]!) chunks.push(bytes.subarray(from, Math.min(size, from + sizes[k % sizes.length]!)));
        const scan = new NeedleScan([Buffer.from('"e":"ann"')]);
        let took = 0;
        for (const chunk of chunks) if (scan.push(chunk)) took += chunk.length;
        expect(scan.hit).toEqual({ at, needle: 0 });
        const kept = scan;
        const head = Math.min(size, at + KEEP_AFTER_HIT);
        expect(kept.range(0, head).equals(bytes.subarray(0, head))).toBe(true);
        expect(kept.range(size - 4096, size).equals(bytes.subarray(size - 4096))).toBe(true);
        expect(took).toBeLessThanOrEqual(Math.max(0, size - head));
        if (size - head > 2 * 70_000 + 4096) expect(took).toBeGreaterThan(0);
        const dropped = kept.range(head, size - 4096);
        expect(dropped.length === 0 || dropped.equals(bytes.subarray(head, size - 4096))).toBe(true); // empty, never other bytes
      }),
      { numRuns: 200 },
    );
    const none = new NeedleScan([Buffer.from('"e":"bob"')]);
    const body = Buffer.alloc(500_000, 'x');
    for (let from = 0; from < body.length; from += 65_536) expect(none.push(body.subarray(from, from + 65_536))).toBe(false);
    expect(none.range(0, body.length).equals(body)).toBe(true);
  });
});

describe('Function: itemsForEmail', () => {
  it('returns the items of that address as sent or lower-cased, in answer order', () => {
    const body = collection([invite('bob@x.com'), invite('Ann@x.com', { id: hex('b') }), invite('ann@x.com', { id: hex('c') })]);
    expect(itemsOf(one(body), 'Ann@x.com')).toEqual([invite('Ann@x.com', { id: hex('b') }), invite('ann@x.com', { id: hex('c') })]);
  });

  it('finds a needle cut by every chunk boundary, also one spread over many one-byte chunks', () => {
    const text = JSON.stringify(collection([invite('bob@x.com'), invite('ann@x.com', { id: hex('c') })]));
    const at = text.indexOf('"email":"ann@x.com"');
    for (let cut = at - 1; cut <= at + 20; cut++) {
      expect(itemsOf(chunked(text, [cut]), 'ann@x.com'), `cut at ${cut - at}`).toEqual([invite('ann@x.com', { id: hex('c') })]);
    }
    const bytes = [...Array(text.length).keys()];
    expect(itemsOf(chunked(text, bytes), 'ann@x.com')).toEqual([invite('ann@x.com', { id: hex('c') })]);
    expect(itemsOf(chunked(text, [at + 3, at + 5, at + 11]), 'ann@x.com')).toHaveLength(1);
  });

  it('finds the object past a nested object before its email, and the email key after nested values', () => {
    const body = collection([invite('ann@x.com', { applicationRoles: [{ resourceId: ID, role: 'view' }], meta: { a: { b: '{' } } })]);
    expect(itemsOf(one(body), 'ann@x.com')).toHaveLength(1);
    const keyFirst = `{"sortField":"inviteDate","sortDirection":"desc","items":[{"meta":{"x":"}{"},"email":"ann@x.com","id":"${hex('d')}","inviteDate":"2024-05-01T10:00:00.000Z"}],"count":1}`;
    expect(itemsOf(chunked(keyFirst), 'ann@x.com')).toEqual([{ meta: { x: '}{' }, email: 'ann@x.com', id: hex('d'), inviteDate: '2024-05-01T10:00:00.000Z' }]);
  });

  it('finds an item larger than the first window (4 KB) within the whole window (64 KB), in any chunks', () => {
    const big = invite('ann@x.com', { id: hex('e'), pad: 'x'.repeat(20_000) });
    const text = JSON.stringify(collection([invite('bob@x.com'), big]));
    expect(itemsOf(chunked(text), 'ann@x.com')).toEqual([big]);
    expect(itemsOf(chunked(text, [100, 5_000, 9_000, 30_000]), 'ann@x.com')).toEqual([big]);
  });

  it.each([
    ['no item of that address', JSON.stringify(collection([invite('bob@x.com')]))],
    ['the needle inside a string (escaped quotes)', JSON.stringify(collection([invite('bob@x.com', { note: '"email":"ann@x.com"' })]))],
    ['a key ending in \\"email', `{"items":[{"x\\"email":"ann@x.com","email":"bob@x.com"}]}`],
    ['the address in a nested object (not an array element)', JSON.stringify(collection([invite('bob@x.com', { inviter: { email: 'ann@x.com' } })]))],
    ['a later duplicate email key that JSON.parse keeps', `{"items":[{"email":"ann@x.com","email":"bob@x.com"}]}`],
    ['pretty-printed (`": "`, left to the full parse)', JSON.stringify(collection([invite('ann@x.com')]), null, 2)],
    ['a root that is an array', JSON.stringify([invite('ann@x.com')])],
    ['text after the root', `${JSON.stringify(collection([invite('ann@x.com')]))}x`],
    ['an answer cut off inside the item', JSON.stringify(collection([invite('ann@x.com')])).slice(0, 60)],
    ['a broken item', JSON.stringify(collection([invite('ann@x.com')])).replace('"role":"view"', '"role":view')],
    ['an item larger than the window', JSON.stringify(collection([invite('ann@x.com', { pad: 'x'.repeat(70_000) })]))],
  ])('returns undefined for %s', (_why, text) => {
    expect(itemsOf(chunked(text), 'ann@x.com')).toBeUndefined();
  });

  describe('an answer that lists newest first (Losant\'s default: sortField inviteDate, desc)', () => {
    const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 10, minute)).toISOString();
    /** 5 000 pending (~2 MB) newest first, ann's new invite first and an older one of hers near the end. */
    function big() {
      const items = [invite('ann@x.com', { id: hex('f'), inviteDate: at(59) })];
      for (let k = 0; k < 5000; k++) items.push(invite(`p${k}@x.com`, { inviteDate: at(58 - Math.floor(k / 100)) }));
      items.push(invite('ann@x.com', { id: hex('b'), inviteDate: at(1) }));
      return JSON.stringify(collection(items));
    }

    it('gives the first item alone when the next item is older, from the head and tail it kept (the rest taken over)', () => {
      const chunks = chunked(big(), Array.from({ length: 40 }, (_, k) => (k + 1) * 65_536));
      const scan = scanned(chunks);
      expect(scan.took).toBeGreaterThan(20);
      expect(itemsForEmail(scan)).toEqual([invite('ann@x.com', { id: hex('f'), inviteDate: at(59) })]);
    });

    it('reads on past items as new as the first (other addresses, and the address again, which then counts)', () => {
      const tied = [invite('ann@x.com', { id: hex('c'), inviteDate: at(5) }), invite('bob@x.com', { inviteDate: at(5) }), invite('ann@x.com', { id: hex('d'), inviteDate: at(5) }), invite('ann@x.com', { id: hex('e'), inviteDate: at(4) })];
      const chunks = one(collection(tied));
      const raw = itemsForEmail(scanned(chunks));
      expect(raw).toEqual([tied[0], tied[2]]);
      expect(createdAmong(raw!, { role: 'view' }, 'ann@x.com', CALL)?.id).toBe(hex('d'));
      const last = one(collection([invite('bob@x.com', { inviteDate: at(6) }), invite('ann@x.com', { id: hex('c'), inviteDate: at(5) })]));
      expect(itemsForEmail(scanned(last))).toEqual([invite('ann@x.com', { id: hex('c'), inviteDate: at(5) })]);
    });

    it.each([
      ['an item after it is newer (the order it states is broken)', collection([invite('ann@x.com', { id: hex('b'), inviteDate: at(1) }), invite('bob@x.com', { inviteDate: at(3) }), invite('cy@x.com', { inviteDate: at(0) }), invite('ann@x.com', { id: hex('c'), inviteDate: at(2) })])],
      ['the item after it has no date', collection([invite('ann@x.com', { id: hex('b'), inviteDate: at(1) }), { ...invite('bob@x.com'), inviteDate: undefined }, invite('ann@x.com', { id: hex('c'), inviteDate: at(0) })])],
      ['it does not say it lists newest first', collection([invite('ann@x.com', { id: hex('b'), inviteDate: at(2) }), invite('bob@x.com', { inviteDate: at(1) }), invite('ann@x.com', { id: hex('c'), inviteDate: at(0) })], { sortDirection: 'asc' })],
    ])('leaves the answer to the full parse (or, once taken over, to a lookup) when %s', (_why, body) => {
      expect(itemsForEmail(scanned(one(body)))).toBeUndefined();
    });
  });

  it('leaves an address JSON would escape, or not ASCII, to the full parse', () => {
    expect(emailNeedles('zoë@x.com')).toBeUndefined();
    expect(emailNeedles('a"b@x.com')).toBeUndefined();
    expect(emailNeedles('a\\b@x.com')).toBeUndefined();
    expect(emailNeedles('Ann@x.com')?.map(String)).toEqual(['"email":"Ann@x.com"', '"email":"ann@x.com"']);
  });

  it('returns undefined or exactly the newest invite JSON.parse + newestInvite give, for any collection newest first in any chunks (undefined for any other order)', () => {
    const sent = fc.constantFrom('ann@x.com', 'Ann@x.com');
    const address = fc.constantFrom('ann@x.com', 'Ann@x.com', 'bob@x.com', 'ann@x.co', 'xann@x.com');
    const tricky = fc.constantFrom('"email":"ann@x.com"', '{"email":"ann@x.com"}', '\\', '\\"', '}]},{', '{[', '"}],"x":[{"email":"ann@x.com"', '\\"email\\":\\"ann@x.com\\"');
    const note = fc.oneof(tricky, fc.string(), fc.array(tricky, { maxLength: 3 }).map((a) => a.join('')));
    const nested = fc.record({ email: address, note: fc.option(note, { nil: undefined }), deeper: fc.option(fc.record({ email: address }), { nil: undefined }) });
    const rarely = <T,>(a: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: a, weight: 1 });
    const item = fc.record({
      id: fc.constantFrom(hex('a'), hex('b'), hex('c')),
      email: address,
      role: fc.constantFrom('view', 'view', 'view', 'edit'),
      inviteDate: fc.constantFrom('2024-05-01T10:00:00.000Z', '2024-05-02T10:00:00.000Z', '2024-05-01T10:00:00Z'),
      hasExpired: fc.boolean(),
      note: fc.option(note, { nil: undefined }),
      inviter: rarely(nested),
      cc: rarely(fc.array(nested, { maxLength: 2 })),
      [`x"email`]: fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary: address, weight: 1 }),
    }, { requiredKeys: ['id', 'email', 'role', 'inviteDate'] });
    const other = fc.option(fc.array(nested, { maxLength: 2 }), { nil: undefined });
    let answered = 0;
    fc.assert(
      fc.property(fc.array(item, { maxLength: 6 }), sent, fc.constantFrom(undefined, undefined, undefined, 2, '\t'), fc.array(fc.nat(), { maxLength: 12 }), other, fc.boolean(), fc.boolean(), (items, email, indent, cuts, more, otherFirst, newestFirst) => {
        // newest first, as Losant lists by default and says so (sortField inviteDate, desc); else another order it says
        if (newestFirst) items.sort((a, b) => Date.parse(b.inviteDate) - Date.parse(a.inviteDate));
        const body = collection(items, { ...(more ? { other: more } : {}), ...(newestFirst ? {} : { sortField: 'email', sortDirection: 'asc' }) });
        const text = otherFirst && more ? `{"other":${JSON.stringify(more)},${JSON.stringify(body).slice(1)}` : JSON.stringify(body, null, indent);
        const raw = itemsOf(chunked(text, cuts), email);
        if (!newestFirst) expect(raw).toBeUndefined();
        if (raw === undefined) return;
        const parsed = JSON.parse(text) as { items: { email: string }[] };
        const mine = parsed.items.filter((i) => i.email === email || i.email === email.toLowerCase());
        const got = createdAmong(raw, { role: 'view' }, email.toLowerCase(), CALL);
        if (got === undefined) return;
        answered += 1;
        const expected = newestInvite(mine.map((i): PendingInvite => toPendingInvite(OrgInviteSchema.parse(i), CALL)));
        expect(got).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
    expect(answered).toBeGreaterThan(50); // the property saw answers the fast path does answer
  });
});
