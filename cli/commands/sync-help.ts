// CLI plan | apply | approve --help --> what each verb needs: required options, environment, exit codes
const ENV = `Environment:
  LOSANT_API_TOKEN        Losant API token (required for plan and apply)
  LOSANT_API_URL          Losant API (default https://api.losant.com)
  DYNAMODB_ENDPOINT       a DynamoDB (Local) endpoint for the state; with STATE_TABLE
  STATE_TABLE             the state table (default invite-sync); without either, an embedded DynamoDB Local
  INVITE_SYNC_LOG_LEVEL   debug | info | warn | error | silent (default warn); logs go to stderr, emails masked
  NO_COLOR                no colours (colours are only used on a terminal anyway)`;

const EXITS = `Exit codes (when several apply, the first of 2, 5, 4, 130/143, 3, 1 wins):
  0        done: nothing failed, nothing blocked
  1        some actions failed
  2        bad input: usage, config, roster, a config with "mode": "plan" given to apply, --strict warnings
  3        blocked by a safety brake (plan too, when apply would be blocked)
  4        could not run: Losant 401/403/unreachable, lease busy, deadline
  5        apply --plan: the saved plan is stale; nothing was changed
  130/143  stopped by SIGINT / SIGTERM`;

/**
 * The text after a verb's options in `--help`.
 * @example cmd.addHelpText('after', syncHelp('plan'))
 */
export function syncHelp(verb: 'plan' | 'apply' | 'approve'): string {
  const required =
    verb === 'plan'
      ? 'Required: --config <file>'
      : verb === 'apply'
        ? 'Required: --config <file>, or --plan <file> (a plan saved by `plan --out`; it names the config and roster)'
        : 'Required: --run <id>';
  const examples =
    verb === 'plan'
      ? `Examples:
  invite-sync plan --config sync.json --roster roster.csv
  invite-sync plan --config sync.json --roster roster.csv --out plan.json   # review, then: invite-sync apply --plan plan.json`
      : verb === 'apply'
        ? `Examples:
  invite-sync apply --config sync.json --roster roster.csv
  invite-sync apply --plan plan.json`
        : `Examples:
  invite-sync approve --run r-20300101T000000-1a2b3c4d
  invite-sync approve --stage prod --run r-20300101T000000-1a2b3c4d   # the deployed stage: approves and queues at once`;
  const env =
    verb === 'approve'
      ? ENV.replace('(required for plan and apply)', '(not needed by approve)').replace(
          '\n  INVITE_SYNC_LOG_LEVEL',
          '\n  RECONCILE_QUEUE_URL     the reconcile queue: approved targets are queued at once (--stage: the stack\'s queue)\n  INVITE_SYNC_LOG_LEVEL',
        )
      : ENV;
  return `\n${required}\n\n${env}\n\n${EXITS}\n\n${examples}\n`;
}
