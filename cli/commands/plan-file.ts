import { closeSync, fstatSync, openSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { fingerprintOf } from '../../shared/cleanup/gather.ts';
import type { ImageRecord } from '../../shared/domain/image.ts';
import { TagSelectionSchema } from '../../shared/domain/settings.ts';
import { cleanupPlanDocument, PLAN_FORMAT_VERSION, type PlanDocument } from '../../shared/formats/plan-document.ts';
import { TOOL } from '../../shared/formats/tool.ts';
import type { CleanupPlan, CleanupRule } from '../../shared/policy/cleanup/plan.ts';
import { PlanFileError } from './errors.ts';

/**
 * The plan file `plan` writes and `apply` carries out: per repository, the rule that matched, the images the plan
 * saw (so that `apply` can name what changed, not only notice it), their fingerprint, and the plan with every
 * decision and its reason. Versioned: a file of another version is refused, never guessed at.
 */
export const PLAN_FILE_VERSION = 1;

const Digest = z.string().regex(/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, 'a digest like sha256:<hex>');
const IsoTime = z.iso.datetime({ offset: true });
const Count = z.number().int().min(0);

const ImageRecordSchema = z.strictObject({
  digest: Digest,
  tags: z.array(z.string()),
  pushedAt: z.number(),
  lastPulledAt: z.number().optional(),
  sizeInBytes: Count,
  manifestMediaType: z.string().optional(),
  artifactMediaType: z.string().optional(),
  subjectDigest: Digest.optional(),
  childDigests: z.array(Digest).optional(),
  scanStatus: z.string().optional(),
  imageStatus: z.enum(['ARCHIVED', 'ACTIVATING']).optional(),
  lastArchivedAt: z.number().optional(),
  lastActivatedAt: z.number().optional(),
}) satisfies z.ZodType<ImageRecord>;

const CleanupRuleSchema = z.strictObject({
  olderThanDays: Count,
  notPulledForDays: Count,
  quietPeriodMinutes: Count,
  keepLatestUntagged: Count,
  maxDeleteFraction: z.number().min(0).max(1),
  allowMassDelete: z.boolean(),
  tagSelections: z.array(TagSelectionSchema).optional(),
  maxTaggedDeleteFraction: z.number().min(0).max(1).optional(),
  action: z.enum(['delete', 'archive']).optional(),
  deleteArchivedAfterDays: z.number().int().min(1).optional(),
}) satisfies z.ZodType<CleanupRule>;

const BrakeSchema = z.strictObject({
  wouldDelete: Count,
  total: Count,
  maxDeleteFraction: z.number().min(0).max(1),
  message: z.string(),
  tagged: z.literal(true).optional(),
});

// Reasons are plain (not strict) objects: the planner may add detail (the brake's reason carries its message too),
// and a reason is only ever printed.
const KeepReasonSchema = z.discriminatedUnion('code', [
  z.object({ code: z.literal('tagged'), tags: z.array(z.string()) }),
  z.object({ code: z.literal('quiet-period'), pushedAt: IsoTime }),
  z.object({ code: z.literal('recently-pushed'), pushedAt: IsoTime, olderThanDays: Count }),
  z.object({ code: z.literal('recently-pulled'), lastActivityAt: IsoTime, notPulledForDays: Count }),
  z.object({ code: z.literal('keep-latest-untagged'), rank: Count }),
  z.object({ code: z.literal('child-of-kept-index'), via: Digest }),
  z.object({ code: z.literal('referrer-of-kept-image'), via: Digest }),
  z.object({
    code: z.literal('safety-brake'),
    wouldDelete: Count,
    total: Count,
    maxDeleteFraction: z.number(),
  }),
  z.object({
    code: z.literal('retained'),
    tag: z.string(),
    selection: Count,
    condition: z.enum(['protect', 'keepLast', 'keepNewerThanDays', 'keepPulledWithinDays']),
    explanation: z.string(),
    rank: Count.optional(),
  }),
  z.object({
    code: z.literal('in-use'),
    usedBy: z.array(z.object({ provider: z.enum(['ecs', 'lambda', 'k8s']), where: z.string() })),
  }),
  z.object({ code: z.literal('in-use-unknown'), message: z.string() }),
  z.object({
    code: z.literal('archived'),
    status: z.enum(['ARCHIVED', 'ACTIVATING']),
    lastArchivedAt: IsoTime.optional(),
  }),
  z.object({ code: z.literal('may-be-child-of-archived-index'), via: Digest }),
  z.object({
    code: z.literal('tagged-safety-brake'),
    wouldDelete: Count,
    total: Count,
    maxTaggedDeleteFraction: z.number(),
  }),
]);

const DeleteReasonSchema = z.discriminatedUnion('code', [
  z.object({ code: z.literal('stale-untagged'), pushedAt: IsoTime, lastPulledAt: IsoTime.optional() }),
  z.object({ code: z.literal('child-of-deleted-index'), via: Digest }),
  z.object({ code: z.literal('referrer-of-deleted-image'), via: Digest }),
  z.object({ code: z.literal('orphaned-referrer'), subject: Digest }),
  z.object({ code: z.literal('released'), tags: z.array(z.string()), explanations: z.array(z.string()) }),
  z.object({ code: z.literal('archive-expired'), lastArchivedAt: IsoTime, days: Count }),
]);

const DecisionSchema = z.discriminatedUnion('action', [
  z.strictObject({
    digest: Digest,
    action: z.literal('keep'),
    reason: KeepReasonSchema,
    tags: z.array(z.string()),
    sizeInBytes: Count,
  }),
  z.strictObject({
    digest: Digest,
    action: z.literal('delete'),
    reason: DeleteReasonSchema,
    tags: z.array(z.string()),
    sizeInBytes: Count,
    cost: z.string().optional(),
  }),
  z.strictObject({
    digest: Digest,
    action: z.literal('archive'),
    reason: DeleteReasonSchema,
    tags: z.array(z.string()),
    sizeInBytes: Count,
    cost: z.string().optional(),
  }),
]);

const CleanupPlanSchema = z.strictObject({
  repositoryName: z.string().min(1),
  plannedAt: IsoTime,
  decisions: z.array(DecisionSchema),
  toDelete: z.array(Digest),
  toArchive: z.array(Digest).optional(),
  bytesReclaimed: Count,
  brake: BrakeSchema.optional(),
}) satisfies z.ZodType<CleanupPlan>;

/** One repository of a plan file. */
export interface PlannedRepository {
  repositoryName: string;
  /** `fingerprintOf(images)`: `apply` refuses the plan when the repository no longer hashes to this. */
  fingerprint: string;
  rule: CleanupRule;
  /** Index into the config's `cleanup.rules`. */
  ruleIndex: number;
  /** The images the plan was made from (each index with its children). */
  images: ImageRecord[];
  /** Every decision with its reason, and the deletions in order. */
  plan: CleanupPlan;
}

export interface PlanFile {
  version: typeof PLAN_FILE_VERSION;
  /** When the plan was made (ISO); also every repository plan's `plannedAt`, the clock of its decisions. */
  createdAt: string;
  /** `public` when the plan is of ECR Public's repositories (`plan --public`); absent for the private registry. */
  registry?: 'public';
  /** The ECR endpoint the plan was made against; absent for the SDK's own (AWS itself). */
  endpoint?: string;
  region: string;
  repositories: PlannedRepository[];
}

const PlannedRepositorySchema = z.strictObject({
  repositoryName: z.string().min(1),
  fingerprint: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a sha256 fingerprint'),
  rule: CleanupRuleSchema,
  ruleIndex: Count,
  images: z.array(ImageRecordSchema),
  plan: CleanupPlanSchema,
}) satisfies z.ZodType<PlannedRepository>;

export const PlanFileSchema = z.strictObject({
  version: z.literal(PLAN_FILE_VERSION),
  createdAt: IsoTime,
  registry: z.literal('public').optional(),
  endpoint: z.url().optional(),
  region: z.string().min(1),
  repositories: z.array(PlannedRepositorySchema),
}) satisfies z.ZodType<PlanFile>;

const MAKE_A_NEW_PLAN = 'Make a new one with: npm run cleanup -- plan --out <file>';
const ISSUES_SHOWN = 8;

const pathOf = (path: readonly PropertyKey[]) =>
  path.length === 0
    ? '(root)'
    : path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`)).join('');

/** The largest plan file `apply` reads: a plan of 100,000 images is about 80 MB. */
export const MAX_PLAN_FILE_BYTES = 256 * 1024 * 1024;

const WRITER = `${TOOL.name} ${TOOL.version}`;

/** Parses and checks plan-file text; `source` names the file in messages. */
export function parsePlanFile(text: string, source: string): PlanFile {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new PlanFileError(
      `${source} is not a plan file: not JSON (${error instanceof Error ? error.message : String(error)})`,
      MAKE_A_NEW_PLAN,
    );
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new PlanFileError(`${source} is not a plan file: not a JSON object`, MAKE_A_NEW_PLAN);
  }
  // The version is checked first, on its own: a future file's other fields would only produce confusing issues.
  const { version, format_version: formatVersion } = document as { version?: unknown; format_version?: unknown };
  if (version === undefined && formatVersion !== undefined) {
    // The plan document of `plan --json` describes a plan for people and CI tools; it is not carried out.
    throw new PlanFileError(
      `${source} is a plan document (format_version ${JSON.stringify(formatVersion)}, as plan --json prints; ${WRITER} writes format_version ${PLAN_FORMAT_VERSION}), not a plan file that apply carries out`,
      'Apply the plan file that plan writes (--out, default cleanup-plan.json).',
    );
  }
  if (version === undefined) {
    throw new PlanFileError(`${source} is not a plan file: it has no "version"`, MAKE_A_NEW_PLAN);
  }
  if (version !== PLAN_FILE_VERSION) {
    const newer = typeof version === 'number' && Number.isInteger(version) && version > PLAN_FILE_VERSION;
    throw new PlanFileError(
      newer
        ? `${source} is a version ${version} plan file, newer than version ${PLAN_FILE_VERSION}, which ${WRITER} writes and reads; nothing was done`
        : `${source} is a version ${JSON.stringify(version)} plan file; ${WRITER} writes and reads version ${PLAN_FILE_VERSION} only; nothing was done`,
      newer
        ? `Apply it with the version of ${TOOL.name} that made it, or ${MAKE_A_NEW_PLAN.toLowerCase()}`
        : MAKE_A_NEW_PLAN,
    );
  }
  const result = PlanFileSchema.safeParse(document);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${pathOf(issue.path)}: ${issue.message}`);
    const more = issues.length > ISSUES_SHOWN ? `; and ${issues.length - ISSUES_SHOWN} more` : '';
    throw new PlanFileError(
      `${source} is not a valid plan file: ${issues.slice(0, ISSUES_SHOWN).join('; ')}${more}`,
      MAKE_A_NEW_PLAN,
    );
  }
  checkConsistent(result.data, source);
  return result.data;
}

