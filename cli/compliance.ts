import './sdk-warnings.ts';
import { createInterface } from 'node:readline/promises';
import { createEcrClient } from '../shared/ecr/index.ts';
import { runComplianceCli } from './commands/compliance.ts';

/**
 * `npm run compliance -- <plan|apply> ...`: the compliance of the registry's repositories against the config, from
 * the command line. The commands live in cli/commands/compliance.ts; this entry only wires the process to them.
 */
process.exitCode = await runComplianceCli(process.argv.slice(2), {
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  interactive: process.stdin.isTTY === true,
  async confirm(question) {
    // On standard error, so that standard output stays the command's own; Ctrl-C or Ctrl-D is a "no".
    const terminal = createInterface({ input: process.stdin, output: process.stderr });
    const abandon = new AbortController();
    terminal.once('SIGINT', () => abandon.abort());
    terminal.once('close', () => abandon.abort());
    try {
      return /^y(es)?$/i.test((await terminal.question(`${question} [y/N] `, { signal: abandon.signal })).trim());
    } catch {
      process.stderr.write('\n');
      return false;
    } finally {
      terminal.close();
    }
  },
  connect: (options) => createEcrClient(options),
});
