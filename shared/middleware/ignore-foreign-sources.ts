import type middy from '@middy/core';
import { logger } from '../obs/index.ts';

/** What a handler returns for an event it ignored because of its `source`. */
export interface IgnoredEvent {
  ignored: 'foreign-source';
  source: string;
  eventId?: string;
}

/**
 * Defence in depth behind the rules' patterns: an event whose `source` is not one of `sources` is logged and ignored
 * (no action, and no error, so Lambda does not retry it). Anyone allowed to put events on a bus can send any
 * detail-type; a forged event must not be able to act. An event with no string `source` is left to the parser, which
 * rejects it. Use it first, before the Powertools middlewares: returning early skips theirs entirely.
 */
export function ignoreForeignSources(sources: readonly string[]): middy.MiddlewareObj {
  return {
    before: async (request) => {
      const event = request.event as { source?: unknown; id?: unknown; 'detail-type'?: unknown } | null;
      const source = event?.source;
      if (typeof source !== 'string' || sources.includes(source)) return undefined;
      const eventId = typeof event?.id === 'string' ? event.id : undefined;
      logger.warn('ignoring an event from a foreign source', {
        source,
        detailType: event?.['detail-type'],
        eventId,
        expectedSources: sources,
        awsRequestId: (request.context as { awsRequestId?: string } | undefined)?.awsRequestId,
      });
      const ignored: IgnoredEvent = { ignored: 'foreign-source', source, ...(eventId ? { eventId } : {}) };
      return ignored;
    },
  };
}