/**
 * What the schema cannot say: each repository once, the saved images hash to the saved fingerprint, one decision
 * per saved image, `toDelete` is exactly the deletions and `toArchive` exactly the archivings. A file that fails these was edited or damaged, and
 * carrying it out could delete what no plan chose.
 */
function checkConsistent(file: PlanFile, source: string): void {
  const seen = new Set<string>();
  file.repositories.forEach((entry, index) => {
    const where = `${source}: repositories[${index}] (${entry.repositoryName})`;
    const fail = (problem: string) => {
      throw new PlanFileError(`${where}: ${problem}; the file was edited or damaged`, MAKE_A_NEW_PLAN);
    };
    if (seen.has(entry.repositoryName)) fail('the repository appears twice');
    seen.add(entry.repositoryName);
    if (entry.plan.repositoryName !== entry.repositoryName) fail(`its plan is for ${entry.plan.repositoryName}`);
    if (fingerprintOf(entry.images) !== entry.fingerprint)
      fail('the saved images do not hash to the saved fingerprint');
    const imageDigests = new Set(entry.images.map((image) => image.digest));
    const decided = new Set(entry.plan.decisions.map((decision) => decision.digest));
    if (decided.size !== entry.plan.decisions.length) fail('an image has two decisions');
    if (decided.size !== imageDigests.size || [...decided].some((digest) => !imageDigests.has(digest))) {
      fail('the decisions do not cover exactly the saved images');
    }
    const deletions = new Set(entry.plan.decisions.filter((d) => d.action === 'delete').map((d) => d.digest));
    const toDelete = new Set(entry.plan.toDelete);
    if (toDelete.size !== entry.plan.toDelete.length) fail('toDelete lists a digest twice');
    if (toDelete.size !== deletions.size || [...toDelete].some((digest) => !deletions.has(digest))) {
      fail('toDelete is not exactly the images whose decision is "delete"');
    }
    const archivings = new Set(entry.plan.decisions.filter((d) => d.action === 'archive').map((d) => d.digest));
    const toArchive = new Set(entry.plan.toArchive ?? []);
    if (toArchive.size !== (entry.plan.toArchive ?? []).length) fail('toArchive lists a digest twice');
    if (toArchive.size !== archivings.size || [...toArchive].some((digest) => !archivings.has(digest))) {
      fail('toArchive is not exactly the images whose decision is "archive"');
    }
  });
}

