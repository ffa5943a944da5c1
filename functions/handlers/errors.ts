// handlers --> errors they throw to the Lambda runtime (which retries or records them)

/** The event is not of the shape its handler expects. */
export class EventShapeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventShapeError';
  }
}

/** The function was invoked with an event of no trigger it serves. */
export class UnknownEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownEventError';
  }
}

/** A queued target was not reconciled to the end (lease busy, Losant unreachable, deadline…): SQS retries it. */
export class ReconcileIncompleteError extends Error {
  readonly target: string;
  readonly code: string;
  constructor(target: string, code: string, message: string) {
    super(`target ${target} not reconciled (${code}): ${message}`);
    this.name = 'ReconcileIncompleteError';
    this.target = target;
    this.code = code;
  }
}

/** A queue message that is not a reconcile message: it fails until the DLQ keeps it for inspection. */
export class PoisonMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}
