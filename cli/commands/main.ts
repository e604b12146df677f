import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { IntegrityError } from '../../shared/cleanup/act.ts';
import { SnapshotError } from '../../shared/cleanup/gather.ts';
import { loadServiceConfig } from '../../shared/config/file.ts';
import { ConfigError, parseConfigText } from '../../shared/config/load.ts';
import type { ServiceConfig } from '../../shared/config/schema.ts';
import type { InUseSnapshot } from '../../shared/domain/in-use.ts';
import {
  AccessDeniedError,
  createEcrGateway,
  type ECRClient,
  type EcrClientOptions,
  type EcrGateway,
  EcrGatewayError,
} from '../../shared/ecr/index.ts';
import {
  createEcrPublicClient,
  createEcrPublicGateway,
  DEFAULT_PUBLIC_REGISTRY_URL,
  ECR_PUBLIC_API_REGION,
  type ECRPUBLICClient,
  type EcrPublicClientOptions,
} from '../../shared/ecr-public/index.ts';
import { cleanupPicture } from '../../shared/pictures/cleanup.ts';
import type { Clock } from '../../shared/runtime/clock.ts';
import { checkedRegion, RegionError, resolveRegion } from '../region.ts';
import { applyPlan } from './apply.ts';
import { EXIT, UsageError } from './errors.ts';
import { writeHtmlReport } from './html.ts';
import { readInUse } from './in-use.ts';
import { makePlan } from './plan.ts';
import { type PlanFile, readPlanFile } from './plan-file.ts';
import { registryClock } from './registry-clock.ts';
import { restoreImage } from './restore.ts';
import { isDryRun, runCleanup } from './run.ts';
import type { CliGateway } from './select.ts';

/** What the CLI needs from its process; `cli/cleanup.ts` wires the real ones, tests their own. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout(line: string): void;
  stderr(line: string): void;
  /** Whether standard input is a terminal, so that a confirmation can be asked for. */
  interactive: boolean;
  confirm(question: string): Promise<boolean>;
  /** Creates the run's one ECR client. */
  connect(options: EcrClientOptions): ECRClient;
  /** Creates the run's one ECR Public client (`--public`); default `createEcrPublicClient`. */
  connectPublic?(options: EcrPublicClientOptions): ECRPUBLICClient;
  now: Clock;
  /** Waits (`restore` polling); default a timer. A test moves the local registry's clock instead. */
  sleep?(ms: number): Promise<void>;
}

const DEFAULT_PLAN_FILE = 'cleanup-plan.json';

const USAGE = `Usage: npm run cleanup -- <command> [options]

Preview or run the ECR cleanup against any endpoint: the local registry, or an AWS account.

Commands:
  plan            Plan every repository a cleanup rule matches: write the plan file, print a table per repository
  apply <file>    Carry out a saved plan; refuse it, deleting nothing, if any repository changed since or an image
                  it deletes now runs (cleanup.inUse)
  run             Plan and apply in one go (--dry-run to preview)
  report <file> --html <out>
                  Write a saved plan as one self-contained HTML report (summary, decisions, image graphs)
  restore <repository> <digest|tag>
                  Bring an image back from ECR's archive, with its archived referrers and children; wait until ACTIVE

Common options:
  --endpoint-url <url>  ECR endpoint (default: AWS_ENDPOINT_URL_ECR, else AWS_ENDPOINT_URL, else AWS itself)
  --region <region>     AWS region (default: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's)
  --public              ECR Public's repositories, with the config's rules for registry "public" (its API is in
                        us-east-1; --endpoint-url defaults to AWS_ENDPOINT_URL_ECR_PUBLIC, else AWS_ENDPOINT_URL;
                        manifests are read at ECR_PUBLIC_REGISTRY_URL, else the endpoint, else https://public.ecr.aws)
  -h, --help            This help; "npm run cleanup -- <command> --help" for a command's

Credentials come from the AWS SDK's default chain (environment, shared profile, SSO, role).
Exit codes: 0 done; 1 failed, refused or declined; 2 bad usage, config or plan file.`;

