import { accessSync, constants, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadServiceConfig } from '../../shared/config/file.ts';
import { ConfigError, scanRuleFor } from '../../shared/config/load.ts';
import type { ServiceConfig } from '../../shared/config/schema.ts';
import {
  createEcrGateway,
  type ECRClient,
  type EcrClientOptions,
  type EcrGateway,
  EcrGatewayError,
} from '../../shared/ecr/index.ts';
import { scanVerdictJunit } from '../../shared/formats/junit.ts';
import { type FindingDetails, scanVerdictSarif } from '../../shared/formats/sarif.ts';
import { TOOL } from '../../shared/formats/tool.ts';
import type { Clock } from '../../shared/runtime/clock.ts';
import { runScanVerdict } from '../../shared/scan/entry.ts';
import type { ScanVerdict } from '../../shared/scan/report.ts';
import { RegionError, resolveRegion } from '../region.ts';
import { renderTable, shortDigest } from './format.ts';
import { registryClock } from './registry-clock.ts';

/**
 * `scan-gate <repository>:<tag>` for CI pipelines: waits for the image's scan, judges it with the same scan policy
 * and allow-list as the `on-scan-result` handler (read-only: it never tags or untags), prints the verdict, and exits
 * with a code a pipeline can act on.
 */
export const GATE_EXIT = {
  /** PASS, or no scan rule covers the repository (nothing to gate). */
  pass: 0,
  /** FAIL: findings over the policy, or the scan failed. */
  fail: 1,
  /** Bad usage or config. */
  usage: 2,
  /** The scan did not complete within --timeout. */
  timeout: 3,
  /** The image does not exist, or ECR failed. */
  error: 4,
} as const;

export interface ScanGateIo {
  env: NodeJS.ProcessEnv;
  stdout(line: string): void;
  stderr(line: string): void;
  connect(options: EcrClientOptions): ECRClient;
  now: Clock;
  /** Waits between polls (default: a real timer). */
  sleep?(ms: number): Promise<void>;
}

const USAGE = `Usage: npm run scan-gate -- <repository>:<tag> | <repository>@sha256:<hex> [options]
Waits for the image's scan, judges it against the scan policy and the allow-list, and exits:
  0 PASS (or no scan rule covers the repository), 1 FAIL, 2 bad usage or config, 3 timeout, 4 image missing or ECR error.

Options:
  --timeout <seconds>   How long to wait for the scan (default 600)
  --interval <seconds>  Between polls (default 5, as ECR's ImageScanComplete waiter)
  --json                Print the verdict as JSON (the "Image Scan Verdict" detail)
  --sarif <file>        Also write the verdict as SARIF 2.1.0 for GitHub code scanning: one result per blocking
                        finding, one rule per vulnerability with its help URI (docs/machine-formats.md)
  --junit <file>        Also write the verdict as JUnit XML: one testsuite for the image, one testcase per finding
                        listed, a failure for each blocking one; a --sarif or --junit file that cannot be
                        written is exit 2, before anything is read from ECR when its folder is missing or read-only
  --config <file>       The service config (default: CONFIG_FILE, else the bundled one)
  --endpoint-url <url>  ECR endpoint (default: AWS_ENDPOINT_URL_ECR, else AWS itself)
  --region <region>     Default: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's region`;

class GateUsageError extends Error {}

/** `repo:tag` or `repo@sha256:...`; the tag is after the last `:` that follows the last `/`. */
export function parseImageReference(text: string): { repositoryName: string; tag?: string; digest?: string } {
  const at = text.indexOf('@');
  if (at > 0) {
    const digest = text.slice(at + 1);
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new GateUsageError(`Not a digest: ${digest}`);
    return { repositoryName: text.slice(0, at), digest };
  }
  const colon = text.lastIndexOf(':');
  if (colon <= text.lastIndexOf('/') || colon === text.length - 1) {
    throw new GateUsageError(`Give the image as <repository>:<tag> or <repository>@sha256:<hex>, not ${text}`);
  }
  return { repositoryName: text.slice(0, colon), tag: text.slice(colon + 1) };
}

