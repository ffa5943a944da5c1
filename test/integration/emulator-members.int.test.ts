// test --> emulator over real HTTP: the members routes (POST, GET/PATCH/DELETE one member) and GET /me
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { DEFAULT_ID, startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { expectValid, withoutHal } from '../helpers/schemas.ts';

const I = DEFAULT_ID;
const ORG = DEFAULT_ID;
const UNKNOWN = 'ffffffffffffffffffffffff';
const SEED = {
  tokens: [
    { token: 'instance-token', scopes: ['all.Instance'] },
    { token: 'user-token', scopes: ['all.User'], userEmail: 'owner@example.com' },
    { token: 'userless-token', scopes: ['me.get'] },
    { token: 'read-token', scopes: ['all.Instance.read'] },
  ],
  instances: [
    {
      id: I,
      orgs: [{ id: ORG, members: [{ email: 'owner@example.com', role: 'admin' as const }, { email: 'ann@example.com', role: 'edit' as const }] }],
    },
  ],
};

interface Member { instanceId: string; orgId: string; userId: string; email: string; role: string; _type?: string; _links?: Record<string, { href: string }> }
interface Answer<T> { status: number; body: T }

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startEmulator({ seed: SEED });
});
afterEach(async () => {
  await emu.close();
});

async function call<T>(method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? 'instance-token'}` };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${emu.url}${path}`, { method, headers, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) });
  const body = JSON.parse(await res.text()) as unknown;
  if (res.status >= 400) expectValid('error.json', body);
  return { status: res.status, body: body as T };
}

const membersPath = `/instances/${I}/orgs/${ORG}/members`;
const userIdOf = (email: string): string => {
  const m = emu.members(I, ORG).find((x) => x.email === email);
  if (!m) throw new Error(`no member ${email}`);
  return m.userId;
};

describe('Function: startEmulator (members routes)', () => {
  it('GET one member answers instanceOrgMember.json with _type and _links; an unknown user id is 404', async () => {
    // Act
    const res = await call<Member>('GET', `${membersPath}/${userIdOf('ann@example.com')}`);
    const missing = await call<{ type: string }>('GET', `${membersPath}/${UNKNOWN}`);

    // Assess
    expect(res.status).toBe(200);
    expectValid('instanceOrgMember.json', withoutHal(res.body));
    expect(res.body).toMatchObject({ email: 'ann@example.com', role: 'edit', userId: userIdOf('ann@example.com'), _type: 'instanceOrgMember' });
    expect(res.body._links?.self?.href).toBe(`${membersPath}/${userIdOf('ann@example.com')}`);
    expect(missing.status).toBe(404);
    expect(missing.body.type).toBe('NotFound');
  });

  it('POST a member by email adds them (200 instanceOrgMember.json); twice is 400; a bad body names the field', async () => {
    // Act
    const added = await call<Member>('POST', membersPath, { body: { email: 'bea@example.com', role: 'view' } });
    const again = await call<{ message: string }>('POST', membersPath, { body: { email: 'bea@example.com', role: 'view' } });
    const bad = await call<{ message: string }>('POST', membersPath, { body: { email: 'cy@example.com', role: 'boss' } });
    const unknownUser = await call<{ type: string }>('POST', membersPath, { body: { userId: UNKNOWN, role: 'view' } });

    // Assess
    expect(added.status).toBe(200);
    expectValid('instanceOrgMember.json', withoutHal(added.body));
    expect(emu.members(I, ORG).map((m) => m.email)).toEqual(['ann@example.com', 'bea@example.com', 'owner@example.com']);
    expect(again.status).toBe(400);
    expect(again.body.message).toMatch(/already a member/);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/role/);
    expect(unknownUser.status).toBe(404);
  });

  it('PATCH changes the role; the last admin cannot give up the role (400)', async () => {
    // Act
    const patched = await call<Member>('PATCH', `${membersPath}/${userIdOf('ann@example.com')}`, { body: { role: 'view' } });
    const lastAdmin = await call<{ message: string }>('PATCH', `${membersPath}/${userIdOf('owner@example.com')}`, { body: { role: 'edit' } });

    // Assess
    expect(patched.status).toBe(200);
    expect(patched.body.role).toBe('view');
    expect(lastAdmin.status).toBe(400);
    expect(lastAdmin.body.message).toMatch(/at least one admin/);
    expect(emu.members(I, ORG).find((m) => m.email === 'owner@example.com')?.role).toBe('admin');
  });

  it('DELETE removes the member (200 success.json); never the last admin; a read-only token gets 403 naming instanceOrgMember.delete', async () => {
    // Act
    const readOnly = await call<{ message: string }>('DELETE', `${membersPath}/${userIdOf('ann@example.com')}`, { token: 'read-token' });
    const removed = await call<{ success: boolean }>('DELETE', `${membersPath}/${userIdOf('ann@example.com')}`);
    const lastAdmin = await call<{ message: string }>('DELETE', `${membersPath}/${userIdOf('owner@example.com')}`);

    // Assess
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.message).toMatch(/instanceOrgMember\.delete/);
    expect(removed.status).toBe(200);
    expectValid('success.json', removed.body);
    expect(lastAdmin.status).toBe(400);
    expect(emu.members(I, ORG).map((m) => m.email)).toEqual(['owner@example.com']);
  });

  it('GET /me answers the token\'s own user (the member\'s userId); an instance token gets 403, a token without a user 404', async () => {
    // Act
    const me = await call<{ id: string; email: string; _type?: string }>('GET', '/me', { token: 'user-token' });
    const instance = await call<{ message: string }>('GET', '/me', { token: 'instance-token' });
    const userless = await call<{ type: string }>('GET', '/me', { token: 'userless-token' });

    // Assess
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: userIdOf('owner@example.com'), email: 'owner@example.com', _type: 'me' });
    expect(instance.status).toBe(403);
    expect(instance.body.message).toMatch(/me\.get/);
    expect(userless.status).toBe(404);
  });

  it('with plainAnswers a member answer has no _type or _links', async () => {
    // Arrange
    await emu.close();
    emu = await startEmulator({ seed: SEED, plainAnswers: true });

    // Act
    const res = await call<Member>('GET', `${membersPath}/${userIdOf('ann@example.com')}`);

    // Assess
    expect(res.status).toBe(200);
    expectValid('instanceOrgMember.json', res.body);
    expect(res.body._type).toBeUndefined();
  });
});
