import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCleanupRunReport } from '../../../shared/cleanup/entry-run-report.ts';
import type { CleanupFanOutReport, StoredCleanupReport } from '../../../shared/cleanup/report.ts';
import {
  aggregateRun,
  fanOutKey,
  organisationReportKey,
  reportKey,
  reportsPrefix,
} from '../../../shared/cleanup/run-store.ts';
import type { ServiceEvent } from '../../../shared/events/publisher.ts';
import { createS3Gateway } from '../../../shared/s3/index.ts';
import { testDeps } from '../../helpers/service-deps.ts';

/**
 * The organisation report of a cleanup run: the fan-out's report and each work item's figures meet in the reports
 * bucket (S3 mocked over an in-memory map), and the run report adds them up once every item has reported its end,
 * writes the report once and publishes it once.
 */
const A = '111111111111';
const B = '222222222222';
const RUN = 'run-1';
const PLANNED = '2026-12-01T03:00:00Z';
const BUCKET = 'reports';

const fanOut = (workItems: number, extra: Partial<CleanupFanOutReport> = {}): CleanupFanOutReport => ({
  runId: RUN,
  plannedAt: PLANNED,
  dryRun: false,
  repositories: workItems,
  workItems,
  notMatched: 0,
  pullTimeExclusion: 'registered',
  targets: [
    { account: A, region: 'eu-west-1', status: 'listed', repositories: 2, workItems: 2 },
    { account: B, region: 'eu-west-1', status: 'listed', repositories: 1, workItems: 1 },
    { account: B, region: 'us-east-1', status: 'failed', repositories: 0, workItems: 0, message: 'AccessDenied' },
  ],
  apiCalls: {},
  ...extra,
});

const stored = (overrides: Partial<StoredCleanupReport>): StoredCleanupReport => ({
  runId: RUN,
  account: A,
  region: 'eu-west-1',
  repositoryName: 'team/app',
  part: 1,
  dryRun: false,
  status: 'completed',
  images: 10,
  toDelete: 4,
  deleted: 4,
  archived: 0,
  failed: 0,
  bytesReclaimed: 4_000,
  ...overrides,
});

describe('aggregateRun', () => {
  it('adds up every part of every item per account, and names the failed targets and held repositories', () => {
    // Act
    const report = aggregateRun(
      fanOut(3),
      [
        [
          stored({ part: 1, status: 'continued', deleted: 2, bytesReclaimed: 2_000 }),
          stored({ part: 2, images: 6, deleted: 2, bytesReclaimed: 2_000 }),
        ],
        [stored({ repositoryName: 'team/web', deleted: 1, bytesReclaimed: 500, failed: 1 })],
        [stored({ account: B, repositoryName: 'svc/api', status: 'braked', deleted: 0, bytesReclaimed: 0 })],
      ],
      [],
      true,
    );
    // Assess
    expect(report.totals).toMatchObject({
      targets: 3,
      failedTargets: 1,
      workItems: 3,
      reported: 3,
      notReported: 0,
      images: 30,
      deleted: 5,
      failed: 1,
      bytesReclaimed: 4_500,
    });
    expect(report.accounts).toEqual([
      expect.objectContaining({
        account: A,
        repositories: 2,
        deleted: 5,
        bytesReclaimed: 4_500,
        failedRepositories: 1,
      }),
      expect.objectContaining({
        account: B,
        regions: ['eu-west-1', 'us-east-1'],
        repositories: 1,
        failedTargets: 1,
        failedRepositories: 1,
      }),
    ]);
    expect(report.failedTargets).toEqual([{ account: B, region: 'us-east-1', message: 'AccessDenied' }]);
    expect(report.repositories.map((entry) => `${entry.repositoryName}:${entry.status}`)).toEqual([
      'team/web:completed',
      'svc/api:braked',
    ]);
  });
});

