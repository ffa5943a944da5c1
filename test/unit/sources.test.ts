import { describe, expect, it } from 'vitest';
import { acceptsChannel, feedsTarget, peopleFeeding, sourcePolicy } from '../../functions/sync/sources.ts';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';

const target = (name: string, org: string) => ({ name, instanceId: 'a'.repeat(24), orgId: org.repeat(24), rules: [{ when: {}, role: 'view' }] });

describe('sources map', () => {
  it('gives a source that is not listed every channel but s3 and every target', () => {
    const p = sourcePolicy({}, 'hr');
    expect(acceptsChannel(p, 'webhook')).toBe(true);
    expect(acceptsChannel(p, 'scim')).toBe(true);
    expect(acceptsChannel(p, 's3')).toBe(false);
    expect(feedsTarget(p, 'anything')).toBe(true);
    expect(p.trustUploadTime).toBe(false);
  });

  it('reads via, targets and health settings from the config', () => {
    const c = parseSyncConfig({
      targets: [target('eng', 'b'), target('ops', 'c')],
      sources: { workday: { via: ['s3'], targets: ['eng'], maxSilenceHours: 26, maxChangeFraction: 0.2, trustUploadTime: true } },
    });
    const p = sourcePolicy(c.sources, 'workday');
    expect(acceptsChannel(p, 's3')).toBe(true);
    expect(acceptsChannel(p, 'webhook')).toBe(false);
    expect(feedsTarget(p, 'eng')).toBe(true);
    expect(feedsTarget(p, 'ops')).toBe(false);
    expect(p).toMatchObject({ maxSilenceHours: 26, maxChangeFraction: 0.2, trustUploadTime: true });
  });

  it('refuses a source that names an unknown target, a bad source name and an unknown channel', () => {
    expect(() => parseSyncConfig({ targets: [target('eng', 'b')], sources: { hr: { targets: ['nope'] } } })).toThrow(/sources\.hr\.targets\.0.*no target is named "nope"/);
    expect(() => parseSyncConfig({ targets: [target('eng', 'b')], sources: { 'bad name': {} } })).toThrow(/sources/);
    expect(() => parseSyncConfig({ targets: [target('eng', 'b')], sources: { hr: { via: ['ftp'] } } })).toThrow(/sources\.hr\.via/);
  });

  it('keeps for a target only the people of sources that feed it (peopleFeeding)', () => {
    // Arrange
    const people = [{ source: 'hr', email: 'a' }, { source: 'contractors', email: 'b' }, { source: 'other', email: 'c' }];
    const sources = { contractors: { targets: ['eng'], trustUploadTime: false } };

    // Act
    const eng = peopleFeeding(sources, 'eng', people).map((p) => p.email);
    const ops = peopleFeeding(sources, 'ops', people).map((p) => p.email);

    // Assert
    expect(eng).toEqual(['a', 'b', 'c']);
    expect(ops).toEqual(['a', 'c']);
    expect(peopleFeeding(undefined, 'ops', people)).toHaveLength(3);
  });
});
