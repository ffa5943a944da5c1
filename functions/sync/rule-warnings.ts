// CLI plan/apply --> ruleWarnings (targets' rules + the people they will see) --> config mistakes worth a warning (pure)
import type { StoredPerson, Target } from './types.ts';
import { attributeOf, desiredRoles, latestPeople } from './rules.ts';

export type RuleWarningCode = 'unknownKey' | 'afterCatchAll' | 'matchesNobody';

/** One likely mistake in a target's rules. `rule` counts from 1, as the plan's `rule N` does. */
export interface RuleWarning {
  code: RuleWarningCode;
  target: string;
  rule?: number;
  key?: string;
  message: string;
}

/** Keys every person has, so a rule on them alone with `*` matches everyone. */
const ALWAYS_PRESENT = new Set(['email', 'status']);

/** True when a `when` matches every person: `{}`, or only `*` on keys every person has. */
function isCatchAll(when: Target['rules'][number]['when']): boolean {
  return Object.entries(when).every(([k, v]) => ALWAYS_PRESENT.has(k) && (Array.isArray(v) ? v : [v]).some((g) => /^\*+$/.test(g)));
}

/** Levenshtein distance, capped: enough to suggest `department` for `departmnet`. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length]!;
}

function closest(key: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const k of known) {
    const d = distance(key, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

/**
 * Warnings about rules that cannot do what their author meant, judged against the people a run
 * will see (active ones, one per email): a `when` key no person has (`departmnet`), a rule after a
 * catch-all (it never matches), a target whose rules give nobody a role. No people: no warnings.
 * @example ruleWarnings(config.targets, people).map((w) => w.message)
 */
export function ruleWarnings(targets: readonly Target[], people: readonly StoredPerson[]): RuleWarning[] {
  const active = [...latestPeople(people).values()];
  if (active.length === 0) return [];
  const warnings: RuleWarning[] = [];
  const present = new Map<string, boolean>();
  let columns: Set<string> | undefined;
  const known = (): Set<string> => {
    if (columns === undefined) {
      columns = new Set(['email', 'status']);
      for (const p of active) {
        if (p.employeeId !== undefined) columns.add('employeeId');
        for (const k of Object.keys(p.attributes)) columns.add(k);
      }
    }
    return columns;
  };
  for (const target of targets) {
    let catchAll = -1;
    target.rules.forEach((rule, i) => {
      if (catchAll >= 0) {
        warnings.push({
          code: 'afterCatchAll',
          target: target.name,
          rule: i + 1,
          message: `target ${target.name}: rule ${i + 1} comes after rule ${catchAll + 1}, which matches everyone, so it never applies`,
        });
      }
      for (const key of Object.keys(rule.when)) {
        let has = present.get(key);
        if (has === undefined) present.set(key, (has = active.some((p) => attributeOf(p, key) !== undefined)));
        if (has) continue;
        const hint = closest(key, known());
        warnings.push({
          code: 'unknownKey',
          target: target.name,
          rule: i + 1,
          key,
          message: `target ${target.name}: rule ${i + 1} looks at "${key}", which no person has${hint ? ` (did you mean "${hint}"?)` : ''}; the rule matches nobody`,
        });
      }
      if (catchAll < 0 && isCatchAll(rule.when)) catchAll = i;
    });
    if (desiredRoles(active, target.rules).size === 0) {
      warnings.push({
        code: 'matchesNobody',
        target: target.name,
        message: `target ${target.name}: its rules give none of the ${active.length} people a role; nobody will be invited`,
      });
    }
  }
  return warnings;
}
