import { describe, expect, it } from 'vitest';
import { PLAN_FILE_VERSION, type PlanFile, parsePlanFile } from '../../../cli/commands/plan-file.ts';
import { fingerprintOf } from '../../../shared/cleanup/gather.ts';
import type { ImageRecord } from '../../../shared/domain/image.ts';
import { DEFAULT_CLEANUP_RULE, planCleanup } from '../../../shared/policy/cleanup/plan.ts';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const DAY = 86_400_000;
const digest = (n: number) => `sha256:${String(n).padStart(64, '0')}`;

describe('the plan file', () => {
  it('reads back every field a listing gives an image: scan status, archive status and time', () => {
    // Prepare: what DescribeImages gives (a scanned release, an archived index, its possible child, a stale image)
    const images: ImageRecord[] = [
      { digest: digest(1), tags: ['v1'], pushedAt: NOW - 60 * DAY, sizeInBytes: 10, scanStatus: 'COMPLETE' },
      {
        digest: digest(2),
        tags: [],
        pushedAt: NOW - 100 * DAY,
        sizeInBytes: 20,
        manifestMediaType: 'application/vnd.oci.image.index.v1+json',
        imageStatus: 'ARCHIVED',
        lastArchivedAt: NOW - 10 * DAY,
      },
      { digest: digest(3), tags: [], pushedAt: NOW - 101 * DAY, sizeInBytes: 30 },
      { digest: digest(4), tags: [], pushedAt: NOW - 50 * DAY, sizeInBytes: 40 },
    ];
    const plan = planCleanup('team/app', images, DEFAULT_CLEANUP_RULE, NOW);
    const file: PlanFile = {
      version: PLAN_FILE_VERSION,
      createdAt: new Date(NOW).toISOString(),
      region: 'us-east-1',
      repositories: [
        {
          repositoryName: 'team/app',
          fingerprint: fingerprintOf(images),
          rule: DEFAULT_CLEANUP_RULE,
          ruleIndex: 0,
          images,
          plan,
        },
      ],
    };
    // Act
    const read = parsePlanFile(JSON.stringify(file), 'plan.json');
    // Assess
    expect(read).toEqual(file);
    expect(plan.toDelete).toEqual([digest(4)]);
    expect(plan.decisions.map((decision) => decision.reason.code)).toEqual([
      'tagged',
      'archived',
      'may-be-child-of-archived-index',
      'stale-untagged',
    ]);
  });

  it('reads back an archiving plan, and refuses one whose toArchive is not its archive decisions', () => {
    // Prepare: two stale images archived, one archived long ago deleted
    const images: ImageRecord[] = [
      { digest: digest(1), tags: [], pushedAt: NOW - 100 * DAY, sizeInBytes: 10 },
      { digest: digest(2), tags: [], pushedAt: NOW - 100 * DAY, sizeInBytes: 20, lastActivatedAt: NOW - 90 * DAY },
      {
        digest: digest(3),
        tags: ['v0'],
        pushedAt: NOW - 300 * DAY,
        sizeInBytes: 30,
        imageStatus: 'ARCHIVED',
        lastArchivedAt: NOW - 200 * DAY,
      },
    ];
    const rule = {
      ...DEFAULT_CLEANUP_RULE,
      maxDeleteFraction: 1,
      action: 'archive' as const,
      deleteArchivedAfterDays: 180,
    };
    const plan = planCleanup('team/app', images, rule, NOW);
    const entry = { repositoryName: 'team/app', fingerprint: fingerprintOf(images), rule, ruleIndex: 0, images, plan };
    const file: PlanFile = {
      version: PLAN_FILE_VERSION,
      createdAt: new Date(NOW).toISOString(),
      region: 'us-east-1',
      repositories: [entry],
    };
    const tampered: PlanFile = { ...file, repositories: [{ ...entry, plan: { ...plan, toArchive: [digest(1)] } }] };
    // Act
    const read = parsePlanFile(JSON.stringify(file), 'plan.json');
    // Assess
    expect(read).toEqual(file);
    expect(plan.toArchive).toEqual([digest(1), digest(2)]);
    expect(plan.toDelete).toEqual([digest(3)]);
    expect(plan.decisions.map((decision) => decision.action)).toEqual(['archive', 'archive', 'delete']);
    expect(() => parsePlanFile(JSON.stringify(tampered), 'plan.json')).toThrow(
      /toArchive is not exactly the images whose decision is "archive"/,
    );
  });
});