const IN_USE_HELP = `When the config names in-use providers (cleanup.inUse: ECS, Lambda, Kubernetes lists), the images
that run are read once and kept, as the Lambda worker keeps them; a repository a failed provider covers keeps all.`;

const IN_USE_OPTION_HELP = `  --in-use-endpoint-url <url>
                        Endpoint of the in-use providers' ECS, Lambda, S3 and SSM clients (default: the SDK's own,
                        AWS_ENDPOINT_URL_ECS etc., else AWS_ENDPOINT_URL; else --endpoint-url when it is a loopback
                        address, the local registry; else AWS itself)`;

const PLAN_HELP = `Usage: npm run cleanup -- plan [--repository <glob>...] [--config <file>] [--out <file>] [--json] [--html <file>]
                               [--public] [--endpoint-url <url>] [--region <region>] [--in-use-endpoint-url <url>]

Lists the repositories and, for each one an enabled cleanup rule matches, reads its images and decides each one's
fate. Writes the plan file (every decision with its reason, the images seen and their fingerprint) and prints a table
per repository. Read-only: the registry does not change.
${IN_USE_HELP}

Options:
  --repository <glob>   Only repositories matching this glob; repeatable (* within a path segment, ** across)
  --config <file>       Cleanup config (default: CONFIG_FILE, else the bundled config/ecr-automation.json)
  --out <file>          The plan file to write (default: ${DEFAULT_PLAN_FILE})
  --json                Print the plan document instead of the tables (format_version 1.0, modelled on terraform
                        show -json: schemas/plan.schema.json, docs/machine-formats.md); it replaces the plan
                        file's JSON printed before: apply carries out the plan file (--out), not this document
  --html <file>         Also write the plan as one self-contained HTML report: the figures per repository and rule,
                        the safety brake, every decision (sortable, filterable) and each repository's image graph
  --public              Plan ECR Public's repositories with the config's public rules (the plan file says so)
  --endpoint-url <url>  ECR endpoint (default: AWS_ENDPOINT_URL_ECR, else AWS_ENDPOINT_URL, else AWS itself)
  --region <region>     AWS region (default: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's)
${IN_USE_OPTION_HELP}`;

const APPLY_HELP = `Usage: npm run cleanup -- apply <plan.json> [--yes] [--config <file>] [--public] [--endpoint-url <url>]
                                [--region <region>] [--in-use-endpoint-url <url>]

Carries out a saved plan. Every repository with deletions is first compared with the fingerprint the plan saved;
if any changed (images added or removed, tags changed, pulled since), the whole plan is refused and nothing is
deleted anywhere. Then, when the config names in-use providers (cleanup.inUse), what runs is read again: if an
image the plan deletes now runs, or a provider covering a repository with deletions fails, the whole plan is
refused too. Deletes with the rules saved in the plan (the config gives only cleanup.inUse), then checks that every
kept image still resolves whole.

Options:
  -y, --yes             Do not ask for confirmation (required when standard input is not a terminal)
  --config <file>       Config whose cleanup.inUse is checked (default: CONFIG_FILE, else the bundled config)
  --public              Expect a plan of ECR Public (a plan remembers its registry; a private plan is refused)
  --endpoint-url <url>  Default: the plan's endpoint; any other is refused
  --region <region>     Default: the plan's region; any other is refused
${IN_USE_OPTION_HELP}`;

const RUN_HELP = `Usage: npm run cleanup -- run [--repository <glob>...] [--config <file>] [--dry-run] [--yes]
                              [--public] [--endpoint-url <url>] [--region <region>] [--in-use-endpoint-url <url>]

Plans and applies in one go, repository by repository, with the code the Lambda worker runs. No plan file.
${IN_USE_HELP}

Options:
  --repository <glob>   Only repositories matching this glob; repeatable
  --config <file>       Cleanup config (default: CONFIG_FILE, else the bundled config/ecr-automation.json)
  --dry-run             Plan and print only: the ECR gateway refuses every mutating call
  --public              Clean ECR Public's repositories with the config's public rules
  -y, --yes             Do not ask for confirmation (required when standard input is not a terminal)
  --endpoint-url <url>  ECR endpoint (default: AWS_ENDPOINT_URL_ECR, else AWS_ENDPOINT_URL, else AWS itself)
  --region <region>     AWS region (default: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's)
${IN_USE_OPTION_HELP}`;

