// schedule / plan --> sourceHealth (the sources map + each source's last delivery + the clock) --> silent sources (pure, no I/O)
import type { SourceDelivery } from './ports.ts';
import { sourcePolicy, type SourceSettings } from './sources.ts';

/** One source as the source watch sees it. */
export interface SourceHealth {
  source: string;
  /** ISO time of its newest delivery; absent when nothing was ever recorded */
  lastDeliveryAt?: string;
  /** hours since `lastDeliveryAt` (one decimal) */
  ageHours?: number;
  /** `sources.<name>.maxSilenceHours`; absent: the source is not watched */
  maxSilenceHours?: number;
  /** watched, and nothing arrived for longer than maxSilenceHours (or never) */
  silent: boolean;
}

/**
 * Every source named in the `sources` map or with a recorded delivery, by name: its last delivery,
 * age and whether it is silent. A watched source that never delivered is silent.
 * @example sourceHealth(config.sources, await store.listSourceDeliveries(), clock.now()).filter((s) => s.silent)
 */
export function sourceHealth(sources: Readonly<Record<string, SourceSettings>> | undefined, deliveries: readonly SourceDelivery[], now: number): SourceHealth[] {
  const last = new Map(deliveries.map((d) => [d.source, d.lastDeliveryAt]));
  const names = [...new Set([...Object.keys(sources ?? {}), ...last.keys()])].sort();
  return names.map((source) => {
    const { maxSilenceHours } = sourcePolicy(sources, source);
    const at = last.get(source);
    const ageMs = at === undefined ? undefined : Math.max(0, now - Date.parse(at));
    const silent = maxSilenceHours !== undefined && (ageMs === undefined || ageMs > maxSilenceHours * 3600_000);
    return {
      source,
      ...(at !== undefined ? { lastDeliveryAt: at, ageHours: Math.floor(ageMs! / 360_000) / 10 } : {}),
      ...(maxSilenceHours !== undefined ? { maxSilenceHours } : {}),
      silent,
    };
  });
}
