import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SnsGateway } from '../sns/gateway.ts';
import { renderNotification } from './render.ts';

/**
 * The notify function's body: one event of the service's bus (a report, a FAIL scan verdict) rendered for people
 * (`render.ts`) and published to the notifications topic. A malformed event is logged with why and counted
 * (`InvalidEvents`), and nothing is published; a failed Publish throws, so that Lambda retries the invocation.
 */

/** Where notifications go: the topic, the gateway that publishes to it, and the reports bucket to link to. */
export interface Notifications {
  readonly topicArn: string;
  readonly gateway: Pick<SnsGateway, 'publish'>;
  /** The reports bucket (`REPORTS_BUCKET`): the stored cleanup run reports are linked from their notifications. */
  readonly reportsBucket?: string | undefined;
}

export type NotifyResult =
  | { readonly status: 'published'; readonly eventId: string; readonly messageId: string | undefined }
  /** This container published this event already (EventBridge delivers at least once). */
  | { readonly status: 'duplicate'; readonly eventId: string }
  | { readonly status: 'ignored'; readonly reason: string }
  | { readonly status: 'invalid'; readonly reason: string }
  /** The runtime has no notifications topic (the config names none). */
  | { readonly status: 'not-configured' };

/**
 * The metrics of a published notification, of an event sent to no one (ignored, a duplicate, no topic), and of an
 * event that could not be rendered: every invocation records one.
 */
export const NOTIFY_METRICS = {
  published: 'NotificationsPublished',
  skipped: 'NotificationsSkipped',
  invalid: 'InvalidEvents',
} as const;

/** How many event ids a container remembers to skip a re-delivered event: a day of reports and then some. */
export const RECENT_EVENT_IDS = 1_000;

/** The ids of the events a container published, the oldest forgotten first past `limit`. */
export class RecentEvents {
  readonly #ids = new Set<string>();
  constructor(private readonly limit = RECENT_EVENT_IDS) {}
  has(id: string): boolean {
    return this.#ids.has(id);
  }
  add(id: string): void {
    this.#ids.add(id);
    if (this.#ids.size > this.limit) {
      const oldest = this.#ids.values().next().value;
      if (oldest !== undefined) this.#ids.delete(oldest);
    }
  }
}

export async function runNotify(
  event: unknown,
  deps: {
    logger: Pick<Logger, 'info' | 'warn' | 'error'>;
    metrics: Pick<Metrics, 'addMetric'>;
    notifications?: Notifications | undefined;
  },
  recent: RecentEvents,
): Promise<NotifyResult> {
  const { logger, metrics, notifications } = deps;
  if (notifications === undefined) {
    logger.warn('no notifications topic: the event is not sent');
    metrics.addMetric(NOTIFY_METRICS.skipped, MetricUnit.Count, 1);
    return { status: 'not-configured' };
  }
  const rendered = renderNotification(event, { reportsBucket: notifications.reportsBucket });
  if (rendered.kind === 'invalid') {
    logger.error(`event not notified: ${rendered.reason}`, { eventId: rendered.eventId, issues: rendered.issues });
    metrics.addMetric(NOTIFY_METRICS.invalid, MetricUnit.Count, 1);
    return { status: 'invalid', reason: rendered.reason };
  }
  if (rendered.kind === 'ignored') {
    logger.info(`event not notified: ${rendered.reason}`, { eventId: rendered.eventId });
    metrics.addMetric(NOTIFY_METRICS.skipped, MetricUnit.Count, 1);
    return { status: 'ignored', reason: rendered.reason };
  }
  const { eventId, notification } = rendered;
  if (recent.has(eventId)) {
    logger.info('event notified already by this container: not sent again', { eventId });
    metrics.addMetric(NOTIFY_METRICS.skipped, MetricUnit.Count, 1);
    return { status: 'duplicate', eventId };
  }
  const { messageId } = await notifications.gateway.publish(notifications.topicArn, {
    subject: notification.subject,
    message: notification.message,
    deduplicationId: eventId,
    groupId: 'ecr-automation',
  });
  recent.add(eventId);
  metrics.addMetric(NOTIFY_METRICS.published, MetricUnit.Count, 1);
  logger.info('notification published', {
    eventId,
    messageId,
    subject: notification.subject,
    bytes: Buffer.byteLength(notification.message),
  });
  return { status: 'published', eventId, messageId };
}