const REPORT_HELP = `Usage: npm run cleanup -- report <plan.json> --html <file>

Writes a saved plan (from plan --out) as one self-contained HTML file that opens from disk and loads nothing from
the network: the images and bytes to delete per repository and per rule, the safety brake's state, every decision
with its reason (sortable, filterable), and each repository's image graph (index → children, subject → referrers,
tags), kept and deleted nodes with their reasons. Reads no registry. A file that is not a plan, or of another
format version, is refused.

Options:
  --html <file>         The HTML file to write`;

const RESTORE_HELP = `Usage: npm run cleanup -- restore <repository> <digest|tag> [--wait-seconds <n>] [--poll-seconds <n>]
                                  [--endpoint-url <url>] [--region <region>]

Brings an archived image back to standard storage (UpdateImageStorageClass STANDARD), with its archived referrers
(signatures, attestations) and, once an index is readable again, its archived children, then waits until all are
ACTIVE and can be pulled. An image already ACTIVE is left as it is. ECR's restore takes up to 20 minutes; the local
registry's follows its clock (POST /_local/clock).

Options:
  --wait-seconds <n>    How long to wait for ACTIVE, in all (default 3600: an index, then its children, up to 20
                        minutes each); past it, exit 1 (the restore goes on in ECR)
  --poll-seconds <n>    How often to look (default 15)
  --endpoint-url <url>  ECR endpoint (default: AWS_ENDPOINT_URL_ECR, else AWS_ENDPOINT_URL, else AWS itself)
  --region <region>     AWS region (default: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's)`;

const TARGET_OPTIONS = {
  'endpoint-url': { type: 'string' },
  region: { type: 'string' },
  public: { type: 'boolean', default: false },
} as const;

const SELECTION_OPTIONS = {
  repository: { type: 'string', multiple: true },
  config: { type: 'string' },
} as const;

const IN_USE_OPTIONS = {
  'in-use-endpoint-url': { type: 'string' },
} as const;

/**
 * A command-line tool's commands: its usage, each command's help and body, and the hint an unknown command gets.
 * `runCommandLine` prints help, refuses unknown commands and reports expected errors as one message, without a stack.
 */
export interface CommandLine {
  usage: string;
  /** The commands by name, each with its help text and body. */
  commands: Readonly<Record<string, { help: string; run: (args: readonly string[], io: CliIo) => Promise<number> }>>;
  /** Said after "Unknown command": what the commands are. */
  unknownHint: string;
}

/** Runs one command of `tool` and returns the exit code. */
export async function runCommandLine(argv: readonly string[], io: CliIo, tool: CommandLine): Promise<number> {
  try {
    const [command, ...args] = argv;
    if (command === undefined) {
      io.stderr(tool.usage);
      return EXIT.usage;
    }
    const entry = (name: string | undefined) =>
      name !== undefined && Object.hasOwn(tool.commands, name) ? tool.commands[name] : undefined;
    if (command === 'help' || command === '--help' || command === '-h') {
      io.stdout(entry(args[0])?.help ?? tool.usage);
      return EXIT.ok;
    }
    const found = entry(command);
    if (found === undefined) throw new UsageError(`Unknown command ${JSON.stringify(command)}`, tool.unknownHint);
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout(found.help);
      return EXIT.ok;
    }
    return await found.run(args, io);
  } catch (error) {
    return reportError(error, io);
  }
}

