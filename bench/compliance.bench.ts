import '../cli/quiet-logs.ts';
import { performance } from 'node:perf_hooks';
import type { FixtureRepository } from '@ecr-automation/local-registry';
import { runCompliance } from '../shared/compliance/entry.ts';
import { parseConfig } from '../shared/config/load.ts';
import { createEcrClient, createEcrGateway } from '../shared/ecr/index.ts';
import { observability } from '../shared/obs/index.ts';
import { emit, intEnv, progress, round, startRegistryProcess } from './lib.ts';

/**
 * The compliance scan of BENCH_COMPLIANCE_REPOSITORIES repositories (default 5,000) on the local registry, in its own
 * process, through the real SDK client over loopback HTTP, in report mode with every per-repository check on
 * (lifecycle policy, repository policy, required tags) plus scan on push:
 *
 * 1. ECR calls against the floor: one DescribeRepositories page per 1,000 repositories, one
 *    GetRegistryScanningConfiguration for the whole run, and per repository one GetLifecyclePolicy, one
 *    GetRepositoryPolicy and one ListTagsForResource (ECR has no batch form of any of the three).
 * 2. Wall time of the scan (handler body: list, read, check, report; publishing is counted, not sent).
 *
 * A quarter of the repositories drift (mutable tags, no lifecycle policy, a missing tag, a public policy).
 */
const REPOSITORIES = intEnv('BENCH_COMPLIANCE_REPOSITORIES', 5_000);
const CONCURRENCY = intEnv('BENCH_COMPLIANCE_CONCURRENCY', 8);

const LIFECYCLE = {
  rules: [
    {
      rulePriority: 1,
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 },
      action: { type: 'expire' },
    },
  ],
};
const policy = (principal: unknown) => ({
  Version: '2012-10-17',
  Statement: [{ Sid: 'Pull', Effect: 'Allow', Principal: principal, Action: ['ecr:BatchGetImage'] }],
});

function repository(index: number): FixtureRepository {
  const drifted = index % 4 === 0;
  return {
    name: `team-${index % 50}/service-${index}`,
    imageTagMutability: drifted ? 'MUTABLE' : 'IMMUTABLE',
    scanOnPush: !drifted,
    tags: drifted ? { team: `team-${index % 50}` } : { team: `team-${index % 50}`, 'cost-center': 'cc-1' },
    ...(drifted ? {} : { lifecyclePolicy: LIFECYCLE }),
    repositoryPolicy: policy(drifted ? '*' : { AWS: 'arn:aws:iam::123456789012:root' }),
  };
}

const config = parseConfig({
  compliance: {
    concurrency: CONCURRENCY,
    defaults: {
      mode: 'report',
      tagMutability: { setting: 'IMMUTABLE' },
      scanOnPush: true,
      lifecyclePolicy: LIFECYCLE,
      repositoryPolicy: { allowedAccounts: [] },
      requiredTags: ['team', 'cost-center'],
    },
    rules: [{ repositories: ['**'] }],
  },
});

const server = await startRegistryProcess();
try {
  progress(`compliance: loading ${REPOSITORIES} repositories`);
  const response = await fetch(`${server.url}/_local/load`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ repositories: Array.from({ length: REPOSITORIES }, (_, i) => repository(i)) }),
  });
  if (!response.ok) throw new Error(`load failed: HTTP ${response.status} ${await response.text()}`);
  const client = createEcrClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCALBENCH', secretAccessKey: 'local' },
  });
  let published = 0;
  progress(`compliance: scanning (${CONCURRENCY} repositories at a time)`);
  const started = performance.now();
  const report = await runCompliance(
    { id: 'bench', detail: {} },
    {
      config: () => config,
      gateway: ({ readOnly }) => createEcrGateway(client, { readOnly }),
      publicGateway: () => {
        throw new Error('the compliance benchmark checks private repositories only');
      },
      publish: async (events) => {
        published += events.length;
        return { calls: Math.ceil(events.length / 10) };
      },
      ...observability,
    },
  );
  const wallMs = performance.now() - started;
  if (report.counts.checked !== REPOSITORIES) {
    throw new Error(`checked ${report.counts.checked} repositories, expected ${REPOSITORIES}`);
  }
  const ecrCalls = Object.entries(report.apiCalls)
    .filter(([operation]) => operation !== 'PutEvents')
    .reduce((sum, [, n]) => sum + n, 0);
  const floor = Math.ceil(REPOSITORIES / 1000) + 1 + 3 * REPOSITORIES;
  emit({
    name: 'compliance_scan_ecr_calls',
    repositories: REPOSITORIES,
    value: ecrCalls,
    unit: 'calls',
    goal: `<= ${floor}`,
    floor,
    floorFormula:
      'ceil(repositories / 1000) DescribeRepositories + 1 GetRegistryScanningConfiguration + 3 per repository',
    calls: report.apiCalls,
  });
  emit({
    name: 'compliance_scan_wall_ms',
    repositories: REPOSITORIES,
    value: round(wallMs),
    unit: 'ms',
    goal: 'report',
    nonCompliant: report.counts.nonCompliant,
    events: published,
    concurrency: CONCURRENCY,
  });
} finally {
  await server.stop();
}
