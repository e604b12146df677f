import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkLifecyclePolicy, evaluateLifecyclePolicy } from '@ecr-automation/lifecycle';
import { inUsePlanOptions, locateRepository } from '../../shared/cleanup/in-use.ts';
import { cleanupRuleFor } from '../../shared/config/load.ts';
import type { ServiceConfig } from '../../shared/config/schema.ts';
import type { ImageRecord } from '../../shared/domain/image.ts';
import type { EcrGateway } from '../../shared/ecr/index.ts';
import { type CleanupPlan, planCleanup } from '../../shared/policy/cleanup/plan.ts';
import { CLEANUP_JOB_OWNS, NO_BREAKING_RULES } from '../../shared/policy/compliance/policy.ts';
import {
  type Comparison,
  compareWithCleanup,
  type NativeDecision,
} from '../../shared/policy/lifecycle-lint/compare.ts';
import { toLifecycleImages } from '../../shared/policy/lifecycle-lint/images.ts';
import {
  type LintContext,
  type LintFinding,
  lintLifecyclePolicy,
  MAX_LIFECYCLE_POLICY_CHARS,
} from '../../shared/policy/lifecycle-lint/lint.ts';
import { EXIT, UsageError } from './errors.ts';
import { formatReason, formatTags, renderTable, shortDigest } from './format.ts';
import {
  type CliIo,
  checkedInUseEndpoint,
  loadCliConfig,
  noPositionals,
  parseCommandLine,
  readInUseFor,
  runCommandLine,
  type Target,
  targetFor,
  withEcrGateway,
} from './main.ts';
import { registryClock } from './registry-clock.ts';
import { gatherSettled } from './snapshot.ts';

const TOOL = 'lifecycle';

const USAGE = `Usage: npm run lifecycle -- <command> [options]

ECR lifecycle policies next to this service's cleanup: what a policy does that its author most likely did not
mean, and what it would remove that the cleanup keeps.

Commands:
  lint       Lint policy files, a repository's live policy, or the config's policies
  compare <repository>
             Evaluate a policy on a repository's images and compare it with the cleanup's plan, image by image

  -h, --help  This help; "npm run lifecycle -- <command> --help" for a command's

Exit codes: lint 0 no findings, 1 findings; compare 0; 1 an ECR failure; 2 bad usage, config or policy file.`;

const TARGET_HELP = `  --endpoint-url <url>  ECR endpoint (default: AWS_ENDPOINT_URL_ECR, else AWS_ENDPOINT_URL, else AWS itself)
  --region <region>     AWS region (default: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's)
  --in-use-endpoint-url <url>
                        Endpoint of the in-use providers (cleanup.inUse), as for npm run cleanup -- plan`;

const LINT_HELP = `Usage: npm run lifecycle -- lint [--file <policy.json>...] [--config <file>]
                                [--repository <name> --endpoint-url <url> --region <region>]

Lints lifecycle policies: the --file documents; else the live policy of --repository (GetLifecyclePolicy); else
the config's (compliance defaults and rules, registry creation templates; "cleanup-job" means none). With
--repository, the policies are also evaluated on its images and compared with the cleanup's plan for it (the
config's cleanup rule): rules that select nothing, and images the policy removes that the cleanup keeps.
Read-only. One line per finding: "priority N: code: message — fix: ...".

Options:
  --file <file>         A policy document (at most ${MAX_LIFECYCLE_POLICY_CHARS} characters of JSON); repeatable
  --config <file>       Config (default: CONFIG_FILE, else the bundled config/ecr-automation.json)
  --repository <name>   Lint against this repository (its live policy when no --file is given)
${TARGET_HELP}`;