const seconds = (text: string | undefined, fallback: number, name: string) => {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new GateUsageError(`${name} must be a number of seconds ≥ 0`);
  return value * 1000;
};

export async function runScanGate(argv: readonly string[], io: ScanGateIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  let config: Readonly<ServiceConfig>;
  try {
    parsed = parse(argv);
    if (parsed.help) {
      io.stdout(USAGE);
      return GATE_EXIT.pass;
    }
    config = loadServiceConfig(parsed.config === undefined ? io.env : { ...io.env, CONFIG_FILE: parsed.config });
  } catch (error) {
    if (error instanceof GateUsageError || error instanceof ConfigError || error instanceof TypeError) {
      io.stderr(error.message);
      if (!(error instanceof ConfigError)) io.stderr(USAGE);
      return GATE_EXIT.usage;
    }
    if (error instanceof Error && error.message.startsWith('Cannot read CONFIG_FILE')) {
      io.stderr(error.message);
      return GATE_EXIT.usage;
    }
    throw error;
  }
  const { reference, timeoutMs, intervalMs, json } = parsed;
  const reports = { sarif: parsed.sarif, junit: parsed.junit };
  for (const [flag, path] of Object.entries(reports)) {
    const problem = path === undefined ? undefined : unwritable(path);
    if (problem !== undefined) {
      io.stderr(`Cannot write the --${flag} file ${path}: ${problem}; nothing was read from ECR`);
      return GATE_EXIT.usage;
    }
  }
  let region: string;
  try {
    ({ region } = await resolveRegion(parsed.region, io.env));
  } catch (error) {
    if (!(error instanceof RegionError)) throw error;
    // A configuration error, not a missing image: exit 4 would tell a pipeline the image is gone.
    io.stderr(error.message);
    if (error.hint) io.stderr(error.hint);
    return GATE_EXIT.usage;
  }
  const gateway = createEcrGateway(
    io.connect({ ...(parsed.endpoint === undefined ? {} : { endpoint: parsed.endpoint }), region }),
    { readOnly: true },
  );
  const wait = io.sleep ?? ((ms: number) => sleep(ms));
  // Allow-list expiry on the registry's clock (the local registry's can be moved); the timeout on the machine's.
  const clock = await registryClock(parsed.endpoint ?? io.env.AWS_ENDPOINT_URL_ECR, io.now);
  const started = io.now();
  try {
    let digest = reference.digest;
    if (digest === undefined) {
      const image = await gateway.findImageByTag(reference.repositoryName, reference.tag ?? '');
      if (!image) {
        io.stderr(`No image tagged ${reference.tag} in ${reference.repositoryName}`);
        return GATE_EXIT.error;
      }
      digest = image.digest;
    }
    const match = scanRuleFor(config.scan, reference.repositoryName);
    for (;;) {
      const verdict = await runScanVerdict(gateway, {
        trigger: {
          eventId: 'scan-gate',
          eventTime: new Date(clock()).toISOString(),
          source: 'cli',
          detailType: 'scan-gate',
        },
        repositoryName: reference.repositoryName,
        digest,
        eventTags: reference.tag === undefined ? [] : [reference.tag],
        match,
        allowList: config.scan.allowList,
        now: clock(),
        act: false,
      });
      const waiting = verdict.skipped?.code === 'scan-not-found' || verdict.skipped?.code === 'scan-in-progress';
      if (!waiting) {
        print(verdict, json, io);
        if (!(await writeReports(verdict, reports, gateway, io))) return GATE_EXIT.usage;
        if (verdict.skipped?.code === 'image-gone' || verdict.skipped?.code === 'repository-gone')
          return GATE_EXIT.error;
        return verdict.verdict === 'FAIL' ? GATE_EXIT.fail : GATE_EXIT.pass;
      }
      const elapsed = io.now() - started;
      if (elapsed >= timeoutMs) {
        const message = `Timed out after ${Math.round(elapsed / 1000)} s waiting for the scan of ${reference.repositoryName}@${digest}: ${verdict.skipped?.message ?? ''}`;
        if (json) io.stdout(JSON.stringify({ ...verdict, timedOut: true }, null, 2));
        io.stderr(message);
        if (!(await writeReports(verdict, reports, gateway, io))) return GATE_EXIT.usage;
        return GATE_EXIT.timeout;
      }
      await wait(Math.min(intervalMs, Math.max(timeoutMs - elapsed, 0)));
    }
  } catch (error) {
    if (error instanceof EcrGatewayError) {
      io.stderr(error.message);
      return GATE_EXIT.error;
    }
    throw error;
  }
}

