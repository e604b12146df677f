import './quiet-logs.ts';
import { createEcrClient } from '../shared/ecr/index.ts';
import { runRegistryCli } from './registry-commands.ts';

/**
 * `npm run registry:reconcile -- <plan|apply> ...`: plan or apply the config's registry section against any ECR
 * endpoint. The commands live in registry-commands.ts; this entry only wires the process to them.
 */
process.exitCode = await runRegistryCli(process.argv.slice(2), {
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  connect: (options) => createEcrClient(options),
});
