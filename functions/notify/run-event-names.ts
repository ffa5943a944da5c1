// EventBridgeRunNotifier (runtime) + InviteSyncStack (IAM condition, docs) --> run-event-names: what a run announces itself as
// Pure constants, no SDK: the CDK app imports this module without pulling in the runtime.

/** `source` of every event invite-sync puts; the function may put no other (IAM `events:source`). */
export const RUN_EVENT_SOURCE = 'invite-sync';
/** `detail-type` of the event a notable run puts on the default bus. */
export const RUN_EVENT_DETAIL_TYPE = 'Sync Run Completed';
/** The bus the events go to: the account's default bus. */
export const RUN_EVENT_BUS = 'default';
