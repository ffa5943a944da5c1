// handlers (functions/runtime/metrics.ts) + CDK (lib/constructs/monitoring.ts) --> metric-names: the one list of what is published where
// Pure constants, no SDK: the CDK app imports this module without pulling in the runtime.

/** CloudWatch namespace the handlers' Powertools Metrics publish under (EMF). */
export const METRICS_NAMESPACE = 'InviteSync';
/** Powertools service name: the `service` dimension of every metric, and the logger's service. */
export const SERVICE_NAME = 'invite-sync';

/**
 * The custom metrics one reconcile emits (recordRunMetrics); the dashboard and alarms read them.
 * `InvitesAmbiguous`: POSTs left unanswered and not found by lookup (the next run settles them); not in `InvitesFailed`.
 * `InvitesNoSeat`: invites and renewals not sent because the org had no free seat (skip key `noSeat`; alarmed).
 * `MembersRemoved`: members invite-sync invited who left, removed (policy.removeLeftMembers).
 */
export const RUN_METRICS = ['InvitesSent', 'InvitesRenewed', 'InvitesFailed', 'InvitesAmbiguous', 'InvitesNoSeat', 'RunsBlocked', 'DriftRemaining', 'RunDurationMs', 'MembersRemoved'] as const;
export type RunMetricName = (typeof RUN_METRICS)[number];

/**
 * Per target of a run, only for an org with a member limit: seats still free once the plan ran
 * (limit − members − unexpired pending − reserveSeats, at least 0). A gauge: read it per target (`Minimum`).
 */
export const SEATS_FREE = 'SeatsFree';

/** Counted when an HR event was stored but its targets could not be queued (they stay dirty for the schedule). */
export const RECONCILE_QUEUE_FAILURES = 'ReconcileQueueFailures';

/** Counted for every HR event refused (400 / `invalid`): bad field, identity conflict, future occurredAt, parts mismatch. */
export const EVENTS_REJECTED = 'EventsRejected';

/** Counted for every webhook request answered 503 because WEBHOOK_SECRET holds an unusable key (under 24 bytes, not base64). */
export const WEBHOOK_MISCONFIGURED = 'WebhookMisconfigured';

/** The run metric counting invites and renewals held back because the org has no free seat (functions/sync/seats.ts); alarmed. */
export const INVITES_NO_SEAT = 'InvitesNoSeat' satisfies RunMetricName;

/**
 * The run metric counting members removed (policy.removeLeftMembers): a dashboard row per stage and target, no alarm
 * of its own (removals pass the brakes like every change: a spike is a blocked run, alarmed as RunsBlocked).
 */
export const MEMBERS_REMOVED = 'MembersRemoved' satisfies RunMetricName;

/** The run metric counting POSTs left unanswered and not found by lookup; alarmed. */
export const INVITES_AMBIGUOUS = 'InvitesAmbiguous' satisfies RunMetricName;

/** Counted when an HR source has sent nothing for longer than it is expected to (the source watch); alarmed. */
export const SOURCE_SILENT = 'SourceSilent';

/** Counted for every roster drop whose key is refused: nested deeper, an invalid source name, not .csv/.json, or a source whose `via` lacks `s3`. */
export const DROPS_REJECTED = 'DropsRejected';

/** Counted for every roster drop refused whole (bad rows, bad occurred-at, over 50 MB): recorded as a failed delivery; alarmed. */
export const DROPS_FAILED = 'DropsFailed';

/**
 * Counted when a queued run stopped for its deadline with actions left and queued its continuation at once
 * (functions/sync/continuation.ts); a dashboard line, no alarm (long applies are expected).
 */
export const RUNS_CONTINUED = 'RunsContinued';

/**
 * Counted for every request to the webhook route that is refused (401 signature, 413 size, 415 media type, 400 event):
 * with WEBHOOK_ACCEPTED, the WebhookRejections alarm reads the webhook alone, not the SCIM traffic on the same HTTP API.
 */
export const WEBHOOK_REJECTED = 'WebhookRejected';

/** Counted for every webhook event accepted (202) or recognised as a redelivery (200 duplicate). */
export const WEBHOOK_ACCEPTED = 'WebhookAccepted';

/** Every custom metric name the handlers publish. */
export const METRIC_NAMES = [
  ...RUN_METRICS,
  SEATS_FREE,
  RECONCILE_QUEUE_FAILURES,
  EVENTS_REJECTED,
  WEBHOOK_MISCONFIGURED,
  WEBHOOK_REJECTED,
  WEBHOOK_ACCEPTED,
  SOURCE_SILENT,
  DROPS_REJECTED,
  DROPS_FAILED,
  RUNS_CONTINUED,
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