describe('the run report', () => {
  const s3 = mockClient(S3Client);
  let objects: Map<string, string>;
  let published: ServiceEvent[];
  let now: number;

  beforeEach(() => {
    s3.reset();
    objects = new Map();
    published = [];
    now = Date.parse(PLANNED) + 60 * 60_000;
    s3.on(PutObjectCommand).callsFake(async (input: { Key: string; Body: string; IfNoneMatch?: string }) => {
      if (input.IfNoneMatch === '*' && objects.has(input.Key)) {
        throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
          name: 'PreconditionFailed',
          $metadata: { httpStatusCode: 412 },
        });
      }
      objects.set(input.Key, input.Body);
      return {};
    });
    s3.on(GetObjectCommand).callsFake(async (input: { Key: string }) => {
      const body = objects.get(input.Key);
      if (body === undefined) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
      return { Body: Readable.from([Buffer.from(body)]) };
    });
    s3.on(ListObjectsV2Command).callsFake(async (input: { Prefix: string; Delimiter?: string }) => {
      const keys = [...objects.keys()].filter((key) => key.startsWith(input.Prefix)).sort();
      if (input.Delimiter === undefined) return { Contents: keys.map((Key) => ({ Key })), IsTruncated: false };
      const contents: string[] = [];
      const prefixes = new Set<string>();
      for (const key of keys) {
        const rest = key.slice(input.Prefix.length);
        const at = rest.indexOf(input.Delimiter);
        if (at < 0) contents.push(key);
        else prefixes.add(input.Prefix + rest.slice(0, at + 1));
      }
      return {
        Contents: contents.map((Key) => ({ Key })),
        CommonPrefixes: [...prefixes].map((Prefix) => ({ Prefix })),
        IsTruncated: false,
      };
    });
  });
  afterEach(() => s3.reset());

  const deps = () =>
    testDeps({
      now: () => now,
      reports: { bucket: BUCKET, gateway: createS3Gateway(new S3Client({ region: 'eu-west-1' })) },
      publish: async (events) => {
        published.push(...events);
        return { calls: 1 };
      },
    });
  const put = (key: string, body: unknown) => objects.set(key, JSON.stringify(body));

  it('waits for the items still working, then reports once every item has its end, and only once', async () => {
    // Prepare: two items; the second has only its first part
    put(fanOutKey(RUN), fanOut(2, { targets: undefined }));
    put(reportKey(stored({})), stored({}));
    put(
      reportKey(stored({ repositoryName: 'team/web', status: 'continued' })),
      stored({ repositoryName: 'team/web', status: 'continued' }),
    );
    // Act
    const waiting = await runCleanupRunReport(deps());
    // Assess
    expect(waiting).toMatchObject({ reported: [], waiting: [RUN] });
    expect(published).toEqual([]);
    // Act: the follow-up part ends it
    put(reportKey(stored({ repositoryName: 'team/web', part: 2 })), stored({ repositoryName: 'team/web', part: 2 }));
    const done = await runCleanupRunReport(deps());
    const again = await runCleanupRunReport(deps());
    // Assess
    expect(done.reported).toEqual([RUN]);
    expect(again).toMatchObject({ reported: [], waiting: [], skipped: 1 });
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      detailType: 'Organisation Cleanup Report',
      detail: { runId: RUN, complete: true, totals: { reported: 2, deleted: 12, bytesReclaimed: 12_000 } },
    });
    expect(JSON.parse(objects.get(organisationReportKey(RUN)) ?? '{}')).toEqual(published[0]?.detail);
  });

  it('reports a day after the run what it has, naming the item that never ended and counting those never heard of', async () => {
    // Prepare: three items expected; one finished, one stuck after its first part, one never reported
    put(fanOutKey(RUN), fanOut(3, { targets: undefined }));
    put(reportKey(stored({})), stored({}));
    put(
      reportKey(stored({ account: B, repositoryName: 'svc/api', status: 'continued' })),
      stored({ account: B, repositoryName: 'svc/api', status: 'continued' }),
    );
    now = Date.parse(PLANNED) + 25 * 60 * 60_000;
    // Act
    await runCleanupRunReport(deps());
    // Assess
    expect(published[0]?.detail).toMatchObject({
      complete: false,
      totals: { workItems: 3, reported: 1, notReported: 2 },
      repositories: [{ account: B, region: 'eu-west-1', repositoryName: 'svc/api', status: 'not-reported' }],
    });
  });

  it('leaves out a stored report that does not parse, and still reports the run', async () => {
    // Prepare
    put(fanOutKey(RUN), fanOut(1, { targets: undefined }));
    put(reportKey(stored({})), stored({}));
    objects.set(`${reportsPrefix(RUN)}x/y/private/z/part-1.json`, '{"forged": true}');
    // Act
    await runCleanupRunReport(deps());
    // Assess
    expect(published[0]?.detail).toMatchObject({ complete: true, totals: { reported: 1, deleted: 4 } });
  });

  it('leaves out a stored report that is not JSON or larger than any report, and skips a run whose fan-out report is forged', async () => {
    // Prepare: run-1 has a good report, one not JSON and one of 2 MB; run-2's fan-out report is not one
    put(fanOutKey(RUN), fanOut(1, { targets: undefined }));
    put(reportKey(stored({})), stored({}));
    objects.set(`${reportsPrefix(RUN)}x/y/private/a/part-1.json`, '{not json');
    objects.set(`${reportsPrefix(RUN)}x/y/private/b/part-1.json`, `"${'x'.repeat(2_000_000)}"`);
    put(fanOutKey('run-2'), { runId: 'run-2', workItems: -1 });
    // Act
    const summary = await runCleanupRunReport(deps());
    // Assess
    expect(summary).toMatchObject({ reported: [RUN], skipped: 1 });
    expect(published).toHaveLength(1);
    expect(published[0]?.detail).toMatchObject({ runId: RUN, complete: true, totals: { reported: 1 } });
    expect(objects.has(organisationReportKey('run-2'))).toBe(false);
  });

  it('keeps every key of a hostile name inside its run’s prefix', () => {
    // Act
    const key = reportKey(stored({ runId: '../other-run', repositoryName: '../../x', account: '../..' }));
    // Assess
    expect(key.startsWith('cleanup-runs/..%2Fother-run/reports/')).toBe(true);
    expect(key.split('/').filter((segment) => segment === '..')).toEqual([]);
  });
});
