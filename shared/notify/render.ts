import { z } from 'zod';
import {
  type CleanupFanOutReport,
  CleanupFanOutReportSchema,
  type CleanupReport,
  CleanupReportSchema,
  type OrganisationCleanupReport,
  OrganisationCleanupReportSchema,
} from '../cleanup/report.ts';
import { fanOutKey, organisationReportKey } from '../cleanup/run-store.ts';
import { type ComplianceReport, ComplianceReportSchema } from '../compliance/report.ts';
import { DETAIL_TYPES } from '../events/schemas.ts';
import { SEVERITIES } from '../policy/scan/findings.ts';
import { type ReconcileReport, ReconcileReportSchema } from '../reconcile/report.ts';
import {
  type AllowListReportEvent,
  AllowListReportEventSchema,
  type ScanVerdict,
  ScanVerdictSchema,
} from '../scan/report.ts';
import { bytes, clean, count, messageOf, objectLinks, plural, section, subjectOf } from './text.ts';

/**
 * The notification of one of the service's events, as people read it in an email or a chat: a subject (what
 * happened, how much, where) and a plain-text message (the figures, the account, region and repository, the lists
 * bounded with "and N more", and a link to the report object when one was stored). Pure: no AWS, no clock; every
 * field comes from the event, so every one is validated by the event's own schema and cleaned before it is shown,
 * and a malformed event is a value (`invalid`), never an exception.
 */

export interface Notification {
  /** At most 99 printable ASCII characters (SNS's limit). */
  readonly subject: string;
  /** Plain text, at most MAX_MESSAGE_BYTES of UTF-8. */
  readonly message: string;
}

export type Rendered =
  | { readonly kind: 'notification'; readonly eventId: string; readonly notification: Notification }
  /** A well-formed event no one is told about (a PASS verdict, an event of another kind). */
  | { readonly kind: 'ignored'; readonly eventId: string; readonly reason: string }
  /** Not an event of the service, or its detail does not match its schema. */
  | {
      readonly kind: 'invalid';
      readonly eventId?: string;
      readonly reason: string;
      readonly issues: readonly string[];
    };

export interface RenderOptions {
  /** The reports bucket (`REPORTS_BUCKET`): the cleanup runs' reports stored there are linked. */
  readonly reportsBucket?: string | undefined;
}

/** The EventBridge envelope of the service's events (`source: ecr-automation`). */
const EnvelopeSchema = z.object({
  id: z.string().min(1).max(128),
  'detail-type': z.string().min(1).max(128),
  source: z.literal('ecr-automation'),
  account: z.string().regex(/^\d{12}$/),
  region: z.string().regex(/^[a-z]{2}(?:-[a-z]+){1,3}-\d{1,2}$/),
  time: z.string().max(64),
  detail: z.unknown(),
});

/** Where an event happened: the report's target, else the event's own account and region. */
interface Place {
  readonly account: string;
  readonly region: string;
}

interface Context {
  readonly eventId: string;
  readonly time: string;
  readonly place: Place;
  readonly options: RenderOptions;
}

const placeOf = (detail: { account?: string | undefined; region?: string | undefined }, envelope: Place): Place => ({
  account: clean(detail.account ?? envelope.account, 64),
  region: clean(detail.region ?? envelope.region, 64),
});

const where = (place: Place, repository?: string, registry?: 'public' | 'private') =>
  [
    `Account: ${place.account}`,
    `Region: ${registry === 'public' ? 'us-east-1 (ECR Public)' : place.region}`,
    ...(repository === undefined ? [] : [`Repository: ${clean(repository, 256)}`]),
  ].join('\n');

const dryRunNote = (dryRun: boolean) => (dryRun ? ['', 'Dry run: nothing was changed.'] : []);

const footer = (context: Context, links: readonly string[] = []) => [
  ...(links.length > 0 ? ['', 'Report:', ...links] : []),
  '',
  '--',
  `ecr-automation, event ${clean(context.eventId, 128)} at ${clean(context.time, 64)}`,
];

const linksOf = (context: Context, key: string) =>
  context.options.reportsBucket === undefined
    ? []
    : objectLinks(context.options.reportsBucket, key, context.place.region);

// ---------------------------------------------------------------------------------------------------------------
// Image Scan Verdict (FAIL only)

