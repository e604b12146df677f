import './sdk-warnings.ts';
import { createEcrClient } from '../shared/ecr/index.ts';
import { runComplianceCli } from './commands/compliance.ts';
import { confirmOnTerminal } from './terminal.ts';

/**
 * `npm run compliance -- <plan|apply> ...`: the compliance of the registry's repositories against the config, from
 * the command line. The commands live in cli/commands/compliance.ts; this entry only wires the process to them.
 */
process.exitCode = await runComplianceCli(process.argv.slice(2), {
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  interactive: process.stdin.isTTY === true,
  confirm: confirmOnTerminal,
  connect: (options) => createEcrClient(options),
});
