// tests --> LosantClient (answer budget) --> real HTTP on 127.0.0.1 --> the emulator: large POST answers are not all held at once
import { afterEach, expect, it } from 'vitest';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { LosantClient } from '../../functions/losant/client.ts';

const TARGET = { instanceId: DEFAULT_ID, orgId: DEFAULT_ID };
const PENDING = 2_000;
const NEW = 24;
let emulator: RunningEmulator | undefined;
let api: LosantClient | undefined;

afterEach(async () => {
  await api?.close();
  await emulator?.close();
});

it('holds POSTs back while earlier answers fill the budget: 24 invites, 8 connections, at most 2½ answers on their way, each invite once', async () => {
  // Prepare: an org with 2 000 pending invites, so that every POST answer carries them all (~0.9 MB)
  const day = 24 * 3600 * 1000;
  const invites = Array.from({ length: PENDING }, (_, i) => ({ email: `p${i}@example.com`, role: 'view' as const, inviteDate: new Date(Date.now() - day).toISOString() }));
  emulator = await startEmulator({ port: 0, latencyMs: 20, seed: { instances: [{ id: DEFAULT_ID, orgs: [{ id: DEFAULT_ID, invites }] }] } });
  const probe = new LosantClient({ baseUrl: emulator.url, token: DEFAULT_TOKEN });
  const listed = await probe.listInvites(TARGET, {});
  await probe.close();
  expect(listed).toHaveLength(PENDING);
  const answerBytes = Buffer.byteLength(JSON.stringify(await (await fetch(`${emulator.url}/instances/${DEFAULT_ID}/orgs/${DEFAULT_ID}/invites`, { headers: { authorization: `Bearer ${DEFAULT_TOKEN}` } })).json()));
  const budget = Math.floor(2.5 * answerBytes);
  api = new LosantClient({ baseUrl: emulator.url, token: DEFAULT_TOKEN, connections: 8, maxAnswerBytesInFlight: budget });

  // Act: the run's GET tells the size of the POST answers to the same path (a lookup of one email after it, as
  // after an unanswered POST, does not lower that guess); then 24 POSTs at once
  await api.listInvites(TARGET, {});
  expect(await api.listInvites(TARGET, { filterField: 'email', filter: 'p1@example.com' })).toHaveLength(1);
  const created = await Promise.all(Array.from({ length: NEW }, (_, i) => api!.createInvite(TARGET, { email: `new${i}@example.com`, role: 'view' })));

  // Assess
  const stats = api.answerBudgetStats();
  expect(created.map((c) => c.invite.email).sort()).toEqual(Array.from({ length: NEW }, (_, i) => `new${i}@example.com`).sort());
  expect(stats.held).toBeGreaterThan(0);
  expect(stats.peakBytesInFlight).toBeLessThanOrEqual(budget);
  expect(stats.peakBytesInFlight).toBeGreaterThanOrEqual(2 * answerBytes * 0.9); // two at a time, not one
  expect(stats.bytesInFlight).toBe(0);
  expect(emulator.invites(DEFAULT_ID, DEFAULT_ID)).toHaveLength(PENDING + NEW);
  expect(emulator.stats().duplicateInvites).toBe(0);
});
