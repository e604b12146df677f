import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadServiceConfig } from '../../shared/config/file.ts';
import { ConfigError, scanRuleFor } from '../../shared/config/load.ts';
import type { ServiceConfig } from '../../shared/config/schema.ts';
import { createEcrGateway, type ECRClient, type EcrClientOptions, EcrGatewayError } from '../../shared/ecr/index.ts';
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
        if (verdict.skipped?.code === 'image-gone' || verdict.skipped?.code === 'repository-gone')
          return GATE_EXIT.error;
        return verdict.verdict === 'FAIL' ? GATE_EXIT.fail : GATE_EXIT.pass;
      }
      const elapsed = io.now() - started;
      if (elapsed >= timeoutMs) {
        const message = `Timed out after ${Math.round(elapsed / 1000)} s waiting for the scan of ${reference.repositoryName}@${digest}: ${verdict.skipped?.message ?? ''}`;
        if (json) io.stdout(JSON.stringify({ ...verdict, timedOut: true }, null, 2));
        io.stderr(message);
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
