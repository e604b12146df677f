import type { BusEvent } from '@ecr-automation/local-registry';
import type { ServiceEvent } from '../../shared/events/publisher.ts';
import { SERVICE_EVENT_SOURCE } from '../../shared/events/publisher.ts';
import { invalidOutputEvents } from '../../shared/runtime/output-events.ts';

/** Throws, naming each event and zod's issues, unless every detail parses with its workflow's schema (`report.ts`). */
export function expectOutputEventsParse(events: readonly ServiceEvent[]): void {
  const invalid = invalidOutputEvents(events);
  if (invalid.length > 0) {
    throw new Error(
      `${invalid.length} published event(s) do not match their schema:\n${invalid
        .map(
          (event) =>
            `${event.detailType}: ${event.issues.map((issue) => `${issue.path.map(String).join('.') || '(detail)'}: ${issue.message}`).join('; ')}`,
        )
        .join('\n')}`,
    );
  }
}

/** The service's events on a bus (`source: ecr-automation`), each parsed with its schema; see `expectOutputEventsParse`. */
export function expectPublishedEventsParse(events: readonly BusEvent[]): void {
  expectOutputEventsParse(
    events
      .filter((event) => event.source === SERVICE_EVENT_SOURCE)
      .map((event) => ({ detailType: event['detail-type'], detail: event.detail })),
  );
}
