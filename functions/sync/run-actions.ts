// runSync --> RunActionLog: every action a run planned, per target, and how it ended (stored for `show` / `approve`)
import type { RunAction } from './ports.ts';
import type { Action } from './types.ts';

/** At most this many actions of one run are stored (a run past the brakes' limits is rare and its counts are kept anyway). */
export const MAX_STORED_ACTIONS = 20_000;

/**
 * Collects a run's actions as they are planned and as they end.
 * @example const log = new RunActionLog(); log.planned('eng', plan.actions, 'notStarted'); log.outcome(action, 'done');
 */
export class RunActionLog {
  private readonly rows: RunAction[] = [];
  private readonly byAction = new Map<Action, RunAction>();
  /** actions left out past MAX_STORED_ACTIONS */
  dropped = 0;

  /** Records a round's plan of one target; `result` is what each action is until it ends. */
  planned(target: string, actions: readonly Action[], result: RunAction['result']): void {
    for (const action of actions) {
      if (this.rows.length >= MAX_STORED_ACTIONS) {
        this.dropped++;
        continue;
      }
      const { rule, ...rest } = action;
      const row: RunAction = { ...rest, ...(rule ? { rule } : {}), target, result };
      this.rows.push(row);
      this.byAction.set(action, row);
    }
  }

  /** How an attempted action ended (the applier's `onOutcome`). */
  readonly outcome = (action: Action, outcome: 'done' | 'failed', error?: string): void => {
    const row = this.byAction.get(action);
    if (!row) return;
    row.result = outcome;
    if (error) row.error = error;
  };

  entries(): RunAction[] {
    return this.rows;
  }
}
