import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';

/** The `source` of every event the service publishes (never `aws.*`, which AWS reserves). */
export const SERVICE_EVENT_SOURCE = 'ecr-automation';

/** PutEvents takes at most 10 entries per call ([M-EB]). */
export const MAX_ENTRIES_PER_PUT_EVENTS = 10;
/** Rounds of re-sending entries that failed with a retryable code. */
const MAX_ENTRY_RETRIES = 3;
/** Entry error codes worth re-sending ([M-EB] PutEventsResultEntry). */
const RETRYABLE_ENTRY_ERRORS = new Set(['InternalFailure', 'ThrottlingException']);

export interface ServiceEvent {
  detailType: string;
  detail: unknown;
  resources?: string[];
}

/** Some entries could not be published; the message names each with its error code. */
export class PublishError extends Error {
  constructor(
    message: string,
    readonly failures: readonly { detailType: string; code: string; message: string }[],
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Publishes events to the service's bus in batches of 10. A 200 response can still hold failed entries, so every
 * response's entries are read: retryable failures are re-sent (bounded), anything else is a `PublishError`.
 */
export async function publishEvents(
  client: EventBridgeClient,
  eventBusName: string,
  events: readonly ServiceEvent[],
): Promise<{ calls: number; eventIds: string[] }> {
  let calls = 0;
  const eventIds: string[] = [];
  const toEntry = (event: ServiceEvent): PutEventsRequestEntry => ({
    Source: SERVICE_EVENT_SOURCE,
    DetailType: event.detailType,
    Detail: JSON.stringify(event.detail),
    EventBusName: eventBusName,
    ...(event.resources ? { Resources: event.resources } : {}),
  });
  for (let start = 0; start < events.length; start += MAX_ENTRIES_PER_PUT_EVENTS) {
    let pending = events.slice(start, start + MAX_ENTRIES_PER_PUT_EVENTS);
    for (let round = 0; pending.length > 0; round++) {
      calls++;
      const response = await client.send(new PutEventsCommand({ Entries: pending.map(toEntry) }));
      const retry: ServiceEvent[] = [];
      const failures: { detailType: string; code: string; message: string }[] = [];
      pending.forEach((event, index) => {
        const result = response.Entries?.[index];
        if (result?.EventId) eventIds.push(result.EventId);
        else {
          const code = result?.ErrorCode ?? 'NotInResponse';
          if (RETRYABLE_ENTRY_ERRORS.has(code) || code === 'NotInResponse') retry.push(event);
          else failures.push({ detailType: event.detailType, code, message: result?.ErrorMessage ?? '' });
        }
      });
      if (failures.length > 0 || (retry.length > 0 && round >= MAX_ENTRY_RETRIES)) {
        const all = [
          ...failures,
          ...retry.map((event) => ({ detailType: event.detailType, code: 'RetriesExhausted', message: '' })),
        ];
        throw new PublishError(
          `PutEvents to ${eventBusName} failed for ${all.length} entr${all.length === 1 ? 'y' : 'ies'}: ${all
            .map((failure) => `${failure.detailType} (${failure.code}${failure.message ? `: ${failure.message}` : ''})`)
            .join(', ')}`,
          all,
        );
      }
      pending = retry;
      if (pending.length > 0) await sleep(100 * 2 ** round);
    }
  }
  return { calls, eventIds };
}
