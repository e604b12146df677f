import './quiet-logs.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildContentImage, DEMO_FINDINGS, sha256 } from '../local/registry.ts';
import { localManifest, scheduledRuleNames, startLocalService } from '../local/service.ts';
import { loadServiceConfig } from '../shared/config/file.ts';

/**
 * `npm start`: the local ECR-compatible registry and event bus with the demo registry, serving until Ctrl-C.
 * Options: `--port <n>` (default 4510; 0 picks a free port; also ECR_LOCAL_PORT), `--no-demo`, `--quiet`.
 */
const DEFAULT_PORT = 4510;

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'no-demo': { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    config: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log('Usage: npm start -- [--port <n>] [--no-demo] [--dry-run] [--config <file>] [--quiet]');
  process.exit(0);
}

const portText = values.port ?? process.env.ECR_LOCAL_PORT ?? String(DEFAULT_PORT);
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`Invalid port ${JSON.stringify(portText)}: give a number from 0 to 65535`);
  process.exit(2);
}

const summarise = (event: { source: string; 'detail-type': string; detail: unknown }) => {
  const detail = (event.detail ?? {}) as Record<string, unknown>;
  if (event['detail-type'] === 'Cleanup Report') {
    const counts = (detail.counts ?? {}) as Record<string, number>;
    const where = `${detail.account === undefined ? '' : `${String(detail.account)}/${String(detail.region)} `}${detail.registry === 'public' ? 'public ' : ''}`;
    const kept = Array.isArray(detail.kept) ? (detail.kept as { reason?: { code?: string } }[]) : [];
    const inUse = kept.filter((entry) => entry.reason?.code === 'in-use').length;
    const why = detail.brake
      ? ` (brake: ${(detail.brake as { message: string }).message})`
      : detail.status === 'in-use-unknown' || detail.status === 'target-unavailable'
        ? ` (${String(detail.message)})`
        : '';
    return `cleanup ${where}${String(detail.repositoryName)}: ${String(detail.status)}${detail.dryRun ? ' (dry run)' : ''}, ${counts.images} images, ${counts.toDelete} selected, ${counts.deleted} deleted, ${counts.archived === undefined ? '' : `${counts.archived} archived, `}${counts.kept} kept${inUse > 0 ? ` (${inUse} in use)` : ''}, ${String(detail.bytesReclaimed)} bytes${why}`;
  }
  if (event['detail-type'] === 'Cleanup Fan-Out Report') {
    const targets = (detail.targets ?? []) as { account: string; region: string; status: string; message?: string }[];
    const failed = targets.filter((target) => target.status === 'failed');
    return `cleanup fan-out${detail.dryRun ? ' (dry run)' : ''}: ${String(detail.repositories)} repositories, ${String(detail.workItems)} work items${targets.length > 0 ? ` in ${targets.length} account-regions, ${failed.length} failed${failed.map((target) => `; ${target.account}/${target.region}: ${target.message ?? ''}`).join('')}` : ''}`;
  }
  if (event['detail-type'] === 'Image Push Verdict') return summarisePushVerdict(detail);
  if (event['detail-type'] === 'Compliance Report') {
    const counts = (detail.counts ?? {}) as Record<string, number>;
    const names = ((detail.nonCompliant ?? []) as { registry: string; repositoryName: string }[])
      .map((entry) => `${entry.registry === 'public' ? 'public ' : ''}${entry.repositoryName}`)
      .join(', ');
    return `compliance${detail.dryRun ? ' (dry run)' : ''}: ${counts.checked} checked, ${counts.compliant} compliant, ${counts.nonCompliant} not (${names || 'none'}), ${counts.changed} changed, ${counts.failed} failed`;
  }
  if (event['detail-type'] === 'Compliance Drift') {
    const where = detail.registry === 'public' ? 'public ' : '';
    const fixed = ((detail.fixed ?? []) as string[]).join(', ');
    return `compliance drift ${where}${String(detail.repositoryName)}: fixed ${fixed || 'nothing'}`;
  }
  if (event['detail-type'] === 'Image Scan Verdict') return summariseScanVerdict(detail);
  if (event['detail-type'] === 'Allow List Report') {
    const ids = (key: string) =>
      ((detail[key] ?? []) as { id: string }[]).map((entry) => entry.id).join(', ') || 'none';
    return `allow-list report: expiring ${ids('expiring')}; expired ${ids('expired')}`;
  }
  const fields = ['action-type', 'scan-status', 'repository-name', 'image-tag', 'image-digest']
    .filter((key) => detail[key] !== undefined)
    .map((key) => `${key}=${String(detail[key])}`);
  return `event ${event.source} "${event['detail-type']}" ${fields.join(' ')}`;
};

