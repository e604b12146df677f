import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { scanRuleFor } from '../config/load.ts';
import {
  DETAIL_TYPES,
  type EcrImageScanDetail,
  type InspectorFindingDetail,
  type InspectorScanDetail,
} from '../events/schemas.ts';
import type { ServiceDeps } from '../runtime/service-deps.ts';
import { runScanVerdict, type ScanRunInput } from './act.ts';
import { findingOfEvent, imageOfFinding, repositoryNameOf } from './gather.ts';
import type { ScanVerdict } from './report.ts';

/** What the scan handler needs from the outside world; the handler wires the real ones, tests their own. */
export type OnScanResultDeps = Pick<
  ServiceDeps,
  'config' | 'gateway' | 'publish' | 'now' | 'logger' | 'metrics' | 'tracer'
>;

/** The three events that bring a scan result, as the handler's parser lets them through. */
export type ScanResultEvent = { id: string; time: string } & (
  | { source: 'aws.ecr'; detailType: 'ECR Image Scan'; detail: EcrImageScanDetail }
  | { source: 'aws.inspector2'; detailType: 'Inspector2 Scan'; detail: InspectorScanDetail }
  | { source: 'aws.inspector2'; detailType: 'Inspector2 Finding'; detail: InspectorFindingDetail }
);

/** The image an event is about, with the event's own view of it. */
function targetOf(event: ScanResultEvent): Pick<ScanRunInput, 'repositoryName' | 'digest' | 'eventTags' | 'trigger'> & {
  eventFinding?: ScanRunInput['eventFinding'];
} {
  const trigger = { eventId: event.id, eventTime: event.time, source: event.source, detailType: event.detailType };
  if (event.detailType === 'Inspector2 Finding') {
    const image = imageOfFinding(event.detail);
    if (!image) throw new Error('invariant: the parser lets through only findings about an ECR image');
    const eventFinding = findingOfEvent(event.detail);
    return {
      repositoryName: image.repositoryName,
      digest: image.digest,
      eventTags: image.tags,
      eventFinding,
      trigger: {
        ...trigger,
        finding: {
          findingArn: event.detail.findingArn,
          id: eventFinding.vulnerabilityId ?? eventFinding.title ?? event.detail.findingArn,
          status: event.detail.status,
        },
      },
    };
  }
  return {
    // Inspector2 Scan's `repository-name` holds the repository ARN (docs/ecr-limits.md#inspector-events).
    repositoryName: repositoryNameOf(event.detail['repository-name']),
    digest: event.detail['image-digest'],
    eventTags: event.detail['image-tags'],
    trigger,
  };
}

/**
 * One scan result: judge the image with its repository's scan policy (`runScanVerdict`), publish the "Image Scan
 * Verdict" on the service's bus, log it and emit metrics. The findings are read again from ECR every time, so the
 * same event delivered twice gives the same verdict, and a late event the verdict of the image as it is now.
 */
export async function runScan(event: ScanResultEvent, deps: OnScanResultDeps): Promise<ScanVerdict> {
  const config = deps.config();
  const gateway = deps.gateway({ readOnly: config.scan.dryRun });
  const target = targetOf(event);
  deps.tracer.putAnnotation('repository', target.repositoryName);
  deps.tracer.putAnnotation('dryRun', config.scan.dryRun);
  const verdict = await runScanVerdict(gateway, {
    ...target,
    match: scanRuleFor(config.scan, target.repositoryName),
    allowList: config.scan.allowList,
    now: deps.now(),
  });
  const published = await deps.publish([{ detailType: DETAIL_TYPES.imageScanVerdict, detail: verdict }]);
  const apiCalls = { ...gateway.callCounts(), PutEvents: published.calls };

  deps.metrics.addMetric('ScanVerdicts', MetricUnit.Count, 1);
  deps.metrics.addMetric('ScanFailVerdicts', MetricUnit.Count, verdict.verdict === 'FAIL' ? 1 : 0);
  deps.metrics.addMetric('ScanVerdictFlips', MetricUnit.Count, verdict.flip ? 1 : 0);
  deps.metrics.addMetric('ExpiredAllowListMatches', MetricUnit.Count, verdict.expiredEntries?.length ?? 0);
  deps.metrics.addMetric(
    'QuarantineActions',
    MetricUnit.Count,
    verdict.actions.filter((action) => action.result === 'done').length,
  );
  deps.logger.info('image scan verdict', { verdict, apiCalls });
  return verdict;
}
