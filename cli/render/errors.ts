// CLI plan/apply --> targetErrorLine: a target that could not be reconciled, with the Losant host and the likely fix (pure)
import type { TargetReport } from '../../functions/sync/types.ts';

type TargetError = NonNullable<TargetReport['error']>;

/**
 * What to try for each error code (the `hint` of `--json`).
 * @example likelyFix('unauthorized') // 'check LOSANT_API_TOKEN …'
 */
export function likelyFix(code: TargetError['code']): string {
  switch (code) {
    case 'unauthorized':
      return 'check LOSANT_API_TOKEN (expired, revoked, or for another Losant instance?) and LOSANT_API_URL';
    case 'forbidden':
      return "check that LOSANT_API_TOKEN may manage this organization's members (token scope, instance, org)";
    case 'notFound':
      return "check the target's instanceId and orgId in the config";
    case 'unreachable':
      return 'check LOSANT_API_URL and the network; Losant may be down or throttling: rerun later';
    case 'deadline':
      return 'rerun: it continues where this run stopped';
    case 'leaseBusy':
      return 'another run holds this target: wait for it, pass --wait <seconds>, or if its holder is gone: invite-sync unlock --config <file> --target <name>';
    case 'interrupted':
      return 'rerun: it continues where this run stopped';
    case 'invalidResponse':
      return 'Losant answered something that cannot be trusted (nothing was planned for this target); rerun, and if it persists check LOSANT_API_URL points at the Losant API';
    default:
      return 'rerun with INVITE_SYNC_LOG_LEVEL=debug for details';
  }
}

/**
 * `target eng (instance …, org …) at api.losant.com: unauthorized: <message>; check LOSANT_API_TOKEN …`
 * @example targetErrorLine(report.targets[0], new URL(env.LOSANT_API_URL).host)
 */
export function targetErrorLine(t: Pick<TargetReport, 'name' | 'instanceId' | 'orgId'> & { error: TargetError }, host: string): string {
  const where = t.error.code === 'leaseBusy' ? '' : ` at ${host}`;
  return `target ${t.name} (instance ${t.instanceId}, org ${t.orgId})${where}: ${t.error.code}: ${t.error.message}; ${likelyFix(t.error.code)}`;
}
