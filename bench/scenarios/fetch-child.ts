// bench scenario 9 (parent) --> fetch-child (this file, on Node 20 or Node 22) --> emulator over HTTP:
// the invite POST-then-GET pattern on undici's Agent and on Node's built-in fetch, interleaved in one process.
//
// argv: <emulator url> <instance id> <token> <orgs JSON: string[]> <emails per run> <concurrency>
// prints one JSON line: { node, undiciMs[], fetchMs[], order[] } (warm-up of each left out)
import { Agent } from 'undici';

const [url, instanceId, token, orgsJson, perRunArg, concurrencyArg] = process.argv.slice(2);
if (!url || !instanceId || !token || !orgsJson || !perRunArg || !concurrencyArg) {
  process.stderr.write('usage: fetch-child <url> <instance> <token> <orgs JSON> <emails per run> <concurrency>\n');
  process.exit(2);
}
const orgs = JSON.parse(orgsJson) as string[];
const perRun = Number(perRunArg);
const concurrency = Number(concurrencyArg);
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

type Call = (method: 'GET' | 'POST', path: string, body?: string) => Promise<{ status: number; text: string }>;

/** The workload: per email a POST of the invite (answer read and parsed) then a GET filtered by that email. */
async function workload(call: Call, orgId: string, tag: string): Promise<number> {
  const base = `/instances/${instanceId}/orgs/${orgId}/invites`;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < perRun) {
        const email = `fetch-${tag}-${next++}@example.com`;
        const posted = await call('POST', base, JSON.stringify({ email, role: 'view' }));
        if (posted.status !== 201) throw new Error(`POST answered ${posted.status}`);
        JSON.parse(posted.text);
        const query = new URLSearchParams({ filterField: 'email', filter: email });
        const got = await call('GET', `${base}?${query.toString()}`);
        if (got.status !== 200) throw new Error(`GET answered ${got.status}`);
        const list = JSON.parse(got.text) as { items: { email: string }[] };
        if (!list.items.some((i) => i.email === email)) throw new Error(`GET did not list ${email}`);
      }
    }),
  );
  return performance.now() - start;
}

// as functions/losant/transport.ts builds its default agent
const agent = new Agent({ keepAliveTimeout: 10_000, connections: concurrency, pipelining: 1 });
const viaUndici: Call = async (method, path, body) => {
  const res = await agent.request({ origin: url, path, method, headers, ...(body === undefined ? {} : { body }) });
  return { status: res.statusCode, text: await res.body.text() };
};
const viaFetch: Call = async (method, path, body) => {
  const res = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  return { status: res.status, text: await res.text() };
};

const undiciMs: number[] = [];
const fetchMs: number[] = [];
const order: string[] = [];
let org = 0;
// warm-up of each (JIT, connections), not counted
await workload(viaUndici, orgs[org++]!, 'warm-u');
await workload(viaFetch, orgs[org++]!, 'warm-f');
for (let rep = 0; org + 1 < orgs.length; rep++) {
  // alternate which goes first: U F, F U, …
  const pair: ['undici' | 'fetch', Call][] = rep % 2 === 0 ? [['undici', viaUndici], ['fetch', viaFetch]] : [['fetch', viaFetch], ['undici', viaUndici]];
  for (const [name, call] of pair) {
    const ms = await workload(call, orgs[org++]!, `${name}-${rep}`);
    (name === 'undici' ? undiciMs : fetchMs).push(ms);
    order.push(name);
  }
}
await agent.close();
process.stdout.write(`${JSON.stringify({ node: process.version, undiciMs, fetchMs, order })}\n`);
