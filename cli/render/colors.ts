// CLI renderers --> colorsFor(stream, env): picocolors on a TTY, plain text when NO_COLOR is set or output is piped
import pc from 'picocolors';
type Colors = ReturnType<typeof pc.createColors>;

export type { Colors };

/**
 * Whether to colour what goes to `stream`: never with NO_COLOR (any value) or TERM=dumb, always with
 * FORCE_COLOR (not `0`), else only on a TTY.
 * @example colorsFor(process.stdout, process.env).green('+')
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** picocolors for `stream` (see colorEnabled). */
export function colorsFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Colors {
  return pc.createColors(colorEnabled(stream, env));
}

/** Colours that do nothing (tests, --json). */
export const PLAIN: Colors = pc.createColors(false);