const COMPARE_HELP = `Usage: npm run lifecycle -- compare <repository> [--policy-file <file>] [--config <file>]
                                   [--endpoint-url <url>] [--region <region>]

Evaluates a lifecycle policy (--policy-file, else the repository's live one) on the repository's images now, and
prints each image's native action (expire, archive or keep, and the rule) next to the cleanup's decision (the
config's cleanup rule), then what the policy breaks: images in use, retained tags, children of kept indexes or
signatures of kept images it removes, children left behind by an expired index, signatures removed while their
image stays. Read-only.

Options:
  --policy-file <file>  The policy to evaluate (default: the repository's live policy)
  --config <file>       Config (default: CONFIG_FILE, else the bundled config/ecr-automation.json)
${TARGET_HELP}`;

const TARGET_OPTIONS = {
  'endpoint-url': { type: 'string' },
  region: { type: 'string' },
  'in-use-endpoint-url': { type: 'string' },
  config: { type: 'string' },
} as const;

/** `lifecycle <command> ...`: returns the exit code; expected errors are printed as one message, without a stack. */
export const runLifecycleCli = (argv: readonly string[], io: CliIo): Promise<number> =>
  runCommandLine(argv, io, {
    usage: USAGE,
    commands: { lint: { help: LINT_HELP, run: lintCommand }, compare: { help: COMPARE_HELP, run: compareCommand } },
    unknownHint: 'The commands are lint and compare: npm run lifecycle -- --help',
  });

// --- Policies ------------------------------------------------------------------------------------------------------

/** Files larger than this many bytes cannot hold 30,720 characters (UTF-8 takes at most 4 bytes a character). */
const MAX_POLICY_FILE_BYTES = MAX_LIFECYCLE_POLICY_CHARS * 4;

/**
 * A policy document from a file: at most ECR's 30,720 characters, and JSON. The size is looked at before the file is
 * read, so that a huge file costs nothing; anything else is a `UsageError` (exit 2).
 */
