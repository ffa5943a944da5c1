// CLI apply --> createProgress: a width-aware bar with rate and ETA on a TTY (cli-progress, logs above it),
// a plain line every 10 s otherwise
import cliProgress from 'cli-progress';

/** How often a non-TTY gets a progress line. */
export const PLAIN_PROGRESS_INTERVAL_MS = 10_000;

export interface ProgressState {
  target: string;
  done: number;
  total: number;
  elapsedMs: number;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Actions per second so far and the time left at that rate. */
function rateAndEta(p: ProgressState): { rate: string; eta: string } {
  const secs = p.elapsedMs / 1000;
  const perSec = secs > 0 ? p.done / secs : 0;
  return { rate: `${perSec >= 10 ? perSec.toFixed(0) : perSec.toFixed(1)}/s`, eta: p.done >= p.total ? '0s' : perSec > 0 ? duration((p.total - p.done) / perSec) : '?' };
}

/**
 * One bar line that fits `columns` (one column is left free so the terminal never wraps):
 * `eng [#######.......] 120/300 12/s ETA 15s`; on a narrow terminal the bar shrinks first, then the text is cut.
 * @example barLine({ target: 'eng', done: 1, total: 4, elapsedMs: 1000 }, 40)
 */
export function barLine(p: ProgressState, columns: number): string {
  const { rate, eta } = rateAndEta(p);
  const tail = ` ${p.done}/${p.total} ${rate} ETA ${eta}`;
  const room = Math.max(1, columns - 1);
  const barWidth = Math.min(40, room - p.target.length - tail.length - 3);
  if (barWidth < 5) return `${p.target}${tail}`.slice(0, room);
  const filled = p.total > 0 ? Math.round((p.done / p.total) * barWidth) : barWidth;
  return `${p.target} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]${tail}`;
}

/**
 * The non-TTY line: `progress eng 120/300 (40%) 12/s ETA 15s`.
 * @example plainLine({ target: 'eng', done: 120, total: 300, elapsedMs: 10_000 })
 */
export function plainLine(p: ProgressState): string {
  const { rate, eta } = rateAndEta(p);
  const pct = p.total > 0 ? Math.floor((p.done / p.total) * 100) : 100;
  return `progress ${p.target} ${p.done}/${p.total} (${pct}%) ${rate} ETA ${eta}`;
}

export interface Progress {
  /** `done` of `total` actions of `target` have finished */
  update(target: string, done: number, total: number): void;
  /** a log line (ends with \n): above the bar on a TTY, as it is otherwise */
  log(line: string): void;
  /** the bar's last state stays on screen; later logs go straight to the stream */
  stop(): void;
}

export interface ProgressOptions {
  stream: NodeJS.WriteStream | (NodeJS.WritableStream & { isTTY?: boolean; columns?: number });
  /** draw a bar (stderr is a TTY and not --json) */
  tty: boolean;
  /** non-TTY line interval (default PLAIN_PROGRESS_INTERVAL_MS) */
  intervalMs?: number;
  now?: () => number;
}

/**
 * Progress for an apply: on a TTY a cli-progress bar per target that fits the terminal's width at
 * every redraw, with log lines printed above the bars; otherwise one plain line per target at most
 * every `intervalMs`, and one when a target finishes.
 * @example const progress = createProgress({ stream: process.stderr, tty: process.stderr.isTTY === true })
 */
export function createProgress(opts: ProgressOptions): Progress {
  const now = opts.now ?? Date.now;
  const started = new Map<string, number>();
  const startOf = (target: string): number => {
    let t = started.get(target);
    if (t === undefined) started.set(target, (t = now()));
    return t;
  };
  const stream = opts.stream;

  if (!opts.tty) {
    const interval = opts.intervalMs ?? PLAIN_PROGRESS_INTERVAL_MS;
    const last = new Map<string, number>();
    return {
      update(target, done, total) {
        const t0 = startOf(target);
        const at = now();
        if (!last.has(target)) last.set(target, t0);
        if (done < total && at - last.get(target)! < interval) return;
        if (done >= total && last.get(target) === -1) return;
        last.set(target, done >= total ? -1 : at);
        stream.write(plainLine({ target, done, total, elapsedMs: at - t0 }) + '\n');
      },
      log: (line) => void stream.write(line),
      stop: () => undefined,
    };
  }

  const columns = (): number => ('columns' in stream && stream.columns ? stream.columns : 80);
  let multi: cliProgress.MultiBar | undefined;
  const bars = new Map<string, cliProgress.SingleBar>();
  let stopped = false;
  const ensure = (): cliProgress.MultiBar =>
    (multi ??= new cliProgress.MultiBar({
      stream: stream as NodeJS.WritableStream,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 10,
      format: (_o, params, payload: { target: string }) =>
        barLine({ target: payload.target, done: params.value, total: params.total, elapsedMs: now() - startOf(payload.target) }, columns()),
    }));
  return {
    update(target, done, total) {
      if (stopped) return;
      startOf(target);
      let bar = bars.get(target);
      if (!bar) {
        bar = ensure().create(total, done, { target });
        bars.set(target, bar);
      }
      bar.setTotal(total);
      bar.update(done, { target });
    },
    log(line) {
      if (multi && !stopped) multi.log(line);
      else stream.write(line);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      multi?.stop();
    },
  };
}
