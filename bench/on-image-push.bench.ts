import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { childEnv, emit, intEnv, progress, ROOT, round } from './lib.ts';

/**
 * The on-image-push Lambda as deployed: the ESM bundle `npm run package` puts in `.serverless/onImagePush.zip`.
 *
 * 1. Cold-start import time: a fresh `node` process (no NODE_EXTRA_CA_CERTS, as in Lambda) imports the unzipped
 *    `handler.mjs` and reports the time of the `import()` alone (node's own start is not counted); the median of
 *    BENCH_PUSH_IMPORT_RUNS processes (default 11), after one discarded run that warms the file cache.
 * 2. The zipped bundle's size, the number Lambda's cold start downloads.
 *
 * The bundle is packaged first (`npm run package`), so that it is built from the sources as they are; set
 * BENCH_PUSH_SKIP_PACKAGE=1 to measure the zip already in `.serverless/`.
 */
const RUNS = intEnv('BENCH_PUSH_IMPORT_RUNS', 11);
const ZIP = join(ROOT, '.serverless', 'onImagePush.zip');
const HANDLER = join('functions', 'on-image-push', 'handler.mjs');

/** Imports the bundle, checks it exports the handler, prints the import's duration in ms. */
const PROBE = `
const { performance } = await import('node:perf_hooks');
const started = performance.now();
const bundle = await import(process.env.BUNDLE_URL);
const elapsed = performance.now() - started;
if (typeof bundle.handler !== 'function') throw new Error('the bundle does not export a handler function');
process.stdout.write(String(elapsed));
`;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = childEnv()) {
  const result = spawnSync(command, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status}:\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

if (process.env.BENCH_PUSH_SKIP_PACKAGE !== '1') {
  progress('on-image-push: npm run package');
  run('npm', ['run', '--silent', 'package']);
}
if (!existsSync(ZIP)) throw new Error(`${ZIP} is missing: run npm run package`);

const directory = mkdtempSync(join(tmpdir(), 'on-image-push-bundle-'));
try {
  run('unzip', ['-q', '-o', ZIP, '-d', directory]);
  const bundle = join(directory, HANDLER);
  const env = childEnv({
    BUNDLE_URL: pathToFileURL(bundle).href,
    AWS_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: 'ecr-automation-bench-onImagePush',
    POWERTOOLS_SERVICE_NAME: 'ecr-automation',
    EVENT_BUS_NAME: 'ecr-automation-bench',
  });
  const importOnce = () => Number(run(process.execPath, ['--input-type=module', '-e', PROBE], env));
  progress(`on-image-push: importing the bundle in ${RUNS} fresh node processes`);
  importOnce(); // warms the file cache; not counted
  const times = Array.from({ length: RUNS }, importOnce);
  emit({
    name: 'on_image_push_cold_start_import_ms',
    value: round(median(times), 1),
    unit: 'ms',
    goal: '< 250',
    runs: RUNS,
    minMs: round(Math.min(...times), 1),
    maxMs: round(Math.max(...times), 1),
    node: process.version,
    bundleBytes: statSync(bundle).size,
  });
  emit({
    name: 'on_image_push_zipped_bundle_kb',
    value: round(statSync(ZIP).size / 1024, 1),
    unit: 'KB',
    goal: '< 300',
    bytes: statSync(ZIP).size,
  });
} finally {
  rmSync(directory, { recursive: true, force: true });
}
