import type { Logger } from '@aws-lambda-powertools/logger';
import type { z } from 'zod';
import {
  CleanupFanOutReportSchema,
  CleanupReportSchema,
  CleanupWorkItemSchema,
  OrganisationCleanupReportSchema,
} from '../cleanup/report.ts';
import { ComplianceReportSchema, RepositoryComplianceSchema } from '../compliance/report.ts';
import type { ServiceEvent } from '../events/publisher.ts';
import { DETAIL_TYPES } from '../events/schemas.ts';
import { PushVerdictSchema } from '../push/report.ts';
import { ReconcileReportSchema } from '../reconcile/report.ts';
import { AllowListReportEventSchema, ScanVerdictSchema } from '../scan/report.ts';

type OutputDetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];

/** The schema of every event the service publishes, by detail-type; each is declared in its workflow's `report.ts`. */
export const OUTPUT_EVENT_SCHEMAS: Readonly<Record<OutputDetailType, z.ZodType>> = {
  [DETAIL_TYPES.cleanupWorkItem]: CleanupWorkItemSchema,
  [DETAIL_TYPES.cleanupReport]: CleanupReportSchema,
  [DETAIL_TYPES.cleanupFanOutReport]: CleanupFanOutReportSchema,
  [DETAIL_TYPES.organisationCleanupReport]: OrganisationCleanupReportSchema,
  [DETAIL_TYPES.imagePushVerdict]: PushVerdictSchema,
  [DETAIL_TYPES.imageScanVerdict]: ScanVerdictSchema,
  [DETAIL_TYPES.allowListReport]: AllowListReportEventSchema,
  [DETAIL_TYPES.complianceReport]: ComplianceReportSchema,
  [DETAIL_TYPES.complianceDrift]: RepositoryComplianceSchema,
  [DETAIL_TYPES.registryReconcileReport]: ReconcileReportSchema,
};

export interface InvalidOutputEvent {
  detailType: string;
  /** zod's issues, or one saying the detail-type has no schema. */
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}

const isOutputDetailType = (detailType: string): detailType is OutputDetailType =>
  Object.hasOwn(OUTPUT_EVENT_SCHEMAS, detailType);

/** The events whose detail does not match the schema of their detail-type (or whose detail-type has none). */
export function invalidOutputEvents(events: readonly ServiceEvent[]): InvalidOutputEvent[] {
  return events.flatMap((event): InvalidOutputEvent[] => {
    if (!isOutputDetailType(event.detailType)) {
      return [{ detailType: event.detailType, issues: [{ path: [], message: 'no schema for this detail-type' }] }];
    }
    const parsed = OUTPUT_EVENT_SCHEMAS[event.detailType].safeParse(event.detail);
    return parsed.success ? [] : [{ detailType: event.detailType, issues: parsed.error.issues }];
  });
}

/**
 * Checks each event before it is published: a detail that does not match its schema (the types and the schema have
 * drifted apart) is logged as an error with zod's issues, and still published, so that consumers get it.
 */
export function logInvalidOutputEvents(events: readonly ServiceEvent[], logger: Pick<Logger, 'error'>): void {
  for (const invalid of invalidOutputEvents(events)) {
    logger.error('published event does not match its schema', {
      detailType: invalid.detailType,
      issues: invalid.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    });
  }
}