/** `cleanup <command> ...`: returns the exit code; expected errors are printed as one message, without a stack. */
export const runCleanupCli = (argv: readonly string[], io: CliIo): Promise<number> =>
  runCommandLine(argv, io, {
    usage: USAGE,
    commands: {
      plan: { help: PLAN_HELP, run: planCommand },
      apply: { help: APPLY_HELP, run: applyCommand },
      run: { help: RUN_HELP, run: runCommand },
      restore: { help: RESTORE_HELP, run: restoreCommand },
      report: { help: REPORT_HELP, run: reportCommand },
    },
    unknownHint: 'The commands are plan, apply, run, restore and report: npm run cleanup -- --help',
  });

/** A whole number of seconds from 1 to a day, from the command line. */
function seconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 86_400) {
    throw new UsageError(`${flag} must be a whole number of seconds from 1 to 86400, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}

async function restoreCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine('restore', () =>
    parseArgs({
      args: [...args],
      options: {
        'endpoint-url': { type: 'string' },
        region: { type: 'string' },
        'wait-seconds': { type: 'string' },
        'poll-seconds': { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    }),
  );
  const [repositoryName, reference, ...extra] = positionals;
  if (repositoryName === undefined || reference === undefined || extra.length > 0) {
    throw new UsageError(
      'restore takes a repository and a digest or tag',
      'npm run cleanup -- restore <repository> <digest|tag>',
    );
  }
  const waitSeconds = seconds(values['wait-seconds'], '--wait-seconds', 3_600);
  const pollSeconds = seconds(values['poll-seconds'], '--poll-seconds', 15);
  const target = await targetFor(values['endpoint-url'], values.region, io.env);
  const client = io.connect({
    ...(target.endpoint === undefined ? {} : { endpoint: target.endpoint }),
    region: target.region,
  });
  try {
    return await restoreImage(
      {
        gateway: createEcrGateway(client, { readOnly: false }),
        out: io.stdout,
        err: io.stderr,
        sleep: io.sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms))),
      },
      { repositoryName, reference, waitSeconds, pollSeconds },
    );
  } finally {
    client.destroy();
  }
}

async function planCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine('plan', () =>
    parseArgs({
      args: [...args],
      options: {
        ...TARGET_OPTIONS,
        ...SELECTION_OPTIONS,
        ...IN_USE_OPTIONS,
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
        html: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    }),
  );
  noPositionals('plan', positionals);
  const config = loadCliConfig(values.config, io.env);
  const target = await targetFor(values['endpoint-url'], values.region, io.env, values.public);
  const inUseFlag = checkedInUseEndpoint(values['in-use-endpoint-url']);
  const now = await registryClock(target.endpoint, io.now);
  const inUse = await readInUseFor(config, target, inUseFlag, io);
  return await withGateway(io, target, { readOnly: true }, async (gateway) => {
    const result = await makePlan(
      { gateway, config, now: now(), out: io.stdout, err: io.stderr },
      {
        repositories: values.repository ?? [],
        ...(target.registry === 'public' ? { registry: 'public' as const } : {}),
        target,
        outFile: values.out ?? DEFAULT_PLAN_FILE,
        json: values.json,
        ...(inUse === undefined ? {} : { inUse }),
      },
    );
    if (values.html !== undefined) await htmlReportOf(result.file, values.html, io);
    return result.exitCode;
  });
}

async function reportCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine('report', () =>
    parseArgs({ args: [...args], options: { html: { type: 'string' } }, allowPositionals: true, strict: true }),
  );
  const [path, ...extra] = positionals;
  if (path === undefined || extra.length > 0 || values.html === undefined) {
    throw new UsageError(
      path === undefined
        ? 'report needs the plan file to show'
        : extra.length > 0
          ? `report takes one plan file, got ${positionals.length}`
          : 'report needs --html <file>',
      'npm run cleanup -- report <plan.json> --html <file>',
    );
  }
  await htmlReportOf(readPlanFile(path), values.html, io);
  return EXIT.ok;
}

/** Writes the HTML report of a plan file and says where. */
async function htmlReportOf(file: PlanFile, path: string, io: CliIo): Promise<void> {
  const bytes = await writeHtmlReport(path, cleanupPicture(file));
  io.stderr(`HTML report written to ${path} (${(bytes / 1_048_576).toFixed(1)} MiB).`);
}

async function applyCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine('apply', () =>
    parseArgs({
      args: [...args],
      options: {
        ...TARGET_OPTIONS,
        ...IN_USE_OPTIONS,
        config: { type: 'string' },
        yes: { type: 'boolean', short: 'y', default: false },
      },
      allowPositionals: true,
      strict: true,
    }),
  );
  const [path, ...extra] = positionals;
  if (path === undefined || extra.length > 0) {
    throw new UsageError(
      path === undefined
        ? 'apply needs the plan file to carry out'
        : `apply takes one plan file, got ${positionals.length}`,
      'npm run cleanup -- apply <plan.json> [--yes]',
    );
  }
  const file = readPlanFile(path);
  if (values.public && file.registry !== 'public') {
    throw new UsageError(
      `${path} is a plan of the private registry, not of ECR Public`,
      'Apply it without --public, or make a plan with: npm run cleanup -- plan --public',
    );
  }
  const config = loadCliConfig(values.config, io.env);
  const target = applyTargetFor(file, values['endpoint-url'], values.region, io.env);
  const inUseFlag = checkedInUseEndpoint(values['in-use-endpoint-url']);
  const now = await registryClock(target.endpoint, io.now);
  return await withGateway(io, target, { readOnly: false }, async (gateway) => {
    const result = await applyPlan(
      {
        gateway,
        now: now(),
        out: io.stdout,
        err: io.stderr,
        interactive: io.interactive,
        confirm: (question) => io.confirm(question),
        readInUse: () => readInUseFor(config, target, inUseFlag, io),
      },
      { file, source: path, yes: values.yes },
    );
    return result.exitCode;
  });
}

async function runCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine('run', () =>
    parseArgs({
      args: [...args],
      options: {
        ...TARGET_OPTIONS,
        ...SELECTION_OPTIONS,
        ...IN_USE_OPTIONS,
        'dry-run': { type: 'boolean', default: false },
        yes: { type: 'boolean', short: 'y', default: false },
      },
      allowPositionals: true,
      strict: true,
    }),
  );
  noPositionals('run', positionals);
  const config = loadCliConfig(values.config, io.env);
  const target = await targetFor(values['endpoint-url'], values.region, io.env, values.public);
  const now = await registryClock(target.endpoint, io.now);
  const readOnly = isDryRun(config, values['dry-run']);
  const inUseFlag = checkedInUseEndpoint(values['in-use-endpoint-url']);
  return await withGateway(io, target, { readOnly }, async (gateway) => {
    const result = await runCleanup(
      {
        gateway,
        config,
        now: now(),
        out: io.stdout,
        err: io.stderr,
        interactive: io.interactive,
        confirm: (question) => io.confirm(question),
        readInUse: () => readInUseFor(config, target, inUseFlag, io),
      },
      {
        repositories: values.repository ?? [],
        ...(target.registry === 'public' ? { registry: 'public' as const } : {}),
        dryRun: values['dry-run'],
        yes: values.yes,
      },
    );
    return result.exitCode;
  });
}

// --- Command line -------------------------------------------------------------------------------------------------

const isParseArgsError = (error: unknown): error is Error =>
  error instanceof Error && String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS_');

/** Parses a command's arguments; Node's parse errors become a `UsageError` naming the command's help (`tool`'s). */
export function parseCommandLine<T>(command: string, parse: () => T, tool = 'cleanup'): T {
  try {
    return parse();
  } catch (error) {
    if (!isParseArgsError(error)) throw error;
    // Node's message goes on to explain `--` for positionals that start with a dash; the first sentence is the news.
    const [first] = error.message.split('. ');
    throw new UsageError(`${command}: ${first ?? error.message}`, `See: npm run ${tool} -- ${command} --help`);
  }
}

export function noPositionals(command: string, positionals: readonly string[], tool = 'cleanup'): void {
  if (positionals.length > 0) {
    throw new UsageError(
      `${command} takes no arguments, got ${JSON.stringify(positionals[0])}`,
      `See: npm run ${tool} -- ${command} --help`,
    );
  }
}

// --- Config and target ---------------------------------------------------------------------------------------------

const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

/** `--config`, else `CONFIG_FILE`, else the bundled config. A bad file is a `UsageError` or `ConfigError` (exit 2). */
export function loadCliConfig(flag: string | undefined, env: NodeJS.ProcessEnv): Readonly<ServiceConfig> {
  const path = flag ?? nonEmpty(env.CONFIG_FILE);
  if (path === undefined) return loadServiceConfig({});
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `Cannot read the config file ${path}: ${code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error)}`,
      flag === undefined ? 'It is named by CONFIG_FILE.' : undefined,
    );
  }
  return parseConfigText(text, path);
}

export interface Target {
  endpoint?: string;
  region: string;
  /** `public`: ECR Public (its API in us-east-1); absent: the private registry of `region`. */
  registry?: 'public';
}

/** The endpoint the SDK would take from the environment (the CLI passes it explicitly, so the two cannot differ). */
function environmentEndpoint(env: NodeJS.ProcessEnv, isPublic = false): { url: string; source: string } | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  for (const name of [isPublic ? 'AWS_ENDPOINT_URL_ECR_PUBLIC' : 'AWS_ENDPOINT_URL_ECR', 'AWS_ENDPOINT_URL']) {
    const url = nonEmpty(env[name]);
    if (url !== undefined) return { url, source: name };
  }
  return undefined;
}

function checkedEndpoint(url: string, source: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new UsageError(
      `${source} ${JSON.stringify(url)} is not an http(s) URL`,
      'For example http://127.0.0.1:4510 (npm start) or https://api.ecr.eu-west-1.amazonaws.com',
    );
  }
  return url;
}

/**
 * `--endpoint-url` else the environment's; the region as cli/region.ts resolves it (none is a usage error), or
 * us-east-1 for ECR Public, whose API is served there only (another `--region` is a usage error).
 */
export async function targetFor(
  endpointFlag: string | undefined,
  regionFlag: string | undefined,
  env: NodeJS.ProcessEnv,
  isPublic = false,
): Promise<Target> {
  const fromEnvironment = environmentEndpoint(env, isPublic);
  const endpoint =
    endpointFlag !== undefined
      ? checkedEndpoint(endpointFlag, '--endpoint-url')
      : fromEnvironment && checkedEndpoint(fromEnvironment.url, fromEnvironment.source);
  const at = endpoint === undefined ? {} : { endpoint };
  if (isPublic) {
    if (regionFlag !== undefined && regionFlag !== ECR_PUBLIC_API_REGION) {
      throw new UsageError(
        `--public: ECR Public's API is in ${ECR_PUBLIC_API_REGION} only, not ${regionFlag}`,
        'Leave --region out with --public.',
      );
    }
    return { ...at, region: ECR_PUBLIC_API_REGION, registry: 'public' };
  }
  const { region } = await resolveRegion(regionFlag, env);
  return { ...at, region };
}

