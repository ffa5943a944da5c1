// invite-sync emulator --> startEmulator (the Losant API emulator on a real HTTP port) until SIGINT/SIGTERM
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import { SeedError, loadSeedFile, startEmulator, EmulatorStartError, type EmulatorOptions } from '../../emulator/index.ts';

/** The flags as commander hands them over (all strings). */
export interface EmulatorFlags {
  port: string;
  host: string;
  seed?: string;
  latency?: string;
  errorRate?: string;
  lostResponseRate?: string;
  faultSeed?: string;
  rateLimit?: string;
  /** a POST's effect and answer both wait this many ms */
  postDelayMs?: string;
  /** answer without Losant's `_type` / `_links` */
  plainAnswers?: boolean;
}

function number(flag: string, raw: string, ok: (n: number) => boolean, expected: string): number {
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(n) || !ok(n)) throw new CliError(`--${flag} must be ${expected}, got '${raw}'`, EXIT.badInput);
  return n;
}

/**
 * Turns the flags into emulator options (without the seed); a bad value throws CliError (exit 2).
 * @example parseEmulatorFlags({ port: '0', host: '127.0.0.1', errorRate: '0.1' })
 */
export function parseEmulatorFlags(flags: EmulatorFlags): Omit<EmulatorOptions, 'seed'> {
  const options: Omit<EmulatorOptions, 'seed'> = {
    port: number('port', flags.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'an integer from 0 to 65535 (0 = a free port)'),
    host: flags.host.trim(),
  };
  if (options.host === '') throw new CliError('--host must not be blank', EXIT.badInput);
  if (flags.latency !== undefined) options.latencyMs = number('latency', flags.latency, (n) => Number.isInteger(n) && n >= 0 && n <= 600_000, 'whole milliseconds from 0 to 600000');
  if (flags.errorRate !== undefined) options.errorRate = number('error-rate', flags.errorRate, (n) => n >= 0 && n <= 1, 'a number from 0 to 1');
  if (flags.lostResponseRate !== undefined) {
    options.lostResponseRate = number('lost-response-rate', flags.lostResponseRate, (n) => n >= 0 && n <= 1, 'a number from 0 to 1');
  }
  if (flags.faultSeed !== undefined) {
    options.faultSeed = number('fault-seed', flags.faultSeed, (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32, 'an integer from 0 to 4294967295');
  }
  if (flags.rateLimit !== undefined) {
    options.rateLimit = number('rate-limit', flags.rateLimit, (n) => n >= 0 && n <= 1_000_000, 'requests per second, a number from 0 (no limit) to 1000000');
  }
  if (flags.postDelayMs !== undefined) {
    options.postDelayMs = number('post-delay-ms', flags.postDelayMs, (n) => Number.isInteger(n) && n >= 0 && n <= 600_000, 'whole milliseconds from 0 to 600000');
  }
  if (flags.plainAnswers) options.plainAnswers = true;
  return options;
}

async function run(flags: EmulatorFlags): Promise<void> {
  const options: EmulatorOptions = parseEmulatorFlags(flags);
  if (flags.seed !== undefined) {
    try {
      options.seed = await loadSeedFile(flags.seed);
    } catch (err) {
      if (err instanceof SeedError) throw new CliError(err.message, EXIT.badInput);
      throw err;
    }
  }
  let emulator;
  try {
    emulator = await startEmulator(options);
  } catch (err) {
    if (err instanceof EmulatorStartError) throw new CliError(err.message, EXIT.couldNotRun);
    throw err;
  }
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = resolve;
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
  const faults = [
    options.latencyMs ? `latency ${options.latencyMs} ms` : '',
    options.errorRate ? `error rate ${options.errorRate}` : '',
    options.lostResponseRate ? `lost-response rate ${options.lostResponseRate}` : '',
    options.postDelayMs ? `POST delay ${options.postDelayMs} ms` : '',
    options.rateLimit ? `rate limit ${options.rateLimit}/s per token` : '',
  ].filter(Boolean);
  const shape = options.plainAnswers ? 'plain answers (no _type/_links)' : 'answers with _type and _links';
  process.stderr.write(
    `emulator: ${flags.seed ? `seed ${flags.seed}` : 'default seed (token emulator-token, instance and org 575ec8687ae143cd83dc4a97)'}; ` +
      `${shape}; faults: ${faults.length ? faults.join(', ') : 'none'}; fault seed ${emulator.faultSeed}; stats at ${emulator.url}/_emulator/stats\n`,
  );
  process.stdout.write(`listening on ${emulator.url}\n`);
  const signal = await stopped;
  process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  await emulator.close();
  process.stderr.write(`emulator: stopped on ${signal}\n`);
}

/** Registers `invite-sync emulator`: the Losant API emulator on 127.0.0.1 until SIGINT/SIGTERM. */
export function register(program: Command): void {
  program
    .command('emulator')
    .description('Run the contract-faithful Losant API emulator until SIGINT/SIGTERM; prints "listening on <url>" on stdout when ready.')
    .option('--port <n>', 'port to listen on; 0 picks a free port', '0')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--seed <file>', 'seed JSON: tokens, instances, orgs, invites, members (default: one instance/org, token emulator-token)')
    .option('--latency <ms>', 'delay every API answer by this many ms')
    .option('--error-rate <0..1>', 'share of API requests answered 503 before any effect')
    .option('--lost-response-rate <0..1>', 'share of POST/DELETE requests that take effect and then drop the connection')
    .option('--fault-seed <n>', 'seed of the fault PRNG: the same seed replays the same faults')
    .option('--rate-limit <r/s>', 'requests per second per token (token bucket); 0 = no limit')
    .option('--post-delay-ms <n>', "delay a POST's effect and its answer by this many ms (a late effect after a client timeout)")
    .option('--plain-answers', 'answer without the _type and _links Losant adds to collections and items')
    .action(async (flags: EmulatorFlags) => run(flags));
}
