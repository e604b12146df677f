import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ImageRecord } from '../../../shared/domain/image.ts';
import { cleanupPicture } from '../../../shared/pictures/cleanup.ts';
import { imageGraphPicture } from '../../../shared/pictures/graph.ts';
import { decodeReport, encodeReport } from '../../../shared/pictures/wire.ts';
import { DEFAULT_CLEANUP_RULE, planCleanup } from '../../../shared/policy/cleanup/plan.ts';
import { EMBED_JSON_LIMIT, embedData, scriptSafeJson } from '../../../ui/build.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const hex = (n: number) => n.toString(16).padStart(64, '0');
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** An index with two children and a signature, a stale untagged image with an OCI referrer, and `extra` more. */
function repository(extra = 0): ImageRecord[] {
  const images: ImageRecord[] = [
    { digest: `sha256:${hex(1)}`, tags: [], pushedAt: NOW - 90 * DAY, sizeInBytes: 100 },
    { digest: `sha256:${hex(2)}`, tags: [], pushedAt: NOW - 90 * DAY, sizeInBytes: 200 },
    {
      digest: `sha256:${hex(3)}`,
      tags: ['v1'],
      pushedAt: NOW - 90 * DAY,
      sizeInBytes: 10,
      manifestMediaType: OCI_INDEX,
      childDigests: [`sha256:${hex(1)}`, `sha256:${hex(2)}`],
    },
    { digest: `sha256:${hex(4)}`, tags: [`sha256-${hex(3)}.sig`], pushedAt: NOW - 90 * DAY, sizeInBytes: 1 },
    { digest: `sha256:${hex(5)}`, tags: [], pushedAt: NOW - 60 * DAY, sizeInBytes: 500 },
    {
      digest: `sha256:${hex(6)}`,
      tags: [],
      pushedAt: NOW - 60 * DAY,
      sizeInBytes: 1,
      subjectDigest: `sha256:${hex(5)}`,
    },
  ];
  for (let i = 0; i < extra; i++) {
    images.push({ digest: `sha256:${hex(1000 + i)}`, tags: [], pushedAt: NOW - 30 * DAY - i, sizeInBytes: 1_000 });
  }
  return images;
}

const pictureOf = (images: ImageRecord[]) => {
  const plan = planCleanup('team/app', images, { ...DEFAULT_CLEANUP_RULE, maxDeleteFraction: 1 }, NOW);
  return {
    plan,
    report: cleanupPicture({
      createdAt: new Date(NOW).toISOString(),
      region: 'us-east-1',
      repositories: [{ repositoryName: 'team/app', rule: DEFAULT_CLEANUP_RULE, ruleIndex: 2, images, plan }],
    }),
  };
};

describe('the image graph picture', () => {
  it('draws index → children and subject → referrers (OCI subject and the .sig tag), each node with its fate', () => {
    // Act
    const { report } = pictureOf(repository());
    const graph = report.graphs[0];

    // Assess
    expect(graph?.mode).toBe('images');
    expect(graph?.edges.map((edge) => `${edge.kind} ${edge.from.slice(-1)}→${edge.to.slice(-1)}`).sort()).toEqual([
      'child 3→1',
      'child 3→2',
      'referrer 3→4',
      'referrer 5→6',
    ]);
    const byDigest = new Map(graph?.nodes.map((node) => [node.id, node]));
    expect(byDigest.get(`sha256:${hex(3)}`)).toMatchObject({
      kind: 'index',
      action: 'keep',
      tags: ['v1'],
      reason: 'tagged v1',
    });
    expect(byDigest.get(`sha256:${hex(6)}`)).toMatchObject({
      kind: 'referrer',
      action: 'delete',
      reason: `refers to the deleted image sha256:${hex(5).slice(0, 12)}`,
    });
  });

  it('groups a repository beyond the limit by kind, action and reason, adding up images and edges', () => {
    // Act
    const { report } = pictureOf(repository(400));
    const graph = report.graphs[0];

    // Assess
    expect(graph?.mode).toBe('groups');
    expect(graph?.images).toBe(406);
    expect(graph?.nodes.reduce((sum, node) => sum + node.count, 0)).toBe(406);
    expect(graph?.nodes.length).toBeLessThan(10);
    const stale = graph?.nodes.find((node) => node.id === 'group:image:delete:stale-untagged');
    expect(stale).toMatchObject({ kind: 'group', of: 'image', count: 401, label: '401 images' });
    expect(graph?.edges.reduce((sum, edge) => sum + edge.count, 0)).toBe(4);
  });

  it('draws a graph without a plan as unplanned', () => {
    // Act
    const graph = imageGraphPicture('team/app', repository());

    // Assess
    expect(new Set(graph.nodes.map((node) => node.action))).toEqual(new Set(['unplanned']));
  });
});

describe('the cleanup picture', () => {
  it("sums the plan's figures per repository and per rule", () => {
    // Act
    const { plan, report } = pictureOf(repository());

    // Assess
    expect(report.summary).toMatchObject({
      total: 6,
      toDelete: plan.toDelete.length,
      kept: 6 - plan.toDelete.length,
      bytesToDelete: plan.bytesReclaimed,
      brake: 'not reached',
    });
    expect(report.summary.byRule.map((line) => [line.name, line.toDelete])).toEqual([
      ['rule #2', plan.toDelete.length],
    ]);
    expect(report.rows).toHaveLength(6);
  });
});

describe('the page data', () => {
  it('round-trips the report through its columns', () => {
    // Prepare
    const { report } = pictureOf(repository(20));

    // Act
    const back = decodeReport(JSON.parse(JSON.stringify(encodeReport(report))));

    // Assess
    expect(back).toEqual(report);
  });

  it('round-trips a report without rows, and subjects holding a newline', () => {
    // Prepare
    const { report } = pictureOf(repository());
    const empty = { ...report, rows: [] };
    const odd = { ...report, rows: report.rows.map((row, i) => ({ ...row, subject: i === 0 ? 'a\nb' : row.subject })) };

    // Act
    const back = [empty, odd].map((one) => decodeReport(JSON.parse(JSON.stringify(encodeReport(one)))));

    // Assess
    expect(back).toEqual([empty, odd]);
  });

  it('escapes what would end a script or break a line in JSON inside <script>', () => {
    // Prepare
    const value = { name: '</script><!--\u2028\u2029&' };

    // Act
    const text = scriptSafeJson(value);

    // Assess
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('embeds large data gzipped in base64, and small data as JSON', () => {
    // Prepare
    const large = { text: 'x'.repeat(EMBED_JSON_LIMIT + 1) };

    // Act
    const small = embedData('report-data', { a: '</script>' });
    const packed = embedData('report-data', large);

    // Assess
    expect(small).toBe('<script type="application/json" id="report-data">{"a":"\\u003c/script\\u003e"}</script>');
    const base64 = /^<script type="application\/gzip-base64" id="report-data">([A-Za-z0-9+/=]+)<\/script>$/.exec(
      packed,
    )?.[1];
    expect(JSON.parse(gunzipSync(Buffer.from(base64 ?? '', 'base64')).toString('utf8'))).toEqual(large);
    expect(() => embedData('"><script>', {})).toThrow(/not a plain id/);
  });
});