const severityCounts = (counts: Partial<Record<(typeof SEVERITIES)[number], number>>) =>
  SEVERITIES.flatMap((severity) => {
    const value = counts[severity] ?? 0;
    return value > 0 ? [`${severity} ${count(value)}`] : [];
  }).join(', ') || 'none';

const shortDigest = (digest: string) => clean(digest, 19);

function renderScanVerdict(verdict: ScanVerdict, context: Context): Rendered {
  if (verdict.verdict !== 'FAIL') {
    return { kind: 'ignored', eventId: context.eventId, reason: `a ${verdict.verdict} verdict: only FAIL is sent` };
  }
  const repository = clean(verdict.repositoryName, 256);
  const tag = verdict.tags[0];
  const image = tag === undefined ? `${repository}@${shortDigest(verdict.digest)}` : `${repository}:${clean(tag, 128)}`;
  const counted = verdict.counts?.counted ?? {};
  // The subject names the three most severe counts: `1 critical, 2 high, 5 medium`.
  const top = SEVERITIES.flatMap((severity) => {
    const value = counted[severity] ?? 0;
    return value > 0 ? [`${count(value)} ${severity.toLowerCase()}`] : [];
  }).slice(0, 3);
  const headline = verdict.reason
    ? `its scan did not complete (${clean(verdict.reason.scanStatus, 64)})`
    : top.length > 0
      ? top.join(', ')
      : plural(verdict.blockingTotal ?? verdict.blocking?.length ?? 0, 'blocking finding');
  const lines = [
    verdict.reason
      ? `The image ${image} fails its scan policy: ${clean(verdict.reason.message, 300)}`
      : `The image ${image} fails its scan policy${verdict.ruleIndex === undefined ? '' : ` (scan rule #${verdict.ruleIndex}${verdict.mode ? `, ${verdict.mode} mode` : ''})`}.`,
    '',
    where(context.place, verdict.repositoryName),
    `Digest: ${clean(verdict.digest, 80)}`,
    `Tags: ${
      verdict.tags.length === 0
        ? '(none)'
        : `${verdict.tags
            .slice(0, 10)
            .map((t) => clean(t, 128))
            .join(', ')}${verdict.tags.length > 10 ? ` and ${count(verdict.tags.length - 10)} more` : ''}`
    }`,
    ...(verdict.scan
      ? [
          `Scan: ${clean(verdict.scan.type, 16)} ${clean(verdict.scan.status, 64)}, ${plural(verdict.scan.findings, 'finding')}`,
        ]
      : []),
    ...(verdict.counts
      ? [
          '',
          `Findings that count, by severity: ${severityCounts(counted)}`,
          `All findings, by severity: ${severityCounts(verdict.counts.found)}`,
          `Allowed by the allow-list: ${count(verdict.counts.allowed)}; ignored: ${count(verdict.counts.ignored.closed)} closed, ${count(verdict.counts.ignored.suppressed)} suppressed, ${count(verdict.counts.ignored.noFix)} without a fix`,
        ]
      : []),
    ...(verdict.flip ? ['', `The verdict changed from ${verdict.flip.from} to ${verdict.flip.to}.`] : []),
    ...section('Why it fails', verdict.breaches ?? [], (breach) =>
      breach.code === 'severity-count'
        ? `${plural(breach.count, `${breach.severity} finding`)}, at most ${count(breach.max)} allowed`
        : `${plural(breach.count, 'finding')} with a CVSS score of ${breach.threshold} or more`,
    ),
    ...section(
      'Blocking findings',
      verdict.blocking ?? [],
      (finding) =>
        [
          `${clean(finding.id, 128)} ${finding.severity}`,
          finding.package === undefined ? '' : ` in ${clean(finding.package, 128)}`,
          finding.fixedInVersion === undefined ? '' : `, fixed in ${clean(finding.fixedInVersion, 64)}`,
          finding.cvss === undefined ? '' : `, CVSS ${finding.cvss}`,
          finding.exploitAvailable ? ', exploit available' : '',
        ].join(''),
      verdict.blockingTotal,
    ),
    ...section(
      'Actions',
      verdict.actions,
      (action) =>
        `${action.action} ${clean(action.tag, 128)}: ${action.result}${action.message ? ` (${clean(action.message, 200)})` : ''}`,
    ),
    ...section(
      'Expired allow-list entries that would have allowed findings',
      verdict.expiredEntries ?? [],
      (entry) => `${clean(entry.id, 128)} (owner ${clean(entry.owner, 128)}, expired ${clean(entry.expires, 32)})`,
    ),
    ...dryRunNote(verdict.dryRun),
    ...footer(context),
  ];
  return notification(context, `Scan FAIL: ${image} - ${headline}`, lines);
}

// ---------------------------------------------------------------------------------------------------------------
// Cleanup Report (one repository)

const CLEANUP_STATUS_TEXT: Readonly<Record<CleanupReport['status'], string>> = {
  completed: 'cleaned',
  continued: 'partly cleaned (continued by a follow-up)',
  braked: 'held by the safety brake',
  'in-use-unknown': 'left alone: what runs could not be read',
  'dry-run': 'planned (dry run)',
  'nothing-to-do': 'had nothing to clean',
  'repository-gone': 'was gone',
  'not-matched': 'matched no cleanup rule',
  'target-unavailable': 'could not be reached',
};

function renderCleanupReport(report: CleanupReport, context: Context): Rendered {
  const repository = clean(report.repositoryName, 256);
  const c = report.counts;
  const would = report.dryRun || report.status === 'braked';
  const figure = would
    ? `${plural(c.toDelete, 'image')} would be deleted (${bytes(report.bytesReclaimed)})`
    : c.deleted === 0 && c.failed === 0
      ? 'nothing deleted'
      : `${plural(c.deleted, 'image')} deleted (${bytes(report.bytesReclaimed)})${c.failed > 0 ? `, ${count(c.failed)} failed` : ''}`;
  const lines = [
    `Cleanup of ${repository}: ${CLEANUP_STATUS_TEXT[report.status]}; ${figure}.`,
    '',
    where(context.place, report.repositoryName, report.registry),
    `Run: ${clean(report.runId, 128)}, part ${report.part}, planned at ${clean(report.plannedAt, 64)}`,
    '',
    `Images: ${count(c.images)}; to delete: ${count(c.toDelete)}; deleted: ${count(c.deleted)}; already gone: ${count(c.alreadyGone)}; failed: ${count(c.failed)}; kept: ${count(c.kept)}`,
    ...(c.toArchive === undefined ? [] : [`To archive: ${count(c.toArchive)}; archived: ${count(c.archived ?? 0)}`]),
    ...(c.changedSincePlan > 0
      ? [
          `Kept because they changed since the plan: ${count(c.changedSincePlan)} (and ${count(c.keptWithChanged)} with them)`,
        ]
      : []),
    `Storage ${would ? 'that would be' : ''} reclaimed: ${bytes(report.bytesReclaimed)}`.replace('  ', ' '),
    ...(report.brake ? ['', `Safety brake: ${clean(report.brake.message, 300)}`] : []),
    ...(report.message ? ['', clean(report.message, 500)] : []),
    ...section('Failures', report.failures, (failure) =>
      [
        failure.digest ? `${shortDigest(failure.digest)} ` : '',
        `${clean(failure.code, 64)}: ${clean(failure.reason, 200)}`,
      ].join(''),
    ),
    ...dryRunNote(report.dryRun),
    ...footer(context),
  ];
  return notification(context, `Cleanup ${report.status}: ${repository} - ${figure}`, lines);
}

// ---------------------------------------------------------------------------------------------------------------
// Cleanup Fan-Out Report

function renderFanOut(report: CleanupFanOutReport, context: Context): Rendered {
  const failed = (report.targets ?? []).filter((target) => target.status === 'failed');
  const lines = [
    `Cleanup run ${clean(report.runId, 128)} planned: ${plural(report.workItems, 'work item')} for ${plural(report.repositories, 'repository', 'repositories')} listed (${count(report.notMatched)} matched no rule).`,
    '',
    where(context.place),
    `Planned at: ${clean(report.plannedAt, 64)}`,
    ...(report.public
      ? [
          `ECR Public: ${plural(report.public.workItems, 'work item')} for ${plural(report.public.repositories, 'repository', 'repositories')}`,
        ]
      : []),
    `Pull-time update exclusion of the workers: ${clean(report.pullTimeExclusion, 200)}`,
    ...(report.targets
      ? [`Targets: ${count(report.targets.length)}, failed: ${count(report.failedTargets ?? failed.length)}`]
      : []),
    ...section(
      'Targets that failed',
      failed,
      (target) =>
        `${clean(target.account, 64)} ${clean(target.region, 64)}: ${clean(target.message ?? 'no message', 300)}`,
    ),
    ...dryRunNote(report.dryRun),
    ...footer(context, linksOf(context, fanOutKey(report.runId))),
  ];
  const failedText = failed.length > 0 ? `, ${plural(failed.length, 'target')} failed` : '';
  return notification(
    context,
    `Cleanup run planned: ${plural(report.workItems, 'work item')}${failedText}${report.dryRun ? ' (dry run)' : ''}`,
    lines,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Organisation Cleanup Report

function renderOrganisationReport(report: OrganisationCleanupReport, context: Context): Rendered {
  const t = report.totals;
  const would = report.dryRun;
  const figure = would
    ? `${plural(t.toDelete, 'image')} would be deleted (${bytes(t.bytesReclaimed)})`
    : `${plural(t.deleted, 'image')} deleted, ${bytes(t.bytesReclaimed)} reclaimed`;
  const lines = [
    `Cleanup run ${clean(report.runId, 128)}${report.complete ? '' : ' (incomplete: some work items never reported)'}: ${figure} across ${plural(t.targets, 'target')}.`,
    '',
    where(context.place),
    `Planned at: ${clean(report.plannedAt, 64)}`,
    '',
    `Work items: ${count(t.workItems)}; reported: ${count(t.reported)}; not reported: ${count(t.notReported)}`,
    `Images: ${count(t.images)}; to delete: ${count(t.toDelete)}; deleted: ${count(t.deleted)}; archived: ${count(t.archived)}; failed: ${count(t.failed)}`,
    `Storage reclaimed: ${bytes(t.bytesReclaimed)}`,
    `Targets: ${count(t.targets)}; failed: ${count(t.failedTargets)}`,
    ...section(
      'Per account',
      report.accounts,
      (a) =>
        `${clean(a.account, 64)} (${a.regions
          .slice(0, 5)
          .map((r) => clean(r, 32))
          .join(
            ', ',
          )}${a.regions.length > 5 ? ` and ${count(a.regions.length - 5)} more` : ''}): ${plural(a.deleted, 'image')} deleted, ${bytes(a.bytesReclaimed)}, ${count(a.failed)} failed, ${plural(a.failedRepositories, 'repository', 'repositories')} failed or held`,
    ),
    ...section(
      'Targets that failed',
      report.failedTargets,
      (target) => `${clean(target.account, 64)} ${clean(target.region, 64)}: ${clean(target.message, 300)}`,
    ),
    ...section(
      'Repositories that failed, were held or never reported',
      report.repositories,
      (r) =>
        `${[r.account, r.region]
          .filter((part) => part !== undefined)
          .map((part) => clean(part, 64))
          .join(
            ' ',
          )}${r.account || r.region ? ' ' : ''}${clean(r.repositoryName, 256)}${r.registry === 'public' ? ' (ECR Public)' : ''}: ${r.status}${r.failed ? `, ${count(r.failed)} failed` : ''}${r.message ? ` (${clean(r.message, 200)})` : ''}`,
    ),
    ...(report.truncated ? ['', 'The lists are shortened: the stored report has every entry.'] : []),
    ...dryRunNote(report.dryRun),
    ...footer(context, linksOf(context, organisationReportKey(report.runId))),
  ];
  return notification(context, `Cleanup run: ${figure}${report.complete ? '' : ' (incomplete)'}`, lines);
}

// ---------------------------------------------------------------------------------------------------------------
// Compliance Report

function renderCompliance(report: ComplianceReport, context: Context): Rendered {
  const c = report.counts;
  const byCheck = Object.entries(report.byCheck)
    .filter(([, value]) => (value ?? 0) > 0)
    .map(([check, value]) => `${check} ${count(value ?? 0)}`)
    .join(', ');
  const lines = [
    `Compliance run ${clean(report.runId, 128)}: ${count(c.nonCompliant)} of ${plural(c.checked, 'repository', 'repositories')} checked are not compliant; ${count(c.changed)} fixed.`,
    '',
    where(context.place),
    '',
    `Repositories: ${count(c.repositories)}; checked: ${count(c.checked)}; compliant: ${count(c.compliant)}; not compliant: ${count(c.nonCompliant)}; fixed: ${count(c.changed)}; fixes that failed: ${count(c.fixFailures)}; unreadable: ${count(c.failed)}; gone: ${count(c.gone)}`,
    ...(byCheck === '' ? [] : [`Failing findings by check: ${byCheck}`]),
    ...section(
      'Not compliant',
      report.nonCompliant,
      (r) =>
        `${r.account ? `${clean(r.account, 64)} ${clean(r.region ?? '', 64)} ` : ''}${clean(r.repositoryName, 256)}${r.registry === 'public' ? ' (ECR Public)' : ''}: ${[...new Set(r.findings.map((f) => f.check))].join(', ')}${r.fixed.length > 0 ? `; fixed ${r.fixed.join(', ')}` : ''}${r.fixFailures.length > 0 ? `; ${plural(r.fixFailures.length, 'fix', 'fixes')} failed` : ''}`,
      c.nonCompliant,
    ),
    ...section(
      'Repositories that could not be read',
      report.failed,
      (r) => `${clean(r.repositoryName, 256)}: ${clean(r.error, 200)}`,
      c.failed,
    ),
    ...section(
      'Targets that failed',
      (report.targets ?? []).filter((target) => target.status === 'failed'),
      (target) =>
        `${clean(target.account, 64)} ${clean(target.region, 64)}: ${clean(target.message ?? 'no message', 300)}`,
    ),
    ...(report.truncated ? ['', 'The lists are shortened: the log has every repository.'] : []),
    ...dryRunNote(report.dryRun),
    ...footer(context),
  ];
  return notification(
    context,
    `Compliance: ${count(c.nonCompliant)} of ${plural(c.checked, 'repository', 'repositories')} not compliant, ${count(c.changed)} fixed`,
    lines,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Registry Reconcile Report

const RECONCILE_STATUS_TEXT: Readonly<Record<ReconcileReport['status'], string>> = {
  'in-sync': 'in sync with the config',
  planned: 'out of sync: changes planned (dry run)',
  applied: 'changes applied',
  partial: 'some changes failed',
  invalid: 'the plan breaks ECR limits: nothing applied',
  'target-unavailable': 'the registry could not be reached',
};

function renderReconcile(report: ReconcileReport, context: Context): Rendered {
  const c = report.counts;
  const changes = c.create + c.update + c.replace + c.delete;
  const lines = [
    `Registry reconcile ${clean(report.runId, 128)}: ${RECONCILE_STATUS_TEXT[report.status]}; ${plural(changes, 'change')} (${count(c.create)} to create, ${count(c.update)} to update, ${count(c.replace)} to replace, ${count(c.delete)} to delete).`,
    '',
    where(context.place),
    ...(report.message ? ['', clean(report.message, 500)] : []),
    ...section('Applied', report.applied, (change) => clean(change, 300)),
    ...section(
      'Not applied',
      report.notApplied,
      (failure) => `${clean(failure.change, 200)}: ${clean(failure.error, 200)}`,
    ),
    ...section('Problems', report.problems, (problem) => clean(problem, 300)),
    ...(report.applied.length === 0
      ? section('Planned', report.changes, (change) => `${change.action} ${change.resource} ${clean(change.key, 200)}`)
      : []),
    ...(report.truncated ? ['', 'The lists are shortened: the log has every change.'] : []),
    ...dryRunNote(report.dryRun),
    ...footer(context),
  ];
  return notification(context, `Registry reconcile ${report.status}: ${plural(changes, 'change')}`, lines);
}

// ---------------------------------------------------------------------------------------------------------------
// Allow List Report

function renderAllowList(report: AllowListReportEvent, context: Context): Rendered {
  const entry = (e: {
    id: string;
    package?: string | undefined;
    owner: string;
    repositories?: readonly string[] | undefined;
  }) =>
    `${clean(e.id, 128)}${e.package ? ` in ${clean(e.package, 128)}` : ''}${
      e.repositories
        ? ` (${e.repositories
            .slice(0, 3)
            .map((r) => clean(r, 128))
            .join(', ')}${e.repositories.length > 3 ? ', ...' : ''})`
        : ''
    }, owner ${clean(e.owner, 128)}`;
  const lines = [
    `Allow list: ${plural(report.expiring.length, 'entry', 'entries')} ${report.expiring.length === 1 ? 'expires' : 'expire'} within ${report.expiringWithinDays} days; ${plural(report.expired.length, 'expired entry', 'expired entries')} still listed.`,
    '',
    where(context.place),
    `Entries: ${count(report.total)}; in force: ${count(report.active)}`,
    ...section(
      'Expiring',
      report.expiring,
      (e) => `${entry(e)}: expires ${clean(e.expiresAt, 32)} (in ${plural(e.daysLeft, 'day')})`,
    ),
    ...section(
      'Expired (they no longer count: remove or renew them)',
      report.expired,
      (e) => `${entry(e)}: expired ${clean(e.expiresAt, 32)} (${plural(e.daysAgo, 'day')} ago)`,
    ),
    ...footer(context),
  ];
  return notification(
    context,
    `Allow list: ${count(report.expiring.length)} expiring, ${count(report.expired.length)} expired`,
    lines,
  );
}

// ---------------------------------------------------------------------------------------------------------------

const notification = (context: Context, subject: string, lines: readonly string[]): Rendered => ({
  kind: 'notification',
  eventId: context.eventId,
  notification: { subject: subjectOf(subject), message: messageOf(lines) },
});

/** A renderer per detail-type of what is sent: its schema (the one the service publishes with) and its text. */
const RENDERERS: Readonly<
  Record<string, { schema: z.ZodType; render: (detail: never, context: Context) => Rendered }>
> = {
  [DETAIL_TYPES.imageScanVerdict]: { schema: ScanVerdictSchema, render: renderScanVerdict },
  [DETAIL_TYPES.cleanupReport]: { schema: CleanupReportSchema, render: renderCleanupReport },
  [DETAIL_TYPES.cleanupFanOutReport]: { schema: CleanupFanOutReportSchema, render: renderFanOut },
  [DETAIL_TYPES.organisationCleanupReport]: {
    schema: OrganisationCleanupReportSchema,
    render: renderOrganisationReport,
  },
  [DETAIL_TYPES.complianceReport]: { schema: ComplianceReportSchema, render: renderCompliance },
  [DETAIL_TYPES.registryReconcileReport]: { schema: ReconcileReportSchema, render: renderReconcile },
  [DETAIL_TYPES.allowListReport]: { schema: AllowListReportEventSchema, render: renderAllowList },
};

/** The detail-types a notification is rendered for. */
export const NOTIFIED_DETAIL_TYPES: readonly string[] = Object.keys(RENDERERS);

/** At most this many of zod's issues are reported (a crafted detail can have thousands). */
const MAX_ISSUES = 10;
const issuesOf = (error: z.ZodError) =>
  error.issues
    .slice(0, MAX_ISSUES)
    .map((issue) => clean(`${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`, 300));

/** The notification of `event` (anything: it is validated here), or why there is none. Never throws. */
export function renderNotification(event: unknown, options: RenderOptions = {}): Rendered {
  const envelope = EnvelopeSchema.safeParse(event);
  if (!envelope.success) {
    const id = (event as { id?: unknown } | null)?.id;
    return {
      kind: 'invalid',
      ...(typeof id === 'string' ? { eventId: clean(id, 128) } : {}),
      reason: 'not an event of ecr-automation',
      issues: issuesOf(envelope.error),
    };
  }
  const { id, time, account, region, detail } = envelope.data;
  const detailType = envelope.data['detail-type'];
  const renderer = Object.hasOwn(RENDERERS, detailType) ? RENDERERS[detailType] : undefined;
  if (renderer === undefined) {
    return { kind: 'ignored', eventId: id, reason: `no notification for "${clean(detailType, 128)}" events` };
  }
  const parsed = renderer.schema.safeParse(detail);
  if (!parsed.success) {
    return {
      kind: 'invalid',
      eventId: id,
      reason: `the detail is not a valid "${detailType}"`,
      issues: issuesOf(parsed.error),
    };
  }
  const data = parsed.data as { account?: string; region?: string };
  const context: Context = { eventId: id, time, place: placeOf(data, { account, region }), options };
  try {
    return renderer.render(parsed.data as never, context);
  } catch (error) {
    // A bug of a renderer, not of the event: still a value, so that no event is retried for it.
    return {
      kind: 'invalid',
      eventId: id,
      reason: 'the notification could not be rendered',
      issues: [clean(String(error), 300)],
    };
  }
}
