import { parseArgs } from 'node:util';
import { applyFixes } from '../../shared/compliance/act.ts';
import { gatherFacts, gatherRegistryScanning } from '../../shared/compliance/gather.ts';
import { complianceRuleFor } from '../../shared/config/compliance-schema.ts';
import { ConfigError } from '../../shared/config/load.ts';
import { selectRepositories } from '../../shared/config/rules.ts';
import { mapAtMost } from '../../shared/domain/at-most.ts';
import {
  AccessDeniedError,
  createEcrGateway,
  type ECRClient,
  type EcrClientOptions,
  type EcrGateway,
  EcrGatewayError,
  RepositoryNotFoundError,
  type RepositorySummary,
} from '../../shared/ecr/index.ts';
import { compliancePlanDocument } from '../../shared/formats/plan-document.ts';
import { TOOL } from '../../shared/formats/tool.ts';
import { compliancePicture } from '../../shared/pictures/compliance.ts';
import {
  type ComplianceFinding,
  checkRepository,
  type RegistryScanning,
} from '../../shared/policy/compliance/check.ts';
import { type CompliancePlan, planRepository, type RepositoryPlan } from '../../shared/policy/compliance/plan.ts';
import { RegionError } from '../region.ts';
import { UsageError } from './errors.ts';
import { renderTable } from './format.ts';
import { writeHtmlReport } from './html.ts';
import { loadCliConfig, noPositionals, parseCommandLine, targetFor } from './main.ts';

/** What the compliance CLI needs from its process; `cli/compliance.ts` wires the real ones, tests their own. */
export interface ComplianceCliIo {
  env: NodeJS.ProcessEnv;
  stdout(line: string): void;
  stderr(line: string): void;
  /** Whether standard input is a terminal, so that `apply` can ask for a confirmation. */
  interactive: boolean;
  confirm(question: string): Promise<boolean>;
  /** Creates the run's one ECR client. */
  connect(options: EcrClientOptions): ECRClient;
}

/**
 * Exit codes, as the registry reconcile's (`terraform plan -detailed-exitcode`): 0 every repository checked is
 * compliant (or every fix applied); 1 an error (bad usage, config or region, ECR failing, a fix ECR refused, an apply
 * declined); 2 `plan` found drift.
 */
export const COMPLIANCE_EXIT = { ok: 0, failed: 1, drift: 2 } as const;

const OPTIONS_HELP = `  --config <file>       Config file (default: CONFIG_FILE, else the bundled config/ecr-automation.json)
  --repository <glob>   Only repositories matching this glob; repeatable (* within a path segment, ** across)
  --endpoint-url <url>  ECR endpoint (default: AWS_ENDPOINT_URL_ECR, else AWS_ENDPOINT_URL, else AWS itself)
  --region <region>     AWS region (default: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's)`;

const USAGE = `Usage: npm run compliance -- <plan|apply> [options]

Checks every repository of the private registry that a compliance rule of the config matches against its rule (tag
mutability, scan on push, lifecycle policy, repository policy, required tags, encryption), with the checks the
scheduled compliance scan runs.

Commands:
  plan    Print, per repository, each setting its rule checks: actual, wanted and the fix enforce mode would make.
          Read-only. Exit code 2 when a repository drifts.
  apply   Make the fixes of the repositories whose rule is in enforce mode (a report-mode rule is never fixed)

Options:
${OPTIONS_HELP}
  -h, --help            This help; "npm run compliance -- <command> --help" for a command's

Exit codes: 0 compliant / applied; 1 error, refused or declined; 2 plan found drift.`;

const PLAN_HELP = `Usage: npm run compliance -- plan [--config <file>] [--repository <glob>...] [--json] [--html <file>]
                                  [--endpoint-url <url>] [--region <region>]

Lists the repositories, reads what each one's compliance rule checks (and nothing else) and prints a table per
repository: setting, actual value, wanted value, the fix enforce mode would make. Makes no mutating call.

Options:
${OPTIONS_HELP}
  --json                Print the plan document instead of the tables (format_version 1.0, plan_type
                        "compliance": schemas/plan.schema.json, docs/machine-formats.md)
  --html <file>         Also write the plan as one self-contained HTML report (repositories checked, compliant,
                        drifting, per check; a filterable table of repositories x checks)

Exit codes: 0 every repository compliant; 1 error; 2 drift found.`;

const APPLY_HELP = `Usage: npm run compliance -- apply [--yes] [--config <file>] [--repository <glob>...]
                                   [--endpoint-url <url>] [--region <region>]

Checks as plan does, then makes the fixes ECR allows (PutImageTagMutability, PutImageScanningConfiguration,
PutLifecyclePolicy, DeleteLifecyclePolicy, TagResource) on the repositories whose rule is in enforce mode, as the
scheduled scan does in enforce mode. A report-mode rule's drift, a repository policy and encryption are never
changed. A fix ECR refuses is reported and the others still made (exit 1). The config's compliance.dryRun refuses.

Options:
  -y, --yes             Do not ask for confirmation (required when standard input is not a terminal)
${OPTIONS_HELP}`;

