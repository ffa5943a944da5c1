// CLI approve --> approveRun --> RunStore (the run's blocked targets get an approval bound to their plan hash)
import type { RunRecord, StateStore } from './ports.ts';

/**
 * Records an approval for every blocked target of a run, bound to that run's plan hash:
 * the next run of the same plan proceeds.
 * @returns the names of the targets approved
 */
export async function approveRun(store: StateStore, runId: string): Promise<{ approved: string[]; run: RunRecord }> {
  const run = await store.getRun(runId);
  if (!run) throw new RunNotFoundError(`no run ${runId} in the state store`);
  const approved: string[] = [];
  for (const t of run.targets) {
    if (!t.blocked || !t.planHash) continue;
    await store.putApproval({ instanceId: t.instanceId, orgId: t.orgId }, t.planHash, runId);
    approved.push(t.name);
  }
  return { approved, run };
}

export class RunNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunNotFoundError';
  }
}
