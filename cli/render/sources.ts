// plan --> renderSourceHealth: each HR source's last delivery and age (the source watch, sources.<name>.maxSilenceHours)
import type { SourceHealth } from '../../functions/sync/source-health.ts';

/**
 * One line per source: name, last delivery (ISO), age in hours, its maxSilenceHours, and `SILENT` when
 * it has been quiet for longer (or never delivered while watched). Empty string for no sources.
 * @example process.stdout.write(renderSourceHealth(sourceHealth(config.sources, deliveries, now)))
 */
export function renderSourceHealth(health: readonly SourceHealth[]): string {
  if (health.length === 0) return '';
  const width = Math.max(...health.map((h) => h.source.length));
  const lines = health.map((h) => {
    const last = h.lastDeliveryAt === undefined ? 'never delivered' : `last delivery ${h.lastDeliveryAt} (${h.ageHours} h ago)`;
    const watch = h.maxSilenceHours === undefined ? '' : `, maxSilenceHours ${h.maxSilenceHours}`;
    return `  ${h.source.padEnd(width)}  ${last}${watch}${h.silent ? '  SILENT' : ''}`;
  });
  return `Sources:\n${lines.join('\n')}\n`;
}