export function readPolicyFile(path: string): string {
  let text: string;
  try {
    if (statSync(path).size > MAX_POLICY_FILE_BYTES) {
      throw new UsageError(
        `${path} is not a lifecycle policy: larger than ECR's ${MAX_LIFECYCLE_POLICY_CHARS} characters`,
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `Cannot read the policy file ${path}: ${code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (text.length > MAX_LIFECYCLE_POLICY_CHARS) {
    throw new UsageError(
      `${path} is not a lifecycle policy: ${text.length} characters, ECR accepts at most ${MAX_LIFECYCLE_POLICY_CHARS}`,
    );
  }
  try {
    JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${path} is not a lifecycle policy: not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return text;
}

interface NamedPolicy {
  source: string;
  text: string;
}

/** The lifecycle policies a config states: compliance defaults and rules, registry creation templates. */
export function configPolicies(config: Readonly<ServiceConfig>): NamedPolicy[] {
  const policies: NamedPolicy[] = [];
  const add = (source: string, text: string | null | undefined) => {
    // "cleanup-job": the cleanup job owns the repository, which then has no lifecycle policy to lint.
    if (typeof text === 'string' && text !== CLEANUP_JOB_OWNS && text !== NO_BREAKING_RULES)
      policies.push({ source, text });
  };
  add('compliance.defaults.lifecyclePolicy', config.compliance.defaults.lifecyclePolicy);
  config.compliance.rules.forEach((rule, index) => {
    if (rule.enabled) add(`compliance.rules[${index}].lifecyclePolicy`, rule.lifecyclePolicy);
  });
  config.registry.creationTemplates?.templates.forEach((template, index) => {
    add(
      `registry.creationTemplates.templates[${index}] (${template.prefix}).lifecyclePolicy`,
      template.lifecyclePolicy,
    );
  });
  return policies;
}

/** `priority N: code: message — fix: ...` (`policy:` for a finding about the whole document). */
export const formatFinding = (finding: LintFinding): string =>
  `${finding.rule === null ? 'policy' : `priority ${finding.rule}`}: ${finding.code}: ${finding.message} — fix: ${finding.fix}`;

// --- Repository ----------------------------------------------------------------------------------------------------

interface RepositoryView {
  images: ImageRecord[];
  now: number;
  plan?: CleanupPlan;
  ruleIndex?: number;
}

/** The repository's images (with children and subjects) and the cleanup's plan for it, as `cleanup plan` makes it. */
async function viewRepository(
  gateway: EcrGateway,
  config: Readonly<ServiceConfig>,
  repositoryName: string,
  target: Target,
  inUseFlag: string | undefined,
  io: CliIo,
): Promise<RepositoryView> {
  const now = (await registryClock(target.endpoint, io.now))();
  const match = cleanupRuleFor(config.cleanup, repositoryName);
  const inUse = match === undefined ? undefined : await readInUseFor(config, target, inUseFlag, io);
  const location = inUse === undefined ? undefined : await locateRepository(gateway, 'private', repositoryName);
  const snapshot = await gatherSettled(gateway, repositoryName, now);
  if (match === undefined) return { images: snapshot.images, now };
  const inUseOptions = inUse === undefined ? {} : inUsePlanOptions(inUse, location, repositoryName, snapshot.images);
  const plan = planCleanup(repositoryName, snapshot.images, match.rule, now, {
    ownReads: new Set(snapshot.readAsPulled),
    ...inUseOptions,
  });
  return { images: snapshot.images, now, plan, ruleIndex: match.index };
}

// --- lint ----------------------------------------------------------------------------------------------------------

async function lintCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(
    'lint',
    () =>
      parseArgs({
        args: [...args],
        options: { ...TARGET_OPTIONS, file: { type: 'string', multiple: true }, repository: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      }),
    TOOL,
  );
  noPositionals('lint', positionals, TOOL);
  const files = values.file ?? [];
  const policies: NamedPolicy[] = files.map((path) => ({ source: path, text: readPolicyFile(path) }));
  const config = loadCliConfig(values.config, io.env);
  const repositoryName = values.repository;
  if (repositoryName === undefined) {
    if (policies.length === 0) {
      policies.push(...configPolicies(config));
      if (policies.length === 0) {
        throw new UsageError(
          'Nothing to lint: no --file, no --repository, and the config states no lifecycle policy (compliance.lifecyclePolicy is unset or "cleanup-job")',
          'Pass --file <policy.json>, or --repository <name> for its live policy.',
        );
      }
    }
    return printFindings(policies, undefined, io);
  }
  const target = await targetFor(values['endpoint-url'], values.region, io.env);
  const inUseFlag = checkedInUseEndpoint(values['in-use-endpoint-url']);
  return await withEcrGateway(io, target, { readOnly: true }, async (gateway) => {
    if (policies.length === 0) {
      const live = await gateway.getLifecyclePolicy(repositoryName);
      if (live === undefined) {
        io.stdout(`${repositoryName}: no lifecycle policy; nothing to lint`);
        return EXIT.ok;
      }
      policies.push({ source: `${repositoryName} (live policy)`, text: live });
    }
    const view = await viewRepository(gateway, config, repositoryName, target, inUseFlag, io);
    if (view.plan === undefined) {
      io.stderr(
        `note: no enabled cleanup rule of the config matches ${repositoryName}: the policy is not compared with a cleanup plan`,
      );
    }
    return printFindings(
      policies,
      { images: view.images, now: view.now, ...(view.plan ? { plan: view.plan } : {}) },
      io,
    );
  });
}

function printFindings(policies: readonly NamedPolicy[], context: LintContext | undefined, io: CliIo): number {
  let total = 0;
  for (const { source, text } of policies) {
    const findings = lintLifecyclePolicy(text, context);
    total += findings.length;
    io.stdout(`${source}: ${findings.length === 0 ? 'no findings' : `${findings.length} finding(s)`}`);
    for (const finding of findings) io.stdout(formatFinding(finding));
  }
  return total === 0 ? EXIT.ok : EXIT.failed;
}

// --- compare -------------------------------------------------------------------------------------------------------

const nativeText = (native: NativeDecision): string => {
  if (native.action === 'keep') {
    const reason = native.reason;
    return 'rulePriority' in reason ? `keep (${reason.kind}, rule ${reason.rulePriority})` : `keep (${reason.kind})`;
  }
  const what = native.action === 'expire' ? 'expire' : 'archive';
  return `${what} (rule ${native.rulePriority}${native.followsSubject === undefined ? '' : ', follows its subject'})`;
};

/** The comparison as people read it: a table, the breaks, the counts. */
export function renderComparison(repositoryName: string, comparison: Comparison, now: number): string[] {
  const rows = comparison.rows.map((row) => [
    shortDigest(row.digest),
    formatTags(row.tags),
    nativeText(row.native),
    `${row.service.action} (${formatReason(row.service.reason, now)})`,
    row.breaks.map((found) => found.code).join(', ') || '-',
  ]);
  const lines = [`${repositoryName}:`, ...renderTable(['DIGEST', 'TAGS', 'NATIVE POLICY', 'CLEANUP', 'BREAKS'], rows)];
  const { summary } = comparison;
  lines.push('');
  if (comparison.breaks.length === 0) lines.push('Breaks: none');
  else {
    lines.push(`Breaks (${comparison.breaks.length}):`);
    for (const found of comparison.breaks)
      lines.push(`  priority ${found.rulePriority}: ${found.code}: ${found.message}`);
  }
  lines.push('');
  lines.push(
    `Summary: ${summary.images} images; native: ${summary.native.expire} expire, ${summary.native.transition} archive, ${summary.native.keep} keep; cleanup: ${summary.service.delete} delete, ${summary.service.archive === undefined ? '' : `${summary.service.archive} archive, `}${summary.service.keep} keep; ${summary.agree} agree, ${summary.nativeOnly} removed by the policy only, ${summary.serviceOnly} deleted by the cleanup only`,
  );
  return lines;
}

async function compareCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(
    'compare',
    () =>
      parseArgs({
        args: [...args],
        options: { ...TARGET_OPTIONS, 'policy-file': { type: 'string' } },
        allowPositionals: true,
        strict: true,
      }),
    TOOL,
  );
  const [repositoryName, ...extra] = positionals;
  if (repositoryName === undefined || extra.length > 0) {
    throw new UsageError('compare takes one repository', 'npm run lifecycle -- compare <repository> [--policy-file f]');
  }
  const fileText = values['policy-file'] === undefined ? undefined : readPolicyFile(values['policy-file']);
  const config = loadCliConfig(values.config, io.env);
  if (cleanupRuleFor(config.cleanup, repositoryName) === undefined) {
    throw new UsageError(
      `No enabled cleanup rule of the config matches ${repositoryName}: there is no cleanup plan to compare with`,
      'Pass --config with a cleanup rule for it (cleanup.rules[].repositories).',
    );
  }
  const target = await targetFor(values['endpoint-url'], values.region, io.env);
  const inUseFlag = checkedInUseEndpoint(values['in-use-endpoint-url']);
  return await withEcrGateway(io, target, { readOnly: true }, async (gateway) => {
    const text = fileText ?? (await gateway.getLifecyclePolicy(repositoryName));
    if (text === undefined) {
      throw new UsageError(
        `${repositoryName} has no lifecycle policy`,
        'Pass --policy-file <policy.json> to compare one.',
      );
    }
    const check = checkLifecyclePolicy(text);
    if (!check.valid) throw new UsageError(`The policy is invalid: ${check.reason}`);
    const view = await viewRepository(gateway, config, repositoryName, target, inUseFlag, io);
    const plan = view.plan as CleanupPlan;
    const evaluation = evaluateLifecyclePolicy(check.policy, toLifecycleImages(view.images), view.now);
    const comparison = compareWithCleanup(evaluation, plan, view.images);
    for (const line of renderComparison(repositoryName, comparison, view.now)) io.stdout(line);
    return EXIT.ok;
  });
}
