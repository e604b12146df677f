import { parseArgs } from 'node:util';
import { loadServiceConfig } from '../shared/config/file.ts';
import { readConfigFiles } from '../shared/config/files.ts';
import { ConfigError } from '../shared/config/load.ts';
import { declarationOf } from '../shared/config/registry-schema.ts';
import { createEcrGateway, type ECRClient, type EcrClientOptions, EcrGatewayError } from '../shared/ecr/index.ts';
import { reconcilePlanDocument } from '../shared/formats/plan-document.ts';
import { TOOL } from '../shared/formats/tool.ts';
import { reconcilePicture } from '../shared/pictures/reconcile.ts';
import { formatPlan } from '../shared/policy/reconcile/format.ts';
import { reconcile } from '../shared/reconcile/entry.ts';
import { UsageError } from './commands/errors.ts';
import { writeHtmlReport } from './commands/html.ts';
import { RegionError, resolveRegion } from './region.ts';

/** What the registry CLI needs from its process; `cli/registry.ts` wires the real ones, tests their own. */
export interface RegistryCliIo {
  env: NodeJS.ProcessEnv;
  stdout(line: string): void;
  stderr(line: string): void;
  /** Creates the run's one ECR client. */
  connect(options: EcrClientOptions): ECRClient;
}

/**
 * Exit codes, as `terraform plan -detailed-exitcode`: 0 nothing to change (or everything applied), 1 an error (bad
 * usage, an invalid config, a plan beyond ECR's limits, a change ECR refused), 2 `plan` found changes.
 */
export const REGISTRY_EXIT = { ok: 0, failed: 1, changes: 2 } as const;

const USAGE = `Usage: npm run registry:reconcile -- <plan|apply> [--config <file>...] [--json] [--html <file>]
                                      [--endpoint-url <url>] [--region <region>]

Keeps the registry's settings (replication, pull through cache rules, repository creation templates, registry
scanning, registry policy statements) in line with the config's "registry" section.

Commands:
  plan    Print what would change, field by field. Read-only. Exit code 2 when there are changes.
  apply   Apply the plan; a change ECR refuses is reported and the others still applied (run again to finish).

Options:
  --config <file>       A config file; repeat it for a config split across files (one per team): their registry
                        sections merge, a conflict names both files (default: CONFIG_FILE, else the bundled config)
  --json                plan: print the plan document (format_version 1.0, schemas/plan.schema.json,
                        docs/machine-formats.md); apply: print the report of what was applied as JSON
  --html <file>         Also write the plan as one self-contained HTML report (changes per resource type, each
                        change with its field diff, the plan's problems)
  --endpoint-url <url>  ECR endpoint (default: AWS_ENDPOINT_URL_ECR, else AWS_ENDPOINT_URL, else AWS itself)
  --region <region>     AWS region (default: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's)

Exit codes: 0 no changes / applied; 1 error; 2 plan has changes.`;

export async function runRegistryCli(argv: readonly string[], io: RegistryCliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
        html: { type: 'string' },
        'endpoint-url': { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  try {
    parsed = parse();
  } catch (error) {
    io.stderr(error instanceof Error ? error.message : String(error));
    io.stderr(USAGE);
    return REGISTRY_EXIT.failed;
  }
  const [command, ...extra] = parsed.positionals;
  if (parsed.values.help || command === undefined) {
    (parsed.values.help ? io.stdout : io.stderr)(USAGE);
    return parsed.values.help ? REGISTRY_EXIT.ok : REGISTRY_EXIT.failed;
  }
  if ((command !== 'plan' && command !== 'apply') || extra.length > 0) {
    io.stderr(`Unknown command: ${[command, ...extra].join(' ')}`);
    io.stderr(USAGE);
    return REGISTRY_EXIT.failed;
  }
  // The config is read and validated before the client exists: a bad config sends nothing to ECR.
  let config: ReturnType<typeof loadServiceConfig>;
  try {
    const files = parsed.values.config ?? [];
    config = files.length > 0 ? readConfigFiles(files) : loadServiceConfig(io.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`Config error, nothing was changed: ${error.message}`);
    return REGISTRY_EXIT.failed;
  }
  let region: string;
  try {
    ({ region } = await resolveRegion(parsed.values.region, io.env));
  } catch (error) {
    if (!(error instanceof RegionError)) throw error;
    io.stderr(`${error.message}; nothing was changed.`);
    if (error.hint) io.stderr(error.hint);
    return REGISTRY_EXIT.failed;
  }
  const dryRun = command === 'plan';
  const client = io.connect({
    ...(parsed.values['endpoint-url'] ? { endpoint: parsed.values['endpoint-url'] } : {}),
    region,
  });
  const gateway = createEcrGateway(client, { readOnly: dryRun });
  let outcome: Awaited<ReturnType<typeof reconcile>>;
  try {
    outcome = await reconcile(gateway, declarationOf(config.registry), { runId: `cli-${command}`, dryRun });
  } catch (error) {
    // ECR (or the way to it) failed: one message, as for the other errors; a stack is for bugs.
    if (!(error instanceof EcrGatewayError)) throw error;
    io.stderr(`ECR error, ${dryRun ? 'no plan made' : 'nothing more was changed'}: ${error.message}`);
    return REGISTRY_EXIT.failed;
  } finally {
    client.destroy();
  }
  const { report, plan } = outcome;
  if (parsed.values.html !== undefined) {
    const endpoint = parsed.values['endpoint-url'];
    const context = { plannedAt: new Date().toISOString(), region, ...(endpoint ? { endpoint } : {}) };
    try {
      await writeHtmlReport(parsed.values.html, reconcilePicture(plan, context));
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      io.stderr(error.message);
      return REGISTRY_EXIT.failed;
    }
    io.stderr(`HTML report written to ${parsed.values.html}.`);
  }
  if (parsed.values.json) {
    // plan: the plan document (docs/machine-formats.md); apply: the report of what was applied.
    const endpoint = parsed.values['endpoint-url'];
    const context = { region, timestamp: new Date().toISOString(), ...(endpoint ? { endpoint } : {}) };
    io.stdout(JSON.stringify(dryRun ? reconcilePlanDocument(plan, context, TOOL) : report, null, 2));
  } else {
    for (const line of formatPlan(plan)) io.stdout(line);
    if (!dryRun && report.status !== 'invalid') {
      for (const change of report.applied) io.stdout(`applied: ${change}`);
      for (const failure of report.notApplied) io.stdout(`NOT applied: ${failure.change}: ${failure.error}`);
    }
  }
  if (report.status === 'invalid') {
    io.stderr('The registry after this plan would break ECR limits; nothing was changed.');
    return REGISTRY_EXIT.failed;
  }
  if (report.status === 'partial') {
    io.stderr(`${report.notApplied.length} change(s) not applied; run apply again to complete them.`);
    return REGISTRY_EXIT.failed;
  }
  if (dryRun) return plan.changes.length > 0 ? REGISTRY_EXIT.changes : REGISTRY_EXIT.ok;
  return REGISTRY_EXIT.ok;
}
