import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Notification, type Rendered, renderNotification } from '../../../shared/notify/render.ts';
import { MAX_LIST_LINES, MAX_MESSAGE_BYTES, MAX_SUBJECT_CHARS, messageOf } from '../../../shared/notify/text.ts';

const EVENTS = resolve(import.meta.dirname, '../../../events');
// biome-ignore lint/suspicious/noExplicitAny: the samples are free-form JSON, changed field by field below
const sample = (name: string): any => JSON.parse(readFileSync(resolve(EVENTS, name), 'utf8'));
const BUCKET = 'acme-ecr-reports';

const notificationOf = (rendered: Rendered): Notification => {
  if (rendered.kind !== 'notification') throw new Error(`expected a notification, got ${JSON.stringify(rendered)}`);
  return rendered.notification;
};

/** SNS's rules for a subject: printable ASCII, one line, under 100 characters, not beginning with a space. */
const expectValidSubject = (subject: string) => {
  expect(subject.length).toBeGreaterThan(0);
  expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_CHARS);
  expect(subject).toMatch(/^[!-~][ -~]*$/);
};
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for the characters the renderer removes
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

describe('renderNotification: each report people are sent', () => {
  it('says which image fails its scan, with its findings by severity, the blocking ones and the actions taken', () => {
    // Act
    const { subject, message } = notificationOf(renderNotification(sample('image-scan-verdict.json')));
    // Assess
    expect(subject).toBe('Scan FAIL: payments/worker:2.6.0 - 1 critical, 1 high, 2 medium');
    expect(message).toContain('The image payments/worker:2.6.0 fails its scan policy (scan rule #0, enforce mode).');
    expect(message).toContain('Account: 123456789012\nRegion: us-east-1\nRepository: payments/worker');
    expect(message).toContain('Findings that count, by severity: CRITICAL 1, HIGH 1, MEDIUM 2, LOW 1');
    expect(message).toContain('- CVE-2024-3094 CRITICAL in xz-utils@5.6.0, fixed in 5.6.1, CVSS 10');
    expect(message).toContain('- quarantine-tag quarantined-edbe414a7e56: done');
    expect(message).toContain('- 1 CRITICAL finding, at most 0 allowed');
  });

  it('sends nothing for a PASS or SKIPPED verdict', () => {
    // Prepare
    const event = sample('image-scan-verdict.json');
    // Act
    const pass = renderNotification({ ...event, detail: { ...event.detail, verdict: 'PASS' } });
    const skipped = renderNotification({ ...event, detail: { ...event.detail, verdict: 'SKIPPED' } });
    // Assess
    expect(pass).toMatchObject({ kind: 'ignored', reason: 'a PASS verdict: only FAIL is sent' });
    expect(skipped.kind).toBe('ignored');
  });

  it('says a scan that did not complete fails the image, and why', () => {
    // Prepare
    const event = sample('image-scan-verdict.json');
    const detail = {
      ...event.detail,
      reason: {
        code: 'scan-failed',
        scanStatus: 'UNSUPPORTED_IMAGE',
        message: 'The operating system is not supported',
      },
    };
    delete detail.counts;
    delete detail.breaches;
    delete detail.blocking;
    // Act
    const { subject, message } = notificationOf(renderNotification({ ...event, detail }));
    // Assess
    expect(subject).toBe('Scan FAIL: payments/worker:2.6.0 - its scan did not complete (UNSUPPORTED_IMAGE)');
    expect(message).toContain('fails its scan policy: The operating system is not supported');
  });

  it('says a repository was held by the safety brake, how much it would delete and why it stopped', () => {
    // Act
    const { subject, message } = notificationOf(renderNotification(sample('notify-cleanup-report-braked.json')));
    // Assess
    expect(subject).toBe('Cleanup braked: web/frontend - 61 images would be deleted (1.7 GiB)');
    expect(message).toContain(
      'Cleanup of web/frontend: held by the safety brake; 61 images would be deleted (1.7 GiB).',
    );
    expect(message).toContain('Images: 100; to delete: 61; deleted: 0');
    expect(message).toContain('Safety brake: Refusing to delete 61 of 100 images (61.0%)');
  });

  it("names the target's account and region of a cleanup across an organisation, and ECR Public as such", () => {
    // Act
    const target = notificationOf(renderNotification(sample('cleanup-report-target-unavailable.json')));
    const publicReport = notificationOf(renderNotification(sample('cleanup-report-public.json')));
    // Assess
    expect(target.subject).toBe('Cleanup target-unavailable: team/service - nothing deleted');
    expect(target.message).toContain('Account: 444455556666\nRegion: eu-west-1\nRepository: team/service');
    expect(publicReport.message).toContain('Region: us-east-1 (ECR Public)');
  });

  it('sums up a cleanup run across the organisation in human units, per account, and links the stored report', () => {
    // Act
    const { subject, message } = notificationOf(
      renderNotification(sample('organisation-cleanup-report.json'), { reportsBucket: BUCKET }),
    );
    // Assess
    expect(subject).toBe('Cleanup run: 40,488 images deleted, 2.6 TiB reclaimed');
    expect(message).toContain('- 111122223333 (eu-west-1, us-east-1): 30,112 images deleted, 1.9 TiB, 3 failed');
    expect(message).toContain('- 111122223333 us-east-1 web/frontend: braked (Refusing to delete 61 of 100 images');
    expect(message).toContain(
      `s3://${BUCKET}/cleanup-runs/53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa/organisation-report.json`,
    );
    expect(message).toContain(
      `https://us-east-1.console.aws.amazon.com/s3/object/${BUCKET}?region=us-east-1&bucketType=general&prefix=cleanup-runs%2F53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa%2Forganisation-report.json`,
    );
  });

  it('links no report when no reports bucket is known, and gives only the s3:// URI outside the aws partition', () => {
    // Prepare
    const event = sample('organisation-cleanup-report.json');
    // Act
    const unlinked = notificationOf(renderNotification(event)).message;
    const china = notificationOf(renderNotification({ ...event, region: 'cn-north-1' }, { reportsBucket: BUCKET }));
    // Assess
    expect(unlinked).not.toContain('s3://');
    expect(unlinked).not.toContain('Report:');
    expect(china.message).toContain(`s3://${BUCKET}/cleanup-runs/`);
    expect(china.message).not.toContain('console.aws.amazon.com');
  });

  it("reports the nightly fan-out's work items and failed targets, linking its stored report", () => {
    // Act
    const { subject, message } = notificationOf(
      renderNotification(sample('cleanup-fan-out-report.json'), { reportsBucket: BUCKET }),
    );
    // Assess
    expect(subject).toBe('Cleanup run planned: 389 work items, 1 target failed');
    expect(message).toContain('- 444455556666 eu-west-1: Cannot assume role EcrAutomation');
    expect(message).toContain(`s3://${BUCKET}/cleanup-runs/53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa/fan-out.json`);
  });

  it('counts non-compliant repositories by check and lists them, "and N more" past the listed ones', () => {
    // Act
    const { subject, message } = notificationOf(renderNotification(sample('compliance-report.json')));
    // Assess
    expect(subject).toBe('Compliance: 4 of 6 repositories not compliant, 2 fixed');
    expect(message).toContain('- payments/api: tag-mutability, encryption; fixed put-tag-mutability');
    expect(message).toContain('- tools/cli (ECR Public): catalog-data');
    // The report lists 2 of its 4 (its own list is capped): the message counts the others.
    expect(message).toContain('- and 2 more');
  });

  it('says which registry changes were applied and which failed', () => {
    // Act
    const { subject, message } = notificationOf(renderNotification(sample('registry-reconcile-report.json')));
    // Assess
    expect(subject).toBe('Registry reconcile partial: 2 changes');
    expect(message).toContain('Applied:\n- update replication-rule team-a/');
    expect(message).toContain('Not applied:\n- create pull-through-cache-rule ecr-public: CreatePullThroughCacheRule');
  });

  it('lists the allow-list entries expiring and expired, with their owners', () => {
    // Act
    const { subject, message } = notificationOf(renderNotification(sample('allow-list-report.json')));
    // Assess
    expect(subject).toBe('Allow list: 1 expiring, 1 expired');
    expect(message).toContain('Allow list: 1 entry expires within 14 days; 1 expired entry still listed.');
    expect(message).toContain('- CVE-2023-4911 in glibc@2.37 (payments/*), owner payments-team: expires');
    expect(message).toContain('(22 days ago)');
  });

  it('sends nothing for the events no one is told about (work items, push verdicts, drift)', () => {
    // Act & Assess
    for (const name of ['cleanup-work-item.json', 'image-push-verdict.json', 'compliance-drift.json']) {
      expect(renderNotification(sample(name)).kind, name).toBe('ignored');
    }
  });
});

