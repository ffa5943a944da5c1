// test --> `invite-sync emulator` as a child process --> real HTTP
import { describe, it, expect, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ID } from '../../emulator/index.ts';
import { expectValid } from '../helpers/schemas.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/emulator/seed.json', import.meta.url));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function cli(args: string[]): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['bin/invite-sync.js', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

async function waitFor(read: () => string, re: RegExp, exit: Promise<unknown>, ms = 20_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  let exited = false;
  void exit.then(() => { exited = true; });
  for (;;) {
    const m = re.exec(read());
    if (m) return m;
    if (exited || Date.now() > deadline) throw new Error(`no ${re} in output (exited: ${exited}): ${read()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Function: register (invite-sync emulator)', () => {
  it('returns one "listening on" line, serves the seeded state, and exits 0 on SIGTERM', async () => {
    // Arrange
    const run = cli(['emulator', '--port', '0', '--seed', FIXTURE]);
    const [, url] = await waitFor(run.out, /^listening on (http:\/\/127\.0\.0\.1:\d+)\n/, run.exit);

    // Act
    const res = await fetch(`${url}/instances/${DEFAULT_ID}/orgs/${DEFAULT_ID}/invites?sortField=email&sortDirection=asc`, {
      headers: { authorization: 'Bearer full-token' },
    });
    const body = (await res.json()) as { items: { email: string }[] };
    run.child.kill('SIGTERM');
    const code = await run.exit;

    // Assess
    expect(res.status).toBe(200);
    expectValid('orgInviteCollection.json', body);
    expect(body.items.map((i) => i.email)).toEqual(['ann@example.com', 'bob@example.com', 'Carol@Example.com', 'dan+ops@example.com']);
    expect(code).toBe(0);
    expect(run.out()).toBe(`listening on ${url}\n`);
    expect(run.err()).not.toContain('full-token');
  });

  it.each([
    [['--error-rate', '1.5'], /--error-rate must be a number from 0 to 1/],
    [['--port', 'http'], /--port must be an integer/],
    [['--seed', 'test/fixtures/emulator/missing.json'], /cannot read seed file/],
  ])('returns exit 2 with one readable stderr line for %j', async (args, message) => {
    // Act
    const run = cli(['emulator', ...args]);
    const code = await run.exit;

    // Assess
    expect(code).toBe(2);
    expect(run.out()).toBe('');
    expect(run.err()).toMatch(message);
    expect(run.err().trim().split('\n')).toHaveLength(1);
  });
});
