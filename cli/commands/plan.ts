import type { RegistryKind } from '../../shared/cleanup/gateway.ts';
import { fingerprintOf } from '../../shared/cleanup/gather.ts';
import { inUsePlanOptions, locateRepository, type RepositoryLocation } from '../../shared/cleanup/in-use.ts';
import { cleanupConfigWarnings } from '../../shared/config/load.ts';
import type { ServiceConfig } from '../../shared/config/schema.ts';
import type { InUseSnapshot } from '../../shared/domain/in-use.ts';
import { RepositoryNotFoundError } from '../../shared/ecr/index.ts';
import { planCleanup } from '../../shared/policy/cleanup/plan.ts';
import { EXIT, UsageError } from './errors.ts';
import { countsOf, formatBytes, renderPlan, shortDigest } from './format.ts';
import {
  PLAN_FILE_VERSION,
  type PlanFile,
  type PlannedRepository,
  planDocumentOf,
  writePlanFile,
} from './plan-file.ts';
import { type CliGateway, selectRepositories } from './select.ts';
import { gatherSettled } from './snapshot.ts';

export interface PlanDeps {
  /** Must be read-only: planning never mutates the registry. */
  gateway: CliGateway;
  config: Readonly<ServiceConfig>;
  /** The plan's clock (epoch ms), one for every repository. */
  now: number;
  /** Standard output: the tables, or the plan file's JSON with `json`. */
  out: (line: string) => void;
  /** Standard error: notes and progress that must not mix with JSON on standard output. */
  err: (line: string) => void;
}

export interface PlanOptions {
  /** `--repository` globs; empty or absent means every repository a rule matches. */
  repositories?: readonly string[];
  /** `--public`: plan the repositories of ECR Public with the config's public rules; the file remembers it. */
  registry?: RegistryKind;
  /** Where the plan was made, recorded in the file so that `apply` goes to the same registry. */
  target: { endpoint?: string; region: string };
  /** Writes the plan file here when given. */
  outFile?: string;
  /** Print the plan document (`shared/formats/plan-document.ts`, docs/machine-formats.md) instead of the tables. */
  json?: boolean;
  /**
   * What runs (the config's in-use providers, read once for the whole plan): images in use are kept with their
   * children and referrers, and a repository a failed provider covers keeps everything.
   */
  inUse?: InUseSnapshot;
}

export interface PlanResult {
  file: PlanFile;
  exitCode: number;
}

/**
 * `cleanup plan`: gathers every selected repository, plans each with `planCleanup` at one `now`, writes the plan
 * file and prints one table per repository (or the file's JSON). Read-only: the gateway refuses any mutation.
 */
export async function makePlan(deps: PlanDeps, options: PlanOptions): Promise<PlanResult> {
  if (!deps.gateway.readOnly) throw new Error('invariant: plan needs a read-only gateway; planning never mutates');
  const { gateway, now } = deps;
  const say = options.json ? deps.err : deps.out;
  const selection = await selectRepositories(gateway, deps.config, options.repositories, options.registry);
  const repositories: PlannedRepository[] = [];
  const notes: string[] = [];
  for (const { repositoryName, rule, ruleIndex } of selection.selected) {
    let snapshot: Awaited<ReturnType<typeof gatherSettled>>;
    let location: RepositoryLocation | undefined;
    try {
      if (options.inUse !== undefined) {
        location = await locateRepository(gateway, options.registry ?? 'private', repositoryName);
      }
      snapshot = await gatherSettled(gateway, repositoryName, now);
    } catch (error) {
      // Deleted between the listing and the gather: nothing to plan.
      if (error instanceof RepositoryNotFoundError) {
        notes.push(`${repositoryName}: gone while planning; not in the plan`);
        continue;
      }
      throw error;
    }
    const readAsPulled = new Set(snapshot.readAsPulled);
    const inUseOptions =
      options.inUse === undefined ? {} : inUsePlanOptions(options.inUse, location, repositoryName, snapshot.images);
    const plan = planCleanup(repositoryName, snapshot.images, rule, now, { ownReads: readAsPulled, ...inUseOptions });
    if (inUseOptions.inUseUnavailable !== undefined) {
      notes.push(`${repositoryName}: every image kept: ${inUseOptions.inUseUnavailable}`);
    }
    repositories.push({
      repositoryName,
      fingerprint: fingerprintOf(snapshot.images),
      rule,
      ruleIndex,
      images: snapshot.images,
      plan,
    });
    const keptAsPulled = plan.decisions.filter(
      (decision) => decision.reason.code === 'recently-pulled' && readAsPulled.has(decision.digest),
    );
    if (keptAsPulled.length > 0) {
      notes.push(
        `${repositoryName}: ${keptAsPulled.length} index(es) kept as recently pulled (${keptAsPulled
          .map((decision) => shortDigest(decision.digest))
          .join(', ')}); the pull may be this plan's own manifest read, which ECR records as a pull. ` +
          'Excluding this principal from pull-time updates (RegisterPullTimeUpdateExclusion) lets stale indexes go.',
      );
    }
  }
  for (const name of selection.withoutRule) {
    notes.push(`${name}: matches --repository but no enabled cleanup rule; not planned`);
  }

  const file: PlanFile = {
    version: PLAN_FILE_VERSION,
    createdAt: new Date(now).toISOString(),
    ...(options.registry === 'public' ? { registry: 'public' as const } : {}),
    ...(options.target.endpoint === undefined ? {} : { endpoint: options.target.endpoint }),
    region: options.target.region,
    repositories,
  };
  if (options.outFile !== undefined) {
    try {
      writePlanFile(options.outFile, file);
    } catch (error) {
      throw new UsageError(
        `Cannot write the plan file ${options.outFile}: ${error instanceof Error ? error.message : String(error)}`,
        'Pass --out with a path in a writable folder.',
      );
    }
  }

  if (options.json) deps.out(JSON.stringify(planDocumentOf(file, notes), null, 2));
  else {
    for (const entry of repositories) {
      for (const line of renderPlan(entry.plan, `rule #${entry.ruleIndex}`, now)) deps.out(line);
      deps.out('');
    }
  }
  for (const warning of cleanupConfigWarnings(deps.config.cleanup)) say(`warning: ${warning.path}: ${warning.message}`);
  for (const note of notes) say(`note: ${note}`);
  const totals = repositories.map((entry) => countsOf(entry.plan));
  const sum = (pick: (counts: ReturnType<typeof countsOf>) => number) => totals.reduce((n, c) => n + pick(c), 0);
  say(
    `Plan: ${repositories.length} of ${selection.listed} repositories, ${sum((c) => c.images)} images, ${sum((c) => c.toDelete)} to delete (${formatBytes(sum((c) => c.bytesReclaimed))}), ${sum((c) => c.toArchive) > 0 ? `${sum((c) => c.toArchive)} to archive, ` : ''}${sum((c) => c.kept)} kept.` +
      (options.outFile === undefined ? '' : ` Written to ${options.outFile}.`),
  );
  if (options.outFile !== undefined && sum((c) => c.toDelete + c.toArchive) > 0) {
    say(`Apply it with: npm run cleanup -- apply ${options.outFile}`);
  }
  return { file, exitCode: EXIT.ok };
}
