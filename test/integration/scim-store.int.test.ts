// test --> DynamoScimStore --> DynamoDB Local (a real table per file): uniqueness items in the resource's
// transaction, versions and If-Match, paging, lookups, DELETE freeing the unique values, memberships, group
// members as items of their own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { ScanCommand, TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { scimStoreOf } from '../../functions/state/scim-store.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { ScimError } from '../../functions/scim/errors.ts';
import { etagOf } from '../../functions/scim/ports.ts';
import { localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';

const client: DynamoDBClient = localDynamoClient();
const tableName = uniqueTableName('scim-store');
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const clock = { ms: T0 };
const store = new DynamoStateStore({ tableName, client, now: () => clock.ms });
const scim = scimStoreOf(store);
const src = () => `okta-${randomUUID().slice(0, 6)}`;

async function scimErr(p: Promise<unknown>): Promise<ScimError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ScimError);
  return err as ScimError;
}

beforeAll(async () => {
  await createTableIfMissing(client, tableName);
});
afterAll(() => client.destroy());

describe('DynamoScimStore', () => {
  it('create assigns a random, case-sensitive id, version 1 and created = lastModified', async () => {
    const s = src();
    const a = await scim.create(s, 'User', { userName: 'jane@x.com' });
    const b = await scim.create(s, 'User', { userName: 'john@x.com' });
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.version).toBe(1);
    expect(a.created).toBe(new Date(clock.ms).toISOString());
    expect(await scim.get(s, 'User', a.id)).toEqual(a);
    expect(await scim.get(s, 'User', a.id.toLowerCase() === a.id ? a.id.toUpperCase() : a.id.toLowerCase())).toBeNull();
  });

  it('a taken userName (any case) or externalId is 409 uniqueness and stores nothing', async () => {
    const s = src();
    await scim.create(s, 'User', { userName: 'Jane@X.com', externalId: 'ext-1' });
    const e1 = await scimErr(scim.create(s, 'User', { userName: 'jane@x.COM' }));
    expect([e1.status, e1.scimType]).toEqual([409, 'uniqueness']);
    expect(e1.message).toContain('userName');
    const e2 = await scimErr(scim.create(s, 'User', { userName: 'other', externalId: 'EXT-1' }));
    expect([e2.status, e2.scimType]).toEqual([409, 'uniqueness']);
    expect(e2.message).toContain('externalId');
    // the failed create left no lookup behind: `other` is still free
    await scim.create(s, 'User', { userName: 'other' });
    expect((await scim.list(s, 'User', { startIndex: 1, count: 10 })).totalResults).toBe(2);
    // another source is another namespace
    await scim.create(src(), 'User', { userName: 'jane@x.com' });
  });

  it('group displayName is unique per source', async () => {
    const s = src();
    await scim.create(s, 'Group', { displayName: 'Losant-Admins' });
    const e = await scimErr(scim.create(s, 'Group', { displayName: 'losant-admins' }));
    expect(e.scimType).toBe('uniqueness');
  });

  it('replace bumps the version, moves the lookups, honours If-Match (412) and refuses a taken userName', async () => {
    const s = src();
    const a = await scim.create(s, 'User', { userName: 'a' });
    await scim.create(s, 'User', { userName: 'b' });
    clock.ms += 1000;
    const a2 = await scim.replace(s, 'User', a.id, { userName: 'a2' }, { ifMatch: etagOf(1) });
    expect(a2.version).toBe(2);
    expect(a2.lastModified > a2.created).toBe(true);
    expect((await scimErr(scim.replace(s, 'User', a.id, { userName: 'a3' }, { ifMatch: etagOf(1) }))).status).toBe(412);
    const taken = await scimErr(scim.replace(s, 'User', a.id, { userName: 'B' }));
    expect([taken.status, taken.scimType]).toEqual([409, 'uniqueness']);
    expect((await scim.get(s, 'User', a.id))?.doc).toEqual({ userName: 'a2' });
    // the old userName is free again, the new one is found by lookup
    await scim.create(s, 'User', { userName: 'A' });
    const page = await scim.list(s, 'User', { startIndex: 1, count: 10, indexed: [{ attr: 'userName', value: 'A2' }] });
    expect(page.resources.map((r) => r.id)).toEqual([a.id]);
    expect((await scimErr(scim.replace(s, 'User', 'nope', { userName: 'x' }))).status).toBe(404);
  });

  it('concurrent updates of one user all land (read, change, conditional write, retry)', async () => {
    const s = src();
    const a = await scim.create(s, 'User', { userName: 'c', n: 0 });
    await Promise.all(Array.from({ length: 4 }, () => scim.update(s, 'User', a.id, (cur) => ({ ...cur.doc, n: Number(cur.doc.n) + 1 }))));
    const after = await scim.get(s, 'User', a.id);
    expect(after?.doc.n).toBe(4);
    expect(after?.version).toBe(5);
  });

  it('delete frees the lookups: the same userName makes a new user', async () => {
    const s = src();
    const a = await scim.create(s, 'User', { userName: 'gone@x.com', externalId: 'e' });
    expect((await scimErr(scim.delete(s, 'User', a.id, { ifMatch: etagOf(7) }))).status).toBe(412);
    const deleted = await scim.delete(s, 'User', a.id);
    expect(deleted.id).toBe(a.id);
    expect(await scim.get(s, 'User', a.id)).toBeNull();
    expect((await scimErr(scim.delete(s, 'User', a.id))).status).toBe(404);
    const b = await scim.create(s, 'User', { userName: 'gone@x.com', externalId: 'e' });
    expect(b.id).not.toBe(a.id);
  });

  it('list pages with startIndex/count (count capped at 200) and totalResults; filters check every candidate', async () => {
    const s = src();
    for (let i = 0; i < 12; i++) {
      clock.ms += 1;
      await scim.create(s, 'User', { userName: `u${String(i).padStart(2, '0')}`, title: i % 2 ? 'odd' : 'even' });
    }
    const p1 = await scim.list(s, 'User', { startIndex: 1, count: 5 });
    const p3 = await scim.list(s, 'User', { startIndex: 11, count: 5 });
    expect(p1.totalResults).toBe(12);
    expect(p1.resources.map((r) => r.doc.userName)).toEqual(['u00', 'u01', 'u02', 'u03', 'u04']);
    expect(p3.resources.map((r) => r.doc.userName)).toEqual(['u10', 'u11']);
    expect((await scim.list(s, 'User', { startIndex: 1, count: 0 })).resources).toEqual([]);
    expect((await scim.list(s, 'User', { startIndex: 1, count: 10_000 })).resources).toHaveLength(12);
    const odd = await scim.list(s, 'User', { startIndex: 1, count: 3, matches: (r) => r.doc.title === 'odd' });
    expect([odd.totalResults, odd.resources.map((r) => r.doc.userName)]).toEqual([6, ['u01', 'u03', 'u05']]);
    // an indexed lookup with a filter that does not hold is empty
    const none = await scim.list(s, 'User', { startIndex: 1, count: 3, indexed: [{ attr: 'username', value: 'u01' }], matches: (r) => r.doc.title === 'even' });
    expect(none.totalResults).toBe(0);
  });

  it('memberships: groupsOf follows setMemberships', async () => {
    const s = src();
    await scim.setMemberships(s, 'g1', ['u1', 'u2'], []);
    await scim.setMemberships(s, 'g2', ['u1'], []);
    await scim.setMemberships(s, 'g1', [], ['u1']);
    expect(await scim.groupsOf(s, 'u1')).toEqual(['g2']);
    expect(await scim.groupsOf(s, 'u2')).toEqual(['g1']);
  });

  it('group members are items of their own: a refused create leaves none, a read without members skips them', async () => {
    const s = src();
    const memberItems = async () =>
      (await client.send(new ScanCommand({ TableName: tableName, FilterExpression: 'begins_with(pk, :p)', ExpressionAttributeValues: { ':p': { S: `SCIMGROUPMEMBER#${s}#` } }, ConsistentRead: true }))).Count ?? 0;
    const g = await scim.create(s, 'Group', { displayName: 'Eng', members: [{ value: 'u1', display: 'Ann' }, { value: 'u2' }, { value: 'u1', display: 'again' }, { display: 'no value' }] });
    // the first of a repeated value wins; a member without a value stays in the document
    expect(g.doc.members).toEqual([{ value: 'u1', display: 'Ann' }, { value: 'u2' }, { display: 'no value' }]);
    expect(await scim.get(s, 'Group', g.id)).toEqual(g);
    expect(await memberItems()).toBe(2);
    expect((await scimErr(scim.create(s, 'Group', { displayName: 'eng', members: [{ value: 'u3' }, { value: 'u4' }] }))).scimType).toBe('uniqueness');
    expect(await memberItems()).toBe(2);
    expect((await scim.get(s, 'Group', g.id, { members: false }))?.doc.members).toEqual([{ display: 'no value' }]);
    const listed = await scim.list(s, 'Group', { startIndex: 1, count: 10, members: false });
    expect(listed.resources[0]?.doc.members).toEqual([{ display: 'no value' }]);
    expect((await scim.list(s, 'Group', { startIndex: 1, count: 10 })).resources[0]?.doc.members).toHaveLength(3);
    await scim.delete(s, 'Group', g.id);
    expect(await memberItems()).toBe(0);
  });

  it('concurrent member changes of one group all land (each retry reads the members again)', async () => {
    const s = src();
    const g = await scim.create(s, 'Group', { displayName: 'Ops', members: [{ value: 'u0' }] });
    await Promise.all(
      ['u1', 'u2', 'u3', 'u4'].map((u) => scim.update(s, 'Group', g.id, (cur) => ({ ...cur.doc, members: [...(cur.doc.members as object[]), { value: u }] }))),
    );
    const after = await scim.get(s, 'Group', g.id);
    expect(((after?.doc.members ?? []) as { value: string }[]).map((m) => m.value).sort()).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
    expect(after?.version).toBe(5);
  });

  it('concurrent adds and replaces of a group\'s members end as their version order says (members in the group\'s transaction)', async () => {
    const s = src();
    const g = await scim.create(s, 'Group', { displayName: 'Race', members: [{ value: 'u0' }] });
    type Op = { add: string } | { replace: string };
    // 5 writers: each loses at most once to each of the 4 others, so it lands within the store's 5 attempts
    const ops: Op[] = [{ add: 'u1' }, { replace: 'r1' }, { add: 'u2' }, { replace: 'r2' }, { add: 'u3' }];
    const versions = await Promise.all(
      ops.map(async (op) => {
        const { after } = await scim.update(s, 'Group', g.id, (cur) => ({
          ...cur.doc,
          members: 'add' in op ? [...((cur.doc.members as object[] | undefined) ?? []), { value: op.add }] : [{ value: op.replace }],
        }));
        return after.version;
      }),
    );
    // replayed one after another in the order their versions say
    let expected = ['u0'];
    for (const i of ops.map((_, i) => i).sort((a, b) => versions[a]! - versions[b]!)) {
      const op = ops[i]!;
      expected = 'add' in op ? [...expected, op.add] : [op.replace];
    }
    const after = await scim.get(s, 'Group', g.id);
    expect(((after?.doc.members ?? []) as { value: string }[]).map((m) => m.value)).toEqual(expected);
    expect(after?.version).toBe(6);
  });

  it('a transaction that met another one (TransactionConflict, no condition failed) is sent again, never answered 409 uniqueness', async () => {
    const s = src();
    // DynamoDB Local queues transactions instead of refusing them: the refusal DynamoDB sends, made by the client
    const conflicted = localDynamoClient();
    let refuse = 0;
    conflicted.middlewareStack.add(
      (next, context) => async (args) => {
        if (String(context.commandName).startsWith('TransactWrite') && refuse > 0) {
          refuse -= 1;
          throw new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }] });
        }
        return next(args);
      },
      { step: 'initialize', name: 'conflictOnce' },
    );
    const racing = scimStoreOf(new DynamoStateStore({ tableName, client: conflicted, now: () => clock.ms }));
    try {
      refuse = 2;
      const u = await racing.create(s, 'User', { userName: 'conflict@x.com' });
      refuse = 2;
      const { after } = await racing.update(s, 'User', u.id, (cur) => ({ ...cur.doc, title: 'Engineer' }));
      expect(after.version).toBe(2);
      expect((await scim.get(s, 'User', u.id))?.doc.title).toBe('Engineer');
      expect(refuse).toBe(0);
    } finally {
      conflicted.destroy();
    }
  });

  it('putPerson stores the person under identity scim:<id>', async () => {
    const s = src();
    await scim.putPerson(s, 'scim:abc', { email: 'p@x.com', status: 'active', attributes: { title: 'Eng' } }, new Date(clock.ms).toISOString());
    const people = (await store.listPeople()).filter((p) => p.source === s);
    expect(people).toEqual([expect.objectContaining({ identity: 'scim:abc', email: 'p@x.com', source: s, status: 'active' })]);
  });
});
