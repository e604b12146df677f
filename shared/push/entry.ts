import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { pushRuleFor } from '../config/load.ts';
import { DETAIL_TYPES, type EcrImagePushDetail } from '../events/schemas.ts';
import type { ServiceDeps } from '../runtime/service-deps.ts';
import { runPushPolicy } from './act.ts';
import type { PushVerdict } from './report.ts';

/** What the push handler needs from the outside world; the handler wires the real ones, tests their own. */
export type OnImagePushDeps = Pick<ServiceDeps, 'config' | 'gateway' | 'publish' | 'logger' | 'metrics' | 'tracer'>;

/**
 * One "ECR Image Action" PUSH: judge the pushed image with its repository's push policy (`runPushPolicy`), publish the
 * "Image Push Verdict" on the service's bus, log it and emit metrics. The same event delivered twice, or a second
 * push of the same digest, starts no second scan and removes nothing more.
 */
export async function runPush(
  event: { id: string; time: string; detail: EcrImagePushDetail },
  deps: OnImagePushDeps,
): Promise<PushVerdict> {
  const config = deps.config();
  const gateway = deps.gateway({ readOnly: config.push.dryRun });
  const repositoryName = event.detail['repository-name'];
  deps.tracer.putAnnotation('repository', repositoryName);
  deps.tracer.putAnnotation('dryRun', config.push.dryRun);
  const pushedTag = event.detail['image-tag'];
  const verdict = await runPushPolicy(gateway, {
    eventId: event.id,
    eventTime: event.time,
    repositoryName,
    digest: event.detail['image-digest'],
    ...(pushedTag === undefined ? {} : { pushedTag }),
    match: pushRuleFor(config.push, repositoryName),
  });
  const published = await deps.publish([{ detailType: DETAIL_TYPES.imagePushVerdict, detail: verdict }]);
  const apiCalls = { ...gateway.callCounts(), PutEvents: published.calls };

  const count = (action: PushVerdict['actions'][number]['action']) =>
    verdict.actions.filter((entry) => entry.action === action && entry.result === 'done').length;
  deps.metrics.addMetric('PushVerdicts', MetricUnit.Count, 1);
  deps.metrics.addMetric('PushViolations', MetricUnit.Count, verdict.checks?.tags.violations.length ?? 0);
  deps.metrics.addMetric('ScansStarted', MetricUnit.Count, count('start-scan'));
  deps.metrics.addMetric('TagsRemoved', MetricUnit.Count, count('remove-tag'));
  deps.metrics.addMetric('TagMutabilityCorrected', MetricUnit.Count, count('set-tag-mutability'));
  deps.metrics.addMetric(
    'EcrCalls',
    MetricUnit.Count,
    Object.entries(apiCalls).reduce((sum, [operation, n]) => sum + (operation === 'PutEvents' ? 0 : n), 0),
  );
  deps.logger.info('image push verdict', { verdict, apiCalls });
  return verdict;
}