/** One line per verdict: `push payments/api:latest sha256:1234abcd…: corrected (scan: pass, tags: ...) actions: ...`. */
function summarisePushVerdict(detail: Record<string, unknown>): string {
  const digest = String(detail.digest ?? '');
  const image = `${String(detail.repositoryName)}${detail.pushedTag ? `:${String(detail.pushedTag)}` : ''} ${digest.slice(0, 19)}`;
  const skipped = detail.skipped as { code: string; message: string } | undefined;
  if (skipped) return `push ${image}: skipped (${skipped.code}): ${skipped.message}`;
  const checks = (detail.checks ?? {}) as Record<string, { outcome: string; reason: { code: string } }>;
  const violations =
    (detail as { checks?: { tags?: { violations?: { code: string; tag?: string; resolution: string }[] } } }).checks
      ?.tags?.violations ?? [];
  const parts = Object.entries(checks).map(([name, check]) => `${name} ${check.outcome} (${check.reason.code})`);
  const actions = ((detail.actions ?? []) as { action: string; tag?: string; result: string }[]).map(
    (action) => `${action.action}${action.tag ? ` ${action.tag}` : ''}: ${action.result}`,
  );
  const listed = violations.map((v) => `${v.code}${v.tag ? ` ${v.tag}` : ''} → ${v.resolution}`);
  return [
    `push ${image}: ${String(detail.status)}${detail.dryRun ? ' (dry run)' : ''} [${String(detail.mode)}]`,
    parts.join(', '),
    listed.length > 0 ? `violations: ${listed.join(', ')}` : '',
    actions.length > 0 ? `actions: ${actions.join(', ')}` : '',
  ]
    .filter((part) => part !== '')
    .join('; ');
}

/** One line per scan verdict: `scan payments/worker sha256:1234abcd…: FAIL (CRITICAL 1 > 0) blocking: ...`. */
function summariseScanVerdict(detail: Record<string, unknown>): string {
  const image = `${String(detail.repositoryName)} ${String(detail.digest ?? '').slice(0, 19)}`;
  const skipped = detail.skipped as { code: string; message: string } | undefined;
  if (skipped) return `scan ${image}: skipped (${skipped.code}): ${skipped.message}`;
  const breaches = ((detail.breaches ?? []) as { code: string; severity?: string; count: number; max?: number }[]).map(
    (b) => (b.code === 'cvss' ? `${b.count} over CVSS threshold` : `${b.severity} ${b.count} > ${b.max}`),
  );
  const blocking = ((detail.blocking ?? []) as { id: string; package?: string }[])
    .slice(0, 5)
    .map((f) => `${f.id}${f.package ? ` (${f.package})` : ''}`);
  const expired = ((detail.expiredEntries ?? []) as { id: string }[]).map((entry) => entry.id);
  const flip = detail.flip as { from: string; to: string } | undefined;
  const actions = ((detail.actions ?? []) as { action: string; tag: string; result: string }[]).map(
    (action) => `${action.action} ${action.tag}: ${action.result}`,
  );
  const reason = detail.reason as { message: string } | undefined;
  return [
    `scan ${image}: ${String(detail.verdict)}${flip ? ` (flipped from ${flip.from})` : ''}${detail.dryRun ? ' (dry run)' : ''} [${String(detail.mode)}]`,
    reason ? reason.message : '',
    breaches.length > 0 ? breaches.join(', ') : '',
    blocking.length > 0 ? `blocking: ${blocking.join(', ')}` : '',
    expired.length > 0 ? `expired allow-list entries: ${expired.join(', ')}` : '',
    actions.length > 0 ? `actions: ${actions.join(', ')}` : '',
  ]
    .filter((part) => part !== '')
    .join('; ');
}

