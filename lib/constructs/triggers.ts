// EventBridge (schedule rule, HR bus rule) --> Triggers --> the function
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** detail-type prefixes the HR bus forwards to the function (`person.upserted`, `roster.snapshot`, …). */
export const HR_DETAIL_TYPE_PREFIXES = ['person.', 'roster.'] as const;

export interface TriggersProps {
  readonly handler: lambda.IFunction;
  /** EventBridge schedule expression, e.g. `rate(15 minutes)` */
  readonly scheduleExpression: string;
}

/**
 * The two EventBridge triggers.
 *
 * - A schedule rule that re-checks every target. It sends EventBridge's own Scheduled Event
 *   (`source: aws.events`, `detail-type: Scheduled Event`) unchanged, which is how the handler knows it.
 * - A custom event bus for HR (no fixed name; see the HrEventBusName output) with a rule that
 *   forwards every event whose `detail-type` starts with `person.` or `roster.`. HR puts events
 *   on that bus with `DetailType` set to the HR event's type (`person.upserted`,
 *   `person.terminated`, `roster.snapshot`), any `Source` (e.g. `hr.workday`), and the HR event
 *   JSON as `Detail`. Anything else on the bus is not delivered to the function.
 */
export class Triggers extends Construct {
  readonly scheduleRule: events.Rule;
  readonly hrBus: events.EventBus;
  readonly hrRule: events.Rule;

  constructor(scope: Construct, id: string, props: TriggersProps) {
    super(scope, id);
    this.scheduleRule = new events.Rule(this, 'Schedule', {
      description: 'invite-sync: re-check every target',
      schedule: events.Schedule.expression(props.scheduleExpression),
      targets: [new targets.LambdaFunction(props.handler)],
    });
    this.hrBus = new events.EventBus(this, 'HrBus', {
      description: 'HR bus: roster and person events for invite-sync',
    });
    this.hrRule = new events.Rule(this, 'HrEvents', {
      description: 'invite-sync: HR person and roster events',
      eventBus: this.hrBus,
      eventPattern: {
        detailType: events.Match.anyOf(...HR_DETAIL_TYPE_PREFIXES.map((prefix) => events.Match.prefix(prefix))),
      },
      targets: [new targets.LambdaFunction(props.handler)],
    });
  }
}