function parse(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      timeout: { type: 'string' },
      interval: { type: 'string' },
      json: { type: 'boolean', default: false },
      sarif: { type: 'string' },
      junit: { type: 'string' },
      config: { type: 'string' },
      'endpoint-url': { type: 'string' },
      region: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return { help: true as const } as never;
  const [image, ...extra] = positionals;
  if (image === undefined || extra.length > 0) throw new GateUsageError('Give exactly one image');
  return {
    help: false as const,
    reference: parseImageReference(image),
    timeoutMs: seconds(values.timeout, 600_000, '--timeout'),
    intervalMs: seconds(values.interval, 5_000, '--interval'),
    json: values.json,
    sarif: reportPath(values.sarif, '--sarif'),
    junit: reportPath(values.junit, '--junit'),
    config: values.config,
    endpoint: values['endpoint-url'],
    region: values.region,
  };
}

const formatCounts = (counts: Partial<Record<string, number>> | undefined) =>
  Object.entries(counts ?? {})
    .map(([severity, count]) => `${severity} ${count}`)
    .join(', ') || 'none';

function print(verdict: ScanVerdict, json: boolean, io: ScanGateIo): void {
  if (json) {
    io.stdout(JSON.stringify(verdict, null, 2));
    return;
  }
  const image = `${verdict.repositoryName} ${shortDigest(verdict.digest)}${verdict.tags.length > 0 ? ` (${verdict.tags.join(', ')})` : ''}`;
  io.stdout(`${verdict.verdict}  ${image}`);
  if (verdict.skipped) io.stdout(`  ${verdict.skipped.code}: ${verdict.skipped.message}`);
  if (verdict.reason) io.stdout(`  ${verdict.reason.code}: ${verdict.reason.message}`);
  if (verdict.counts) {
    io.stdout(`  found: ${formatCounts(verdict.counts.found)}`);
    io.stdout(`  counted: ${formatCounts(verdict.counts.counted)} (allowed ${verdict.counts.allowed})`);
  }
  for (const breach of verdict.breaches ?? []) {
    io.stdout(
      breach.code === 'cvss'
        ? `  breach: ${breach.count} finding(s) with CVSS ≥ ${breach.threshold}`
        : `  breach: ${breach.count} ${breach.severity} (at most ${breach.max})`,
    );
  }
  if (verdict.blocking && verdict.blocking.length > 0) {
    io.stdout('');
    io.stdout(`Blocking (${verdict.blockingTotal}):`);
    for (const line of renderTable(
      ['SEVERITY', 'ID', 'PACKAGE', 'CVSS', 'FIXED IN'],
      verdict.blocking.map((f) => [
        f.severity,
        f.id,
        f.package ?? '',
        f.cvss?.toString() ?? '',
        f.fixedInVersion ?? '',
      ]),
    )) {
      io.stdout(`  ${line}`);
    }
  }
  if (verdict.allowed && verdict.allowed.length > 0) {
    io.stdout('');
    io.stdout(`Allowed (${verdict.allowedTotal}):`);
    for (const line of renderTable(
      ['SEVERITY', 'ID', 'PACKAGE', 'UNTIL', 'OWNER'],
      verdict.allowed.map((f) => [f.severity, f.id, f.package ?? '', f.allowedUntil, f.owner]),
    )) {
      io.stdout(`  ${line}`);
    }
  }
  for (const entry of verdict.expiredEntries ?? []) {
    io.stdout(`  expired allow-list entry: ${entry.id} (expired ${entry.expires}, owner ${entry.owner})`);
  }
}