try {
  if (values.config) process.env.CONFIG_FILE = values.config;
  const server = await startLocalService({
    port,
    demo: !values['no-demo'],
    dryRun: values['dry-run'],
    onEvent: values.quiet ? undefined : (event) => console.log(summarise(event)),
  });
  const url = server.url;
  const states = [...server.registry.all()];
  const own = states.find((state) => state.account === '123456789012' && state.region === 'us-east-1');
  const elsewhere = states.filter((state) => state !== own && state.repositories.size > 0);
  console.log(`ecr-automation local registry and event bus: ${url}`);
  console.log(`  dashboard: ${url}/_dashboard/ (repositories, image graphs, live events, reports; jobs in dry run)`);
  console.log(`  ${own?.repositories.size ?? 0} demo repositories loaded (account 123456789012, region us-east-1)`);
  if (elsewhere.length > 0) {
    const accounts = new Set(elsewhere.map((state) => state.account));
    const regions = new Set(elsewhere.map((state) => state.region));
    console.log(
      `  and an organisation it manages: ${elsewhere.reduce((n, state) => n + state.repositories.size, 0)} repositories in ${accounts.size} accounts (${[...accounts].join(', ')}), ${regions.size} regions`,
    );
  }
  console.log('');
  console.log('Try (any credentials work; a 12-digit access key selects the account):');
  // Both region variables, so that the line works for every client: the SDK for JavaScript reads only AWS_REGION,
  // boto3 and AWS CLI v1 only AWS_DEFAULT_REGION ("You must specify a region" without it), AWS CLI v2 either.
  console.log(
    '  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1',
  );
  console.log(`  aws ecr describe-repositories --endpoint-url ${url}`);
  console.log(
    `  aws ecr describe-images --repository-name payments/api --filter tagStatus=UNTAGGED --endpoint-url ${url}`,
  );
  console.log(
    `  aws ecr batch-get-image --repository-name payments/api --image-ids imageTag=v1.5.0 --endpoint-url ${url}`,
  );
  console.log(
    `  aws ecr describe-image-scan-findings --repository-name payments/worker --image-id imageTag=2.3.0 --endpoint-url ${url}`,
  );
  console.log(`  curl -s ${url}/_local/calls`);
  console.log('');
  console.log(
    'The account has an ECR Public registry too (its API answers in us-east-1; pulls over /v2/ need no login):',
  );
  console.log(`  aws ecr-public describe-repositories --region us-east-1 --endpoint-url ${url}`);
  console.log(`  aws ecr-public describe-image-tags --repository-name tools/cli --endpoint-url ${url}`);
  console.log(`  npm run cleanup -- plan --public --endpoint-url ${url}`);
  console.log('');
  console.log(
    "payments/api carries a native lifecycle policy; see what it would break that the cleanup keeps (the ECS service's build):",
  );
  console.log(`  npm run lifecycle -- compare payments/api --endpoint-url ${url}`);
  console.log('');
  // The demo images have real content: container tools pull them over the registry API (/v2/), logged in as
  // `docker login` would be.
  console.log('Pull a demo image with a container tool (the registry speaks the OCI Distribution API under /v2/):');
  console.log(
    `  skopeo copy --all --src-tls-verify=false --src-creds "AWS:$(aws ecr get-login-password --endpoint-url ${url})" docker://${new URL(url).host}/payments/api:v1.5.0 oci:payments-api:v1.5.0`,
  );
  console.log('');
  // A fresh image to push (its digest is new on every start), so that the push example works as printed. Its config
  // and layers are uploaded to both repositories first, as a client's layer uploads precede its PutImage.
  const manifestPath = join(mkdtempSync(join(tmpdir(), 'ecr-automation-')), 'manifest.json');
  const { manifest, blobs } = buildContentImage({ seed: `npm-start-${Date.now()}` });
  writeFileSync(manifestPath, manifest);
  for (const blob of blobs) await server.registry.blobs.put(blob);
  for (const repositoryName of ['payments/api', 'payments/worker']) {
    await fetch(`${url}/_local/blobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ repositoryName, manifest }),
    });
  }
  // payments/worker scans on push: findings of every severity wait for this image, so its scan verdict is a FAIL.
  await fetch(`${url}/_local/findings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ repositoryName: 'payments/worker', imageDigest: sha256(manifest), findings: DEMO_FINDINGS }),
  });
  console.log('Push an image: the on-image-push handler judges it and prints a "push ..." verdict line.');
  console.log('  (The bundled config puts payments/** in enforce mode: IMMUTABLE tags, no "latest", a semver tag.)');
  const push = (repository: string, tag: string) =>
    console.log(
      `  aws ecr put-image --repository-name ${repository} --image-tag ${tag} --image-manifest file://${manifestPath} --endpoint-url ${url}`,
    );
  // In this order: payments/api exempts "latest" from tag immutability until the first push corrects that drift, and
  // payments/worker's "latest" is taken by an immutable tag (ECR refuses to move it).
  push('payments/api', 'latest');
  push('payments/api', 'v1.6.0');
  console.log(
    'Push it to payments/worker (scan on push; its scan reports findings of every severity): a FAIL follows.',
  );
  push('payments/worker', '2.5.0');
  console.log('');
  console.log('Scan an image with findings of every severity: the on-scan-result handler prints a "scan ..." verdict');
  console.log('  (payments/** is in enforce mode: a FAIL gets a quarantined-<digest> tag and loses "latest").');
  console.log(
    `  aws ecr start-image-scan --repository-name payments/worker --image-id imageTag=2.5.0-rc.1 --endpoint-url ${url}`,
  );
  console.log(`  npm run scan-gate -- payments/worker:2.5.0-rc.1 --endpoint-url ${url}`);
  console.log('');
  console.log(
    `Run a scheduled job now${values['dry-run'] ? ' (dry run: a preview, nothing is changed)' : ''}: the nightly cleanup, the`,
  );
  console.log('compliance scan, the registry reconcile, or the allow-list report:');
  for (const rule of scheduledRuleNames(localManifest(loadServiceConfig()))) {
    console.log(`  curl -s -X POST ${url}/_local/bus/fire -H 'content-type: application/json' -d '{"rule":"${rule}"}'`);
  }
  console.log('');
  console.log(
    'The organisation (three accounts in two regions, one more excluded): run the service across it through each',
  );
  console.log("account's role, with the example organisation config, and fire a job as above:");
  console.log('  npm start -- --config config/examples/organization.config.json');
  console.log('');
  console.log('Ctrl-C stops.');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local registry`);
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(`Port ${port} is in use: pass --port <n> (0 picks a free one)`);
  } else {
    console.error(`Could not start the local registry: ${message}`);
  }
  process.exit(1);
}
