// CLI renderers --> formatTable: columns as wide as their widest cell (ANSI colours do not count)
/** Colour escapes (SGR) in a string: they take no room on a terminal. */
const SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/**
 * How many terminal columns a string takes: colour escapes removed, one per code point.
 * @example visibleWidth('\u001b[32m+\u001b[39m invite') // 8
 */
export function visibleWidth(s: string): number {
  return [...s.replace(SGR, '')].length;
}

/** Pads to `width` visible columns, on the right (`left` alignment) or the left (`right`). */
export function padCell(s: string, width: number, align: 'left' | 'right' = 'left'): string {
  const fill = ' '.repeat(Math.max(0, width - visibleWidth(s)));
  return align === 'right' ? fill + s : s + fill;
}

/**
 * Lines of a table whose column widths come from its content; cells are separated by `gap` spaces
 * and the last column is never padded (no trailing blanks).
 * @example formatTable([['target', 'invite'], ['eng', '1200']], { align: ['left', 'right'] })
 */
export function formatTable(rows: readonly (readonly string[])[], opts: { align?: readonly ('left' | 'right')[]; gap?: number } = {}): string[] {
  const gap = ' '.repeat(opts.gap ?? 2);
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleWidth(cell))));
  return rows.map((row) =>
    row
      .map((cell, i) => {
        const align = opts.align?.[i] ?? 'left';
        return i === row.length - 1 && align === 'left' ? cell : padCell(cell, widths[i]!, align);
      })
      .join(gap)
      .trimEnd(),
  );
}
