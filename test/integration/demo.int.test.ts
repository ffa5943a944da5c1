// `npm start` runs the demo: it must converge, and its second run must send nothing.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../../bin/invite-sync.js');

describe('Command: invite-sync demo', () => {
  it('applies the examples, explains why, and shows a second run sending 0 POSTs (exit 0)', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'demo'], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (c) => resolve({ code: c, stdout: out, stderr: err }));
    });

    expect(stderr).not.toMatch(/Warning/);
    expect(code).toBe(0);
    const [run1, run2] = stdout.split('Run 2:');
    expect(run1).toMatch(/renewed 1 expired invite/);
    expect(run1).toMatch(/already accepted/);
    expect(run1).toMatch(/revoked or membership removed by an admin by hand/);
    expect(run1).toMatch(/duplicate invites: 0/);
    expect(run2).toMatch(/POSTs sent to Losant: 0 — in step/);
  }, 90_000);
});