// --- Report files (--sarif, --junit) -----------------------------------------------------------------------------

function reportPath(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (value === '' || value.startsWith('-')) throw new GateUsageError(`${flag} needs a file name`);
  return value;
}

/** Why a report cannot be written at `path`, found before the gate waits for the scan; undefined when it can. */
function unwritable(path: string): string | undefined {
  try {
    const existing = statSync(path, { throwIfNoEntry: false });
    if (existing?.isDirectory()) return 'it is a folder';
    if (existing !== undefined && !existing.isFile()) return 'it is not a regular file';
    const folder = dirname(resolve(path));
    if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) return `no such folder ${folder}`;
    accessSync(folder, constants.W_OK);
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return `${dirname(resolve(path))} is not a folder`;
    return error instanceof Error ? error.message : String(error);
  }
}

/** Writes the file whole or not at all: a temporary file in the same folder, renamed into place. */
function writeWhole(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // Never written, or already gone.
    }
    throw error;
  }
}

/**
 * The blocking findings' reference URLs and descriptions, which the verdict leaves out: basic scan findings carry a
 * `uri` (the advisory); enhanced ones here only a description (the gateway keeps no reference URLs of Inspector's).
 */
async function findingDetails(
  gateway: EcrGateway,
  verdict: ScanVerdict,
): Promise<ReadonlyMap<string, FindingDetails> | undefined> {
  const wanted = new Set((verdict.blocking ?? []).map((finding) => finding.id));
  if (wanted.size === 0) return undefined;
  const details = new Map<string, FindingDetails>();
  for await (const page of gateway.getScanFindings(verdict.repositoryName, verdict.digest)) {
    for (const finding of page.findings) {
      if (!wanted.has(finding.name) || details.has(finding.name)) continue;
      details.set(finding.name, {
        ...(finding.uri === undefined ? {} : { uri: finding.uri }),
        ...(finding.description === undefined ? {} : { description: finding.description }),
      });
    }
    for (const finding of page.enhancedFindings) {
      const id = finding.vulnerabilityId ?? finding.title ?? finding.findingArn;
      if (!wanted.has(id) || details.has(id) || finding.description === undefined) continue;
      details.set(id, { description: finding.description });
    }
  }
  return details;
}

/** Writes `--sarif` and `--junit`; false (the error said) when one cannot be written. */
async function writeReports(
  verdict: ScanVerdict,
  reports: { sarif: string | undefined; junit: string | undefined },
  gateway: EcrGateway,
  io: ScanGateIo,
): Promise<boolean> {
  const texts: [flag: string, path: string, text: () => Promise<string>][] = [];
  if (reports.sarif !== undefined) {
    texts.push([
      'sarif',
      reports.sarif,
      async () => {
        const details = await findingDetails(gateway, verdict);
        return `${JSON.stringify(scanVerdictSarif(verdict, { tool: TOOL, ...(details ? { details } : {}) }), null, 2)}\n`;
      },
    ]);
  }
  if (reports.junit !== undefined) texts.push(['junit', reports.junit, async () => scanVerdictJunit(verdict, TOOL)]);
  for (const [flag, path, text] of texts) {
    try {
      writeWhole(path, await text());
    } catch (error) {
      if (error instanceof EcrGatewayError) throw error;
      io.stderr(`Cannot write the --${flag} file ${path}: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  }
  return true;
}
