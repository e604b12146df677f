import { describe, expect, it } from 'vitest';
import { formatReason, renderPlan } from '../../../cli/commands/format.ts';
import { NOW } from '../../helpers/images.ts';

describe('formatReason for tag retention and images in use', () => {
  it('names the selection and condition that keeps an image, and the tags that go with a deleted one', () => {
    // Act
    const kept = formatReason(
      {
        code: 'retained',
        tag: 'pr-7',
        selection: 1,
        condition: 'keepLast',
        rank: 7,
        explanation: 'keepLast 20 of pr-* (rank 7)',
      },
      NOW,
    );
    const deleted = formatReason(
      {
        code: 'released',
        tags: ['pr-3', 'pr-3b'],
        explanations: ['pr-3: pr-* beyond keepLast 20 (rank 21)', 'pr-3b: pr-* beyond keepLast 20 (rank 21)'],
      },
      NOW,
    );
    // Assess
    expect(kept).toBe('kept: keepLast 20 of pr-* (rank 7) [pr-7]');
    expect(deleted).toBe(
      'deleted with tags pr-3,pr-3b: pr-3: pr-* beyond keepLast 20 (rank 21); pr-3b: pr-* beyond keepLast 20 (rank 21)',
    );
  });

  it('says where an image runs, why nothing is deleted when that is unknown, and the tagged brake', () => {
    // Act
    const inUse = formatReason({ code: 'in-use', usedBy: [{ provider: 'lambda', where: 'fn:live' }] }, NOW);
    const unknown = formatReason({ code: 'in-use-unknown', message: 'ecs: timed out' }, NOW);
    const brake = formatReason(
      { code: 'tagged-safety-brake', wouldDelete: 3, total: 10, maxTaggedDeleteFraction: 0.1 },
      NOW,
    );
    // Assess
    expect(inUse).toBe('in-use (lambda fn:live)');
    expect(unknown).toBe('in-use-unknown (ecs: timed out)');
    expect(brake).toBe('tagged-safety-brake (would delete 3/10 tagged)');
  });
});

describe('renderPlan when what runs could not be read', () => {
  it('says once why every image is kept, not on every row', () => {
    // Prepare
    const message =
      'what runs could not be read (ecs: timed out), so nothing is deleted in this repository in this run';
    const keep = (digest: string) => ({
      digest,
      action: 'keep' as const,
      reason: { code: 'in-use-unknown' as const, message },
      tags: [],
      sizeInBytes: 10,
    });
    const plan = {
      repositoryName: 'team/app',
      plannedAt: new Date(NOW).toISOString(),
      decisions: [keep(`sha256:${'a'.repeat(64)}`), keep(`sha256:${'b'.repeat(64)}`)],
      toDelete: [],
      bytesReclaimed: 0,
    };

    // Act
    const lines = renderPlan(plan, 'rule #0, in-use-unknown', NOW);

    // Assess
    expect(lines.filter((line) => line.includes(message))).toEqual([`  every image kept: ${message}`]);
    expect(lines.filter((line) => line.includes('in-use-unknown (see above)'))).toHaveLength(2);
  });
});
