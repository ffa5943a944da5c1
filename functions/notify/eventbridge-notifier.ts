// reconcileAndRecord --> RunNotifier port --> EventBridgeRunNotifier --> EventBridge PutEvents (default bus, source invite-sync)
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { Log } from '../sync/ports.ts';
import type { RunCompletedDetail, RunNotifier } from '../sync/run-events.ts';
import { RUN_EVENT_BUS, RUN_EVENT_DETAIL_TYPE, RUN_EVENT_SOURCE } from './run-event-names.ts';

/** PutEvents takes at most 10 entries per call. */
const PUT_EVENTS_LIMIT = 10;

export interface EventBridgeRunNotifierOptions {
  /** name or ARN of the bus. @default 'default' */
  busName?: string;
  client?: EventBridgeClient;
  log: Log;
}

/**
 * Puts one `Sync Run Completed` event per detail (source `invite-sync`) on the bus, ten per call.
 * A failed call or a rejected entry is logged as a warning and never thrown: the run already
 * happened, and its record, metrics and logs stand without the event.
 * @example await new EventBridgeRunNotifier({ log }).runCompleted(details)
 */
export class EventBridgeRunNotifier implements RunNotifier {
  readonly #busName: string;
  readonly #log: Log;
  #client: EventBridgeClient | undefined;

  constructor(opts: EventBridgeRunNotifierOptions) {
    this.#busName = opts.busName ?? RUN_EVENT_BUS;
    this.#client = opts.client;
    this.#log = opts.log;
  }

  async runCompleted(details: RunCompletedDetail[]): Promise<void> {
    for (let i = 0; i < details.length; i += PUT_EVENTS_LIMIT) {
      const chunk = details.slice(i, i + PUT_EVENTS_LIMIT);
      const entries: PutEventsRequestEntry[] = chunk.map((d) => ({
        EventBusName: this.#busName,
        Source: RUN_EVENT_SOURCE,
        DetailType: RUN_EVENT_DETAIL_TYPE,
        Detail: JSON.stringify(d),
      }));
      try {
        this.#client ??= new EventBridgeClient({});
        const out = await this.#client.send(new PutEventsCommand({ Entries: entries }));
        if (out.FailedEntryCount) {
          const codes = [...new Set((out.Entries ?? []).map((e) => e.ErrorCode).filter(Boolean))];
          this.#log.warn('some Sync Run Completed events were not accepted', { failed: out.FailedEntryCount, of: entries.length, errorCodes: codes });
        }
      } catch (err) {
        this.#log.warn('could not put the Sync Run Completed events; the run stands', {
          targets: chunk.map((d) => d.target),
          error: (err as Error).message,
          errorName: (err as Error).name,
        });
      }
    }
  }
}