export const checkedInUseEndpoint = (flag: string | undefined) =>
  flag === undefined ? undefined : checkedEndpoint(flag, '--in-use-endpoint-url');

/**
 * What runs, when the config names in-use providers (cli/commands/in-use.ts): read once, in the target's region,
 * at `--in-use-endpoint-url`, else the SDK's own endpoint, else the local registry's when the ECR endpoint is one.
 */
export function readInUseFor(
  config: Readonly<ServiceConfig>,
  target: Target,
  /** `--in-use-endpoint-url`, checked (`checkedInUseEndpoint`). */
  flag: string | undefined,
  io: CliIo,
): Promise<InUseSnapshot | undefined> {
  return readInUse(config.cleanup.inUse, {
    flag,
    env: io.env,
    ecrEndpoint: target.endpoint,
    region: target.region,
    say: io.stderr,
  });
}

const sameEndpoint = (a: string | undefined, b: string | undefined) =>
  a === undefined || b === undefined ? a === b : new URL(a).href === new URL(b).href;

/**
 * `apply` goes where its plan was made: the plan's endpoint and region unless the command line says otherwise, and
 * a command line (or environment) that points elsewhere is refused: the plan's digests and fingerprints describe
 * one registry.
 */
function applyTargetFor(
  file: PlanFile,
  endpointFlag: string | undefined,
  regionFlag: string | undefined,
  env: NodeJS.ProcessEnv,
): Target {
  const fromEnvironment = environmentEndpoint(env, file.registry === 'public');
  const endpoint =
    endpointFlag !== undefined
      ? checkedEndpoint(endpointFlag, '--endpoint-url')
      : (file.endpoint ?? (fromEnvironment && checkedEndpoint(fromEnvironment.url, fromEnvironment.source)));
  const region = regionFlag === undefined ? file.region : checkedRegion(regionFlag, '--region');
  const remake = 'Make a new plan against that registry, or leave --endpoint-url and --region out.';
  if (!sameEndpoint(endpoint, file.endpoint)) {
    throw new UsageError(
      `The plan was made against ${file.endpoint ?? 'AWS itself'}; this apply would reach ${endpoint ?? 'AWS itself'}`,
      remake,
    );
  }
  if (region !== file.region) {
    throw new UsageError(`The plan was made in region ${file.region}; this apply would work in ${region}`, remake);
  }
  return {
    ...(endpoint === undefined ? {} : { endpoint }),
    region,
    ...(file.registry === 'public' ? { registry: 'public' as const } : {}),
  };
}

