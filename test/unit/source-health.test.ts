// unit: sourceHealth (the source watch, pure): last delivery, age, silent per source
import { describe, expect, it } from 'vitest';
import { sourceHealth } from '../../functions/sync/source-health.ts';
import { renderSourceHealth } from '../../cli/render/sources.ts';

const HOUR = 3600_000;
const NOW = Date.parse('2030-01-01T12:00:00Z');
const at = (hoursAgo: number): string => new Date(NOW - hoursAgo * HOUR).toISOString();
const settings = (maxSilenceHours?: number) => ({ trustUploadTime: false, ...(maxSilenceHours !== undefined ? { maxSilenceHours } : {}) });

describe('Function: sourceHealth', () => {
  it('returns silent only for a watched source quiet for longer than maxSilenceHours, or that never delivered', () => {
    // Arrange
    const sources = { late: settings(24), fresh: settings(24), never: settings(6), unwatched: settings() };
    const deliveries = [
      { source: 'late', lastDeliveryAt: at(24.5) },
      { source: 'fresh', lastDeliveryAt: at(23.9) },
      { source: 'unwatched', lastDeliveryAt: at(1000) },
      { source: 'unlisted', lastDeliveryAt: at(2) },
    ];

    // Act
    const health = sourceHealth(sources, deliveries, NOW);

    // Assert
    expect(health).toEqual([
      { source: 'fresh', lastDeliveryAt: at(23.9), ageHours: 23.9, maxSilenceHours: 24, silent: false },
      { source: 'late', lastDeliveryAt: at(24.5), ageHours: 24.5, maxSilenceHours: 24, silent: true },
      { source: 'never', maxSilenceHours: 6, silent: true },
      { source: 'unlisted', lastDeliveryAt: at(2), ageHours: 2, silent: false },
      { source: 'unwatched', lastDeliveryAt: at(1000), ageHours: 1000, silent: false },
    ]);
  });

  it('renders one line per source, SILENT marked, and nothing for no sources', () => {
    // Act
    const text = renderSourceHealth(sourceHealth({ hr: settings(1), other: settings() }, [{ source: 'hr', lastDeliveryAt: at(3) }], NOW));

    // Assert
    expect(text).toBe(`Sources:\n  hr     last delivery ${at(3)} (3 h ago), maxSilenceHours 1  SILENT\n  other  never delivered\n`);
    expect(renderSourceHealth([])).toBe('');
  });
});