/**
 * Reads and checks a plan file: a regular file of at most `MAX_PLAN_FILE_BYTES` (a device, a pipe or a huge file is
 * refused before it is read), then `parsePlanFile`.
 */
export function readPlanFile(path: string): PlanFile {
  let text: string;
  let fd: number | undefined;
  try {
    // Looked at before opening: opening a named pipe would wait for a writer.
    if (!statSync(path).isFile()) {
      throw new PlanFileError(`${path} is not a plan file: not a regular file`, MAKE_A_NEW_PLAN);
    }
    fd = openSync(path, 'r');
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new PlanFileError(`${path} is not a plan file: not a regular file`, MAKE_A_NEW_PLAN);
    if (stat.size > MAX_PLAN_FILE_BYTES) {
      throw new PlanFileError(
        `${path} is not a plan file: ${stat.size} bytes, more than any plan (at most ${MAX_PLAN_FILE_BYTES})`,
        MAKE_A_NEW_PLAN,
      );
    }
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, buffer, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    text = buffer.toString('utf8', 0, read);
  } catch (error) {
    if (error instanceof PlanFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error);
    throw new PlanFileError(`Cannot read plan file ${path}: ${why}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return parsePlanFile(text, path);
}

/** The plan document (`plan --json`, docs/machine-formats.md) of a plan file, with the plan's notes. */
export const planDocumentOf = (file: PlanFile, notes: readonly string[] = []): PlanDocument =>
  cleanupPlanDocument(file, TOOL, notes);

/** Writes the plan file whole or not at all (a temporary file renamed into place), so `apply` never reads half. */
export function writePlanFile(path: string, file: PlanFile): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(temporary, path);
}
