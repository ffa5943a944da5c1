import { DEFAULT_ID, DEFAULT_TOKEN } from '/work/main/emulator/index.ts';
import { LosantClient } from '/work/main/functions/losant/client.ts';
import { withScope } from '/work/main/bench/lib/processes.ts';
import { startRemoteEmulator } from '/work/main/bench/lib/remote-emulator.ts';
import { orgIdOf, emailOf } from '/work/main/bench/lib/roster.ts';
import { Agent, request } from 'undici';

async function pool<T>(n: number, items: T[], fn: (t: T) => Promise<unknown>) {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => { while (i < items.length) { const t = items[i++]!; await fn(t); } }));
}
await withScope('diag', async (scope) => {
  const orgs = Array.from({ length: 6 }, (_, i) => orgIdOf(i));
  const emu = await startRemoteEmulator(scope, { latencyMs: 25, seed: { instances: [{ id: DEFAULT_ID, orgs: orgs.map((id) => ({ id })) }] } });
  const emails = Array.from({ length: 1000 }, (_, i) => emailOf(i));
  const api = new LosantClient({ baseUrl: emu.url, token: DEFAULT_TOKEN });
  for (const [k, org] of orgs.slice(0, 2).entries()) {
    const t = performance.now();
    await pool(16, emails, (e) => api.createInvite({ instanceId: DEFAULT_ID, orgId: org }, { email: e, role: 'view' }));
    console.log('client createInvite x1000', k, (performance.now() - t).toFixed(0));
  }
  const agent = new Agent({ connections: 64 });
  for (const [k, org] of orgs.slice(2, 4).entries()) {
    const t = performance.now();
    let bytes = 0;
    await pool(16, emails, async (e) => {
      const r = await request(`${emu.url}/instances/${DEFAULT_ID}/orgs/${org}/invites`, { method: 'POST', dispatcher: agent, headers: { authorization: `Bearer ${DEFAULT_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ email: e, role: 'view' }) });
      const text = await r.body.text(); bytes += text.length;
    });
    console.log('raw undici POST x1000 (text only)', k, (performance.now() - t).toFixed(0), 'avg bytes', (bytes / 1000).toFixed(0));
  }
  for (const [k, org] of orgs.slice(4, 6).entries()) {
    const t = performance.now();
    await pool(16, emails, async (e) => {
      const r = await request(`${emu.url}/instances/${DEFAULT_ID}/orgs/${org}/invites`, { method: 'POST', dispatcher: agent, headers: { authorization: `Bearer ${DEFAULT_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ email: e, role: 'view' }) });
      JSON.parse(await r.body.text());
    });
    console.log('raw undici POST x1000 + JSON.parse', k, (performance.now() - t).toFixed(0));
  }
  await api.close(); await agent.close();
});
