import './sdk-warnings.ts';
import { createEcrClient } from '../shared/ecr/index.ts';
import { runLifecycleCli } from './commands/lifecycle.ts';

/**
 * `npm run lifecycle -- <lint|compare> ...`: lint ECR lifecycle policies and compare one with the cleanup's plan.
 * The commands live in cli/commands/lifecycle.ts; this entry only wires the process (output, the one ECR client).
 * Both commands are read-only, so nothing is ever confirmed.
 */
process.exitCode = await runLifecycleCli(process.argv.slice(2), {
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  interactive: false,
  confirm: async () => false,
  connect: (options) => createEcrClient(options),
  now: () => Date.now(),
});
