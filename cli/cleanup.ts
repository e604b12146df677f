import './sdk-warnings.ts';
import { createInterface } from 'node:readline/promises';
import { createEcrClient } from '../shared/ecr/index.ts';
import { runCleanupCli } from './commands/main.ts';

/**
 * `npm run cleanup -- <plan|apply|run|restore|report> ...`: preview or run the cleanup against any ECR endpoint, or restore an archived image. The commands live
 * in cli/commands/; this entry only wires the process (output, the terminal, the one ECR client) to them.
 */
process.exitCode = await runCleanupCli(process.argv.slice(2), {
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  interactive: process.stdin.isTTY === true,
  async confirm(question) {
    // The question goes to standard error, so that standard output stays the command's own. Ctrl-C or Ctrl-D at the
    // prompt is a "no" (left alone, readline would pause and leave the question unanswered for ever).
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
  now: () => Date.now(),
});