/**
 * The gateway of the target's registry. ECR Public's manifests are read over its registry API: at
 * `ECR_PUBLIC_REGISTRY_URL`, else at the endpoint (the local registry serves both on one port), else public.ecr.aws.
 */
export async function withGateway(
  io: CliIo,
  target: Target,
  options: { readOnly: boolean },
  act: (gateway: CliGateway) => Promise<number>,
): Promise<number> {
  if (target.registry === 'public') {
    const connect = io.connectPublic ?? createEcrPublicClient;
    const client = connect(target.endpoint === undefined ? {} : { endpoint: target.endpoint });
    const registryUrl = nonEmpty(io.env.ECR_PUBLIC_REGISTRY_URL) ?? target.endpoint ?? DEFAULT_PUBLIC_REGISTRY_URL;
    try {
      return await act(createEcrPublicGateway(client, { ...options, registryUrl }));
    } finally {
      client.destroy();
    }
  }
  return await withEcrGateway(io, target, options, act);
}

/** The ECR gateway of a private registry target, on the run's one client, destroyed when `act` is done. */
export async function withEcrGateway<T>(
  io: CliIo,
  target: Target,
  options: { readOnly: boolean },
  act: (gateway: EcrGateway) => Promise<T>,
): Promise<T> {
  const client = io.connect({
    ...(target.endpoint === undefined ? {} : { endpoint: target.endpoint }),
    region: target.region,
  });
  try {
    return await act(createEcrGateway(client, options));
  } finally {
    client.destroy();
  }
}

// --- Errors --------------------------------------------------------------------------------------------------------

/** Prints an error the way every command does and returns its exit code: 2 for usage and config, 1 for the rest. */
export function reportError(error: unknown, io: CliIo): number {
  if (error instanceof UsageError || error instanceof RegionError) {
    io.stderr(`error: ${error.message}`);
    if (error.hint) io.stderr(error.hint);
    return EXIT.usage;
  }
  if (error instanceof ConfigError) {
    io.stderr(`error: ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof AccessDeniedError) {
    io.stderr(`error: ${error.message}`);
    io.stderr(
      'Check the AWS credentials (environment, profile, SSO or role) and their ECR (or ECR Public) permissions.',
    );
    return EXIT.failed;
  }
  if (error instanceof EcrGatewayError || error instanceof SnapshotError || error instanceof IntegrityError) {
    io.stderr(`error: ${error.message}`);
    return EXIT.failed;
  }
  // Not an expected failure: a bug. The stack is what a bug report needs.
  io.stderr(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return EXIT.failed;
}
