// CLI unlock --> LeaseStore (readLease, then forceReleaseLease of the owner shown): `terraform force-unlock` for a target
import type { Command } from 'commander';
import { loadSyncConfigFile } from '../../functions/config/load-sync-config.ts';
import type { LeaseState } from '../../functions/sync/ports.ts';
import { createCliRuntime } from '../runtime.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { addStateOptions, stateChoice, type StateFlags } from '../state-options.ts';

interface UnlockFlags extends StateFlags {
  config: string;
  target: string;
  yes?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('unlock')
    .description("release a target's lease by hand (after a crash): clears the holder shown and marks the target changed")
    .showHelpAfterError(`see 'invite-sync unlock --help'`)
    .requiredOption('--config <file>', 'sync config file (JSON): where the target is')
    .requiredOption('--target <name>', 'the target whose lease to release')
    .option('--yes', 'release even a lease renewed within the last leaseSeconds/3 (its holder may be alive)')
    .option('--json', 'print one JSON object on stdout');
  addStateOptions(cmd, { wait: true }).action(async (flags: UnlockFlags) => {
    await unlock(flags);
  });
}

/** `pid 4242 on host build-7 (owner r-…), expires 2025-…Z, renewed 3 s ago` */
function describe(lease: LeaseState, now: number): string {
  const who = lease.holder ? `pid ${lease.holder.pid} on host ${lease.holder.host} (owner ${lease.owner})` : `owner ${lease.owner}`;
  const renewed = lease.renewedAt === undefined ? '' : `, renewed ${Math.max(0, Math.round((now - lease.renewedAt) / 1000))} s ago`;
  return `${who}, expires ${new Date(lease.expiresAt).toISOString()}${renewed}`;
}

async function unlock(flags: UnlockFlags): Promise<void> {
  const config = await loadSyncConfigFile(flags.config);
  const target = config.targets.find((t) => t.name === flags.target);
  if (!target) {
    throw new CliError(`--target ${flags.target}: no such target in ${flags.config} (targets: ${config.targets.map((t) => t.name).join(', ')})`, EXIT.badInput, { code: 'usage' });
  }
  const rt = await createCliRuntime({ env: process.env, needsLosant: false, ...stateChoice(flags) });
  try {
    const now = rt.clock.now();
    const lease = await rt.store.readLease(target);
    const say = (json: Record<string, unknown>, text: string) => process.stdout.write(flags.json ? JSON.stringify({ target: target.name, ...json }) + '\n' : text + '\n');
    if (!lease) {
      say({ released: false, held: false }, `target ${target.name}: no lease is held; nothing to unlock`);
      return;
    }
    // a holder that renewed within a third of the lease is likely alive (it renews every leaseSeconds/3)
    const renewedAt = lease.renewedAt ?? lease.expiresAt - config.leaseSeconds * 1000;
    if (!flags.yes && now - renewedAt < (config.leaseSeconds * 1000) / 3) {
      throw new CliError(
        `target ${target.name}: the lease of ${describe(lease, now)} was renewed within the last ${Math.round(config.leaseSeconds / 3)} s: its holder may be alive; pass --yes to release it anyway`,
        EXIT.couldNotRun,
        { code: 'leaseRecentlyRenewed', details: { owner: lease.owner } },
      );
    }
    if (!(await rt.store.forceReleaseLease(target, lease.owner))) {
      throw new CliError(`target ${target.name}: the lease changed hands while unlocking; run invite-sync unlock again to see its holder`, EXIT.couldNotRun, { code: 'leaseChanged' });
    }
    say({ released: true, owner: lease.owner, ...(lease.holder ? { holder: lease.holder } : {}) }, `target ${target.name}: released the lease of ${describe(lease, now)}; the next run reconciles the target`);
  } finally {
    await rt.close();
  }
}
