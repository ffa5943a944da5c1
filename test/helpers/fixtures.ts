// tests --> the JSON fixtures under test/fixtures, their relative dates filled in
import { readFileSync } from 'node:fs';

/** The UTC date `days` before now (YYYY-MM-DD): what a fixture's `{{-<n>d}}` stands for. */
export const daysAgo = (days: number, now = Date.now()): string => new Date(now - days * 86_400_000).toISOString().slice(0, 10);

/**
 * A fixture's text (path below test/fixtures), each `{{-<n>d}}` replaced by the UTC date n days ago: fixtures
 * carry no absolute dates, so they never age.
 * @example fixtureText('lambda/hr-person-upserted.json') // '{"id":"evt_…","occurredAt":"2026-11-03T08:00:00Z",…'
 */
export function fixtureText(path: string): string {
  return readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8').replace(/\{\{-(\d+)d\}\}/g, (_, days: string) => daysAgo(Number(days)));
}

/** A JSON fixture (path below test/fixtures), parsed, its relative dates filled in (fixtureText). */
export const fixture = <T = unknown>(path: string): T => JSON.parse(fixtureText(path)) as T;
