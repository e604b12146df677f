import './quiet-logs.ts';
import { createEcrClient } from '../shared/ecr/index.ts';
import { runScanGate } from './commands/scan-gate.ts';

/** `npm run scan-gate -- <repository>:<tag> [--timeout s] [--json]`: a CI gate on the image's scan verdict. */
process.exitCode = await runScanGate(process.argv.slice(2), {
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  connect: (options) => createEcrClient(options),
  now: () => Date.now(),
});
