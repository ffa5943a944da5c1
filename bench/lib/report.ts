// bench/run.ts --> report: result rows, target checks, the printed table and bench/results.json
import { round } from './stats.ts';

/** pass / miss: a target was checked; info: context without a target; error: the scenario could not measure it. */
export type Status = 'pass' | 'miss' | 'info' | 'error';

/** One figure of the table, beside the baseline measured in the same invocation. */
export interface Row {
  /** scenario number and letter, e.g. `1a` */
  id: string;
  metric: string;
  value: number | null;
  unit: string;
  baseline?: { label: string; value: number; unit: string };
  /** value ÷ baseline or value ÷ ideal, as the target states it */
  ratio?: number;
  /** the target in words, e.g. `≤ 2.00× baseline` */
  target?: string;
  status: Status;
  note?: string;
}

/** What one scenario measured. `details` holds the raw samples for results.json. */
export interface ScenarioResult {
  id: string;
  title: string;
  rows: Row[];
  details: Record<string, unknown>;
  seconds: number;
  /** set when the scenario crashed or a part it needs is missing */
  error?: string;
}

/** pass when `value <= limit` (or `>=` with `atLeast`). */
export function within(value: number, limit: number, atLeast = false): Status {
  // a negative ratio is a measurement gone wrong (a baseline below zero), never a pass
  if (!Number.isFinite(value) || value < 0) return 'miss';
  return (atLeast ? value >= limit : value <= limit) ? 'pass' : 'miss';
}

function fmt(value: number | null, unit: string): string {
  if (value === null) return '-';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return `${round(value, digits)}${unit ? ` ${unit}` : ''}`;
}

/** The rows of every scenario as a fixed-width text table. */
export function renderTable(results: readonly ScenarioResult[]): string {
  const header = ['#', 'metric', 'value', 'baseline / ideal', 'ratio', 'target', 'status'];
  const lines: string[][] = [header];
  for (const r of results) {
    if (r.error) lines.push([r.id, `${r.title}: ERROR`, '-', '-', '-', '-', 'error']);
    for (const row of r.rows) {
      lines.push([
        row.id,
        row.metric,
        fmt(row.value, row.unit),
        row.baseline ? `${fmt(row.baseline.value, row.baseline.unit)} (${row.baseline.label})` : '',
        row.ratio === undefined ? '' : `${round(row.ratio, 2)}×`,
        row.target ?? '',
        row.status === 'miss' ? 'MISS' : row.status,
      ]);
    }
  }
  const widths = header.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  const text = lines.map((l) => l.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ').trimEnd());
  text.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('-|-'));
  const notes = noteLines(results);
  return notes.length ? `${text.join('\n')}\n\nnotes:\n${notes.map((n) => `  ${n}`).join('\n')}` : text.join('\n');
}

/** `id: note` for every row that has one, and the error of every scenario that crashed. */
function noteLines(results: readonly ScenarioResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    if (r.error) lines.push(`${r.id}: ${r.error}`);
    for (const row of r.rows) if (row.note) lines.push(`${row.id}: ${row.note}`);
  }
  return lines;
}

/** The same table in Markdown, for bench/README-performance.md. */
export function renderMarkdown(results: readonly ScenarioResult[]): string {
  const out = ['| # | metric | value | baseline / ideal | ratio | target | status |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const r of results) {
    if (r.error) out.push(`| ${r.id} | ${r.title}: error | - | - | - | - | error |`);
    for (const row of r.rows) {
      const base = row.baseline ? `${fmt(row.baseline.value, row.baseline.unit)} (${row.baseline.label})` : '';
      const ratio = row.ratio === undefined ? '' : `${round(row.ratio, 2)}×`;
      out.push(`| ${row.id} | ${row.metric} | ${fmt(row.value, row.unit)} | ${base} | ${ratio} | ${row.target ?? ''} | ${row.status === 'miss' ? '**MISS**' : row.status} |`);
    }
  }
  const notes = noteLines(results);
  return notes.length ? `${out.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}` : out.join('\n');
}
