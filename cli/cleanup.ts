import './sdk-warnings.ts';
import { createEcrClient } from '../shared/ecr/index.ts';
import { runCleanupCli } from './commands/main.ts';
import { confirmOnTerminal } from './terminal.ts';

/**
 * `npm run cleanup -- <plan|apply|run|restore|report> ...`: preview or run the cleanup against any ECR endpoint, or restore an archived image. The commands live
 * in cli/commands/; this entry only wires the process (output, the terminal, the one ECR client) to them.
 */
process.exitCode = await runCleanupCli(process.argv.slice(2), {
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  interactive: process.stdin.isTTY === true,
  confirm: confirmOnTerminal,
  connect: (options) => createEcrClient(options),
  now: () => Date.now(),
});
