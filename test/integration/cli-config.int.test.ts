// The CLI reading its sync config through the one reader: exit 2 with one line naming the field, before anything else runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';

const ID = '575ec8687ae143cd83dc4a97';
const minimal = { targets: [{ name: 'eng', instanceId: ID, orgId: ID, rules: [{ when: {}, role: 'view' }] }] };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'invite-sync-cli-config-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Command: invite-sync plan --config', () => {
  it('exits 2 naming limits.maxInvitesPerRun when a file gives both maxChangesPerRun and maxInvitesPerRun', async () => {
    // Arrange
    const config = join(dir, 'both.json');
    await writeFile(config, JSON.stringify({ ...minimal, limits: { maxChangesPerRun: 5, maxInvitesPerRun: 5 } }));

    // Act
    const r = await runCli(['plan', '--config', config, '--ephemeral'], {});

    // Assess
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${config}: limits.maxInvitesPerRun: the old name of maxChangesPerRun: give one of the two, not both`);
  });

  it('exits 2 naming the file when it is missing', async () => {
    // Act
    const r = await runCli(['plan', '--config', join(dir, 'absent.json'), '--ephemeral'], {});

    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'absent.json')}: file not found`);
  });
});
