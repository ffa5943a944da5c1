// test --> emulator over real HTTP --> answer shape: Losant's `_type` / `_links` by default, plain on request
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ID, DEFAULT_TOKEN, startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { expectValid } from '../helpers/schemas.ts';

const ORG_PATH = `/instances/${DEFAULT_ID}/orgs/${DEFAULT_ID}`;
const SEED = {
  orgs: [{ id: DEFAULT_ID, invites: [{ email: 'ann@example.com', role: 'view' as const }], members: [{ email: 'bo@example.com', role: 'edit' as const }] }],
};

let emu: RunningEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function answers(plainAnswers: boolean): Promise<Record<string, Record<string, unknown>>> {
  emu = await startEmulator({ seed: { instances: [{ id: DEFAULT_ID, ...SEED }] }, plainAnswers });
  const request = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${emu!.url}${ORG_PATH}${path}`, {
      method,
      headers: { authorization: `Bearer ${DEFAULT_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as Record<string, unknown>;
  };
  const invites = await request('GET', '/invites');
  const members = await request('GET', '/members');
  const id = String((invites.items as { id: string }[])[0]?.id);
  const one = await request('GET', `/invites/${id}`);
  const resent = await request('POST', `/invites/${id}`, { role: 'edit' });
  const posted = await request('POST', '/invites', { email: 'cy@example.com', role: 'view' });
  const deleted = await request('DELETE', `/invites/${id}`);
  return { invites, members, one, resent, posted, deleted };
}

const items = (collection: Record<string, unknown>) => collection.items as Record<string, unknown>[];

describe('Function: startEmulator answers', () => {
  it('returns _type and _links on every collection and item by default, still valid against the published schemas otherwise', async () => {
    // Act
    const a = await answers(false);

    // Assess
    expect(a.invites).toMatchObject({ _type: 'orgInvites', _links: { self: { href: `${ORG_PATH}/invites` } } });
    expect(a.posted).toMatchObject({ _type: 'orgInvites' });
    expect(a.members).toMatchObject({ _type: 'instanceOrgMembers', _links: { self: { href: `${ORG_PATH}/members` } } });
    for (const item of [...items(a.invites!), ...items(a.posted!), a.one!, a.resent!]) {
      expect(item).toMatchObject({ _type: 'orgInvite', _links: { self: { href: `${ORG_PATH}/invites/${String(item.id)}` } } });
    }
    for (const item of items(a.members!)) expect(item).toMatchObject({ _type: 'instanceOrgMember', _links: { org: { href: ORG_PATH } } });
    expect(a.deleted).toEqual({ success: true });
    expectValid('orgInviteCollection.json', a.invites);
    expectValid('instanceOrgMembers.json', a.members);
  });

  it('returns no _type or _links anywhere with plainAnswers', async () => {
    // Act
    const a = await answers(true);

    // Assess
    const text = JSON.stringify(a);
    expect(text).not.toContain('_type');
    expect(text).not.toContain('_links');
    expect(items(a.members!)).toEqual([expect.objectContaining({ email: 'bo@example.com', role: 'edit' })]);
  });
});