describe('renderNotification: hostile details', () => {
  it('shows at most 20 lines of a list of 5,000 findings, then "and N more", in a bounded message', () => {
    // Prepare
    const event = sample('image-scan-verdict.json');
    const finding = event.detail.blocking[0];
    const blocking = Array.from({ length: 5_000 }, (_, i) => ({ ...finding, id: `CVE-2026-${10_000 + i}` }));
    // Act
    const started = performance.now();
    const { message } = notificationOf(
      renderNotification({ ...event, detail: { ...event.detail, blocking, blockingTotal: 5_000 } }),
    );
    const elapsed = performance.now() - started;
    // Assess
    const listed = message.split('\n').filter((line) => line.startsWith('- CVE-2026-'));
    expect(listed).toHaveLength(MAX_LIST_LINES);
    expect(message).toContain(`- and ${(5_000 - MAX_LIST_LINES).toLocaleString('en-US')} more`);
    expect(Buffer.byteLength(message)).toBeLessThan(16_384);
    expect(elapsed).toBeLessThan(1_000);
  });

  it('removes control, zero-width and bidirectional characters, so no value adds a line or hides text', () => {
    // Prepare
    const event = sample('image-scan-verdict.json');
    const tags = ['2.6.0\r\nBcc: attacker@example.com', 'evil\u202egnp.exe', 'zero\u200bwidth\u0000nul\u001b[31m'];
    const detail = { ...event.detail, repositoryName: 'payments/worker\nRegion: eu-west-3', tags };
    // Act
    const { subject, message } = notificationOf(renderNotification({ ...event, detail }));
    // Assess
    expectValidSubject(subject);
    expect(subject).toBe(
      'Scan FAIL: payments/worker Region: eu-west-3:2.6.0 Bcc: attacker@example.com - 1 critical, 1 hig...',
    );
    expect(message).not.toMatch(CONTROL);
    expect(
      message.split('\n').filter((line) => line.startsWith('Bcc:') || line.startsWith('Region: eu-west-3')),
    ).toEqual([]);
    expect(message).toContain('Tags: 2.6.0 Bcc: attacker@example.com, evil gnp.exe, zero width nul [31m');
  });

  it('keeps a subject ASCII and under 100 characters, whatever the repository and tags', () => {
    // Prepare
    const event = sample('image-scan-verdict.json');
    const detail = { ...event.detail, repositoryName: `${'a/'.repeat(120)}b`, tags: ['版本-ü-😀'] };
    // Act
    const { subject } = notificationOf(renderNotification({ ...event, detail }));
    // Assess
    expectValidSubject(subject);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('shows a megabyte-long value as 200 characters and an ellipsis, quickly', () => {
    // Prepare
    const event = sample('notify-cleanup-report-braked.json');
    const brake = { ...event.detail.brake, message: `held ${'x'.repeat(1_000_000)}` };
    // Act
    const started = performance.now();
    const { message } = notificationOf(renderNotification({ ...event, detail: { ...event.detail, brake } }));
    // Assess
    expect(performance.now() - started).toBeLessThan(500);
    const line = message.split('\n').find((text) => text.startsWith('Safety brake: ')) ?? '';
    expect([...line.slice('Safety brake: '.length)]).toHaveLength(300);
    expect(line.endsWith('…')).toBe(true);
  });

  it('refuses a detail with a missing or mistyped field with the issues, and an event of another source', () => {
    // Prepare
    const event = sample('organisation-cleanup-report.json');
    const { totals: _, ...withoutTotals } = event.detail;
    // Act
    const missing = renderNotification({ ...event, detail: withoutTotals });
    const mistyped = renderNotification({ ...event, detail: { ...event.detail, dryRun: 'no' } });
    const foreign = renderNotification({ ...event, source: 'aws.ecr' });
    // Assess
    expect(missing).toMatchObject({
      kind: 'invalid',
      eventId: event.id,
      reason: 'the detail is not a valid "Organisation Cleanup Report"',
      issues: [expect.stringContaining('totals')],
    });
    expect(mistyped).toMatchObject({ kind: 'invalid', issues: [expect.stringContaining('dryRun')] });
    expect(foreign).toMatchObject({ kind: 'invalid', reason: 'not an event of ecr-automation' });
  });

  it('never throws, and renders only valid subjects and bounded messages, for any JSON value', () => {
    // Prepare
    const samples = ['image-scan-verdict.json', 'organisation-cleanup-report.json', 'compliance-report.json'].map(
      sample,
    );
    const mutated = fc.record({
      base: fc.constantFrom(...samples),
      field: fc.string({ maxLength: 12 }),
      value: fc.jsonValue({ maxDepth: 3 }),
    });
    // Act & Assess
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), mutated), (input) => {
        const event =
          typeof input === 'object' && input !== null && 'base' in input && 'field' in input
            ? { ...input.base, detail: { ...input.base.detail, [String(input.field)]: input.value } }
            : input;
        const rendered = renderNotification(event);
        if (rendered.kind === 'notification') {
          expectValidSubject(rendered.notification.subject);
          expect(Buffer.byteLength(rendered.notification.message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('cuts a message longer than the bound at a line, and says so', () => {
    // Prepare
    const lines = Array.from({ length: 2_000 }, (_, i) => `line ${i} ${'é'.repeat(40)}`);
    // Act
    const message = messageOf(lines);
    // Assess
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(message.endsWith('\n(The message was shortened: the report has the rest.)')).toBe(true);
    expect(
      message
        .split('\n')
        .slice(0, -1)
        .every((line) => /^line \d+ (é){40}$/.test(line)),
    ).toBe(true);
  });
});