/** A checked repository: its plan, and what the fixes need (the listing's summary, the findings). */
interface Checked {
  plan: RepositoryPlan;
  repository: RepositorySummary;
  findings: ComplianceFinding[];
}

/**
 * Reads and judges every selected repository with the scheduled scan's gather and pure check, a bounded number at a
 * time (the config's compliance.concurrency). A repository deleted while checking is left out and said so.
 */
async function check(
  gateway: EcrGateway,
  config: ReturnType<typeof loadCliConfig>,
  globs: readonly string[],
  context: { region: string; endpoint?: string },
): Promise<{ plan: CompliancePlan; checked: Checked[]; gone: string[] }> {
  const { selected, withoutRule, listed } = await selectRepositories(
    gateway.listRepositories(),
    (name) => complianceRuleFor(config.compliance, name),
    globs,
  );
  const scanning: RegistryScanning | undefined = selected.some(({ match }) => match.rule.scanOnPush)
    ? await gatherRegistryScanning(gateway)
    : undefined;
  const gone: string[] = [];
  const results = await mapAtMost(selected, config.compliance.concurrency, async ({ repository, match }) => {
    try {
      const facts = await gatherFacts(gateway, repository, match.rule);
      const findings = checkRepository(facts, match.rule, scanning);
      return [{ plan: planRepository(facts, match, scanning, findings), repository, findings }];
    } catch (error) {
      if (!(error instanceof RepositoryNotFoundError)) throw error;
      gone.push(repository.name);
      return [];
    }
  });
  const checked = results.flat().sort((a, b) => a.plan.repository.localeCompare(b.plan.repository));
  return {
    plan: {
      createdAt: new Date().toISOString(),
      region: context.region,
      ...(context.endpoint === undefined ? {} : { endpoint: context.endpoint }),
      listed,
      repositories: checked.map((one) => one.plan),
      withoutRule: withoutRule.map((repository) => repository.name).sort(),
    },
    checked,
    gone: gone.sort(),
  };
}

/** The plan as people read it: a table per repository, then the totals. */
export function renderCompliancePlan(plan: CompliancePlan): string[] {
  const lines: string[] = [];
  for (const repository of plan.repositories) {
    const drifting = repository.settings.filter((setting) => setting.status === 'drift').length;
    lines.push(
      `${repository.repository} (rule #${repository.ruleIndex}, ${repository.mode} mode): ` +
        (drifting === 0
          ? `compliant, ${repository.settings.length} setting(s) checked`
          : `${drifting} of ${repository.settings.length} setting(s) drift`),
    );
    if (repository.settings.length > 0) {
      const rows = repository.settings.map((setting) => [
        setting.status === 'drift' ? '~' : ' ',
        setting.check,
        setting.actual,
        setting.wanted,
        setting.status === 'compliant' ? '-' : (setting.fix ?? 'none: not fixable, fix by hand'),
      ]);
      for (const line of renderTable([' ', 'SETTING', 'ACTUAL', 'WANTED', 'FIX'], rows)) lines.push(`  ${line}`);
      for (const setting of repository.settings) {
        for (const detail of setting.details) lines.push(`    ${setting.check}: ${detail}`);
      }
    }
    lines.push('');
  }
  const drifting = plan.repositories.filter((repository) => !repository.compliant).length;
  lines.push(
    `${plan.repositories.length} of ${plan.listed} repositories checked: ` +
      `${plan.repositories.length - drifting} compliant, ${drifting} drifting.`,
  );
  for (const name of plan.withoutRule) lines.push(`${name}: no enabled compliance rule matches it, not checked.`);
  return lines;
}

const PLAN_OPTIONS = {
  config: { type: 'string' },
  repository: { type: 'string', multiple: true },
  'endpoint-url': { type: 'string' },
  region: { type: 'string' },
} as const;

/** Runs `check` over one read-only or writable gateway on the run's one client, destroyed after. */
async function withChecked<T>(
  io: ComplianceCliIo,
  values: { config?: string | undefined; repository?: string[] | undefined; 'endpoint-url'?: string | undefined },
  regionFlag: string | undefined,
  readOnly: boolean,
  work: (gateway: EcrGateway, result: Awaited<ReturnType<typeof check>>) => Promise<T>,
): Promise<T> {
  // The config and the region are checked before the client exists: a bad one sends nothing to ECR.
  const config = loadCliConfig(values.config, io.env);
  const target = await targetFor(values['endpoint-url'], regionFlag, io.env);
  const client = io.connect({
    ...(target.endpoint === undefined ? {} : { endpoint: target.endpoint }),
    region: target.region,
  });
  try {
    const gateway = createEcrGateway(client, { readOnly });
    const result = await check(gateway, config, values.repository ?? [], target);
    for (const name of result.gone) io.stderr(`${name}: deleted while checking, left out.`);
    return await work(gateway, result);
  } finally {
    client.destroy();
  }
}

