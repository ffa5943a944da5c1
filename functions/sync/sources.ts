// sync config `sources` --> SourcePolicy: the one place that says which channel may feed a source and which targets it may feed.
import { z } from 'zod';

/** A source name: 1-64 characters of A-Z a-z 0-9 . _ - (events, roster files, SCIM tokens, drop folders). */
export const SOURCE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const SOURCE_NAME_MESSAGE = 'must be 1-64 characters of A-Z a-z 0-9 . _ -';

/** The channels people can arrive by. */
export const CHANNELS = ['webhook', 'event', 'scim', 's3', 'cli'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Channels a source not named in `sources` (or without `via`) accepts: every one but file drops, which are opted into. */
export const DEFAULT_VIA: readonly Channel[] = ['webhook', 'event', 'scim', 'cli'];

export const SourceSettingsSchema = z
  .object({
    via: z
      .array(z.enum(CHANNELS))
      .min(1)
      .optional(),
    targets: z.array(z.string().min(1)).min(1).optional(),
    maxSilenceHours: z
      .number()
      .positive()
      .max(24 * 366)
      .optional(),
    maxChangeFraction: z
      .number()
      .min(0)
      .max(1000)
      .optional(),
    trustUploadTime: z
      .boolean()
      .default(false),
  })
  .strict();

export type SourceSettings = z.output<typeof SourceSettingsSchema>;

export const SourcesSchema = z
  .record(z.string().regex(SOURCE_NAME, SOURCE_NAME_MESSAGE), SourceSettingsSchema)
  .default({});

/** What the domain reads about one source. */
export interface SourcePolicy {
  name: string;
  via: readonly Channel[];
  /** undefined: every target */
  targets?: readonly string[];
  maxSilenceHours?: number;
  maxChangeFraction?: number;
  trustUploadTime: boolean;
}

/** The policy of `name` under `sources` (defaults for a source not listed). */
export function sourcePolicy(sources: Readonly<Record<string, SourceSettings>> | undefined, name: string): SourcePolicy {
  const s = sources !== undefined && Object.hasOwn(sources, name) ? sources[name] : undefined;
  return {
    name,
    via: s?.via ?? DEFAULT_VIA,
    ...(s?.targets ? { targets: s.targets } : {}),
    ...(s?.maxSilenceHours !== undefined ? { maxSilenceHours: s.maxSilenceHours } : {}),
    ...(s?.maxChangeFraction !== undefined ? { maxChangeFraction: s.maxChangeFraction } : {}),
    trustUploadTime: s?.trustUploadTime ?? false,
  };
}

/** May `channel` feed this source? */
export function acceptsChannel(policy: SourcePolicy, channel: Channel): boolean {
  return policy.via.includes(channel);
}

/**
 * Why `channel` may not feed source `name` (the message every refusal gives), or undefined when it may.
 * @example channelRefusal({ hr: { via: ['s3'] } }, 'hr', 'cli') // 'source "hr" does not accept cli deliveries (sources.hr.via: s3)'
 */
export function channelRefusal(sources: Readonly<Record<string, SourceSettings>> | undefined, name: string, channel: Channel): string | undefined {
  const policy = sourcePolicy(sources, name);
  return acceptsChannel(policy, channel) ? undefined : `source "${name}" does not accept ${channel} deliveries (sources.${name}.via: ${policy.via.join(', ')})`;
}

/** May people of this source be invited to `targetName`? */
export function feedsTarget(policy: SourcePolicy, targetName: string): boolean {
  return policy.targets === undefined || policy.targets.includes(targetName);
}

/**
 * The people a target may see: those of sources whose policy feeds `targetName` (`targets`, default all).
 * A target's desired set is built from these alone, so a source's records neither invite nor speak for
 * anyone in a target it does not feed.
 * @example planTarget({ ..., people: peopleFeeding(config.sources, target.name, people) })
 */
export function peopleFeeding<P extends { source: string }>(sources: Readonly<Record<string, SourceSettings>> | undefined, targetName: string, people: readonly P[]): P[] {
  if (sources === undefined || !Object.values(sources).some((s) => s.targets !== undefined)) return [...people];
  const feeds = new Map<string, boolean>();
  return people.filter((p) => {
    let ok = feeds.get(p.source);
    if (ok === undefined) feeds.set(p.source, (ok = feedsTarget(sourcePolicy(sources, p.source), targetName)));
    return ok;
  });
}
