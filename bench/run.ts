import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { childEnv, progress, ROOT } from './lib.ts';

/**
 * `npm run bench`: runs every `bench/*.bench.ts`, each in its own `node --import tsx` process, one after the
 * other (they measure throughput, so they must not share the CPU). Their stdout (one JSON figure per line) passes
 * through; the exit code is 1 when any benchmark failed.
 */
const BENCH_DIR = join(ROOT, 'bench');

const files = readdirSync(BENCH_DIR)
  .filter((file) => file.endsWith('.bench.ts'))
  .sort();

function runOne(file: string): Promise<number> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', file)], {
      cwd: ROOT,
      env: childEnv(),
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', (error) => {
      progress(`${file}: ${error.message}`);
      done(1);
    });
    child.once('exit', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

let failed = 0;
for (const file of files) {
  progress(`running ${file}`);
  const code = await runOne(file);
  if (code !== 0) {
    failed += 1;
    progress(`${file} exited with code ${code}`);
  }
}
if (files.length === 0) progress('no bench/*.bench.ts found');
process.exitCode = failed > 0 ? 1 : 0;