async function planCommand(args: readonly string[], io: ComplianceCliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(
    'plan',
    () =>
      parseArgs({
        args: [...args],
        options: { ...PLAN_OPTIONS, json: { type: 'boolean', default: false }, html: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      }),
    'compliance',
  );
  noPositionals('plan', positionals, 'compliance');
  return await withChecked(io, values, values.region, true, async (_gateway, { plan }) => {
    if (values.html !== undefined) {
      const bytes = await writeHtmlReport(values.html, compliancePicture(plan));
      io.stderr(`HTML report written to ${values.html} (${(bytes / 1_048_576).toFixed(1)} MiB).`);
    }
    const lines = values.json
      ? [JSON.stringify(compliancePlanDocument(plan, TOOL), null, 2)]
      : renderCompliancePlan(plan);
    for (const line of lines) io.stdout(line);
    return plan.repositories.every((repository) => repository.compliant) ? COMPLIANCE_EXIT.ok : COMPLIANCE_EXIT.drift;
  });
}

async function applyCommand(args: readonly string[], io: ComplianceCliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(
    'apply',
    () =>
      parseArgs({
        args: [...args],
        options: { ...PLAN_OPTIONS, yes: { type: 'boolean', short: 'y', default: false } },
        allowPositionals: true,
        strict: true,
      }),
    'compliance',
  );
  noPositionals('apply', positionals, 'compliance');
  const config = loadCliConfig(values.config, io.env);
  if (config.compliance.dryRun) {
    throw new UsageError(
      'The config says compliance.dryRun: true; apply changes nothing in dry run',
      'Preview with: npm run compliance -- plan',
    );
  }
  if (!values.yes && !io.interactive) {
    throw new UsageError(
      'apply changes repository settings and standard input is not a terminal to confirm on',
      'Pass --yes to apply without confirmation.',
    );
  }
  return await withChecked(io, values, values.region, false, async (gateway, { plan, checked }) => {
    for (const line of renderCompliancePlan(plan)) io.stdout(line);
    const toFix = checked.filter(
      (one) => one.plan.mode === 'enforce' && one.findings.some((finding) => finding.fix !== undefined),
    );
    const reportOnly = checked.filter((one) => one.plan.mode !== 'enforce' && !one.plan.compliant);
    for (const one of reportOnly) io.stdout(`${one.plan.repository}: report mode, not fixed.`);
    if (toFix.length === 0) {
      io.stdout('Nothing to fix.');
      return COMPLIANCE_EXIT.ok;
    }
    if (!values.yes && !(await io.confirm(`Fix ${toFix.length} repositories?`))) {
      io.stderr('Declined; nothing was changed.');
      return COMPLIANCE_EXIT.failed;
    }
    let failures = 0;
    for (const one of toFix) {
      const { fixed, fixFailures } = await applyFixes(gateway, one.repository, one.findings);
      for (const kind of fixed) io.stdout(`${one.plan.repository}: fixed: ${kind}`);
      for (const failure of fixFailures)
        io.stdout(`${one.plan.repository}: NOT fixed: ${failure.fix}: ${failure.error}`);
      failures += fixFailures.length;
    }
    if (failures > 0) {
      io.stderr(`${failures} fix(es) refused; the others were made.`);
      return COMPLIANCE_EXIT.failed;
    }
    return COMPLIANCE_EXIT.ok;
  });
}

const COMMANDS: Record<
  string,
  { help: string; run: (args: readonly string[], io: ComplianceCliIo) => Promise<number> }
> = { plan: { help: PLAN_HELP, run: planCommand }, apply: { help: APPLY_HELP, run: applyCommand } };

/** `compliance <plan|apply> ...`: returns the exit code; expected errors are one message, without a stack. */
export async function runComplianceCli(argv: readonly string[], io: ComplianceCliIo): Promise<number> {
  try {
    const [command, ...args] = argv;
    if (command === undefined) {
      io.stderr(USAGE);
      return COMPLIANCE_EXIT.failed;
    }
    const entry = (name: string | undefined) =>
      name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (command === 'help' || command === '--help' || command === '-h') {
      io.stdout(entry(args[0])?.help ?? USAGE);
      return COMPLIANCE_EXIT.ok;
    }
    const found = entry(command);
    if (found === undefined) {
      throw new UsageError(`Unknown command ${JSON.stringify(command)}`, 'The commands are plan and apply.');
    }
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout(found.help);
      return COMPLIANCE_EXIT.ok;
    }
    return await found.run(args, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof RegionError) {
      io.stderr(`error: ${error.message}; nothing was changed.`);
      if (error.hint) io.stderr(error.hint);
      return COMPLIANCE_EXIT.failed;
    }
    if (error instanceof ConfigError) {
      io.stderr(`Config error, nothing was changed: ${error.message}`);
      return COMPLIANCE_EXIT.failed;
    }
    if (error instanceof EcrGatewayError) {
      io.stderr(`ECR error: ${error.message}`);
      if (error instanceof AccessDeniedError) {
        io.stderr('Check the AWS credentials (environment, profile, SSO or role) and their ECR permissions.');
      }
      return COMPLIANCE_EXIT.failed;
    }
    io.stderr(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return COMPLIANCE_EXIT.failed;
  }
}
