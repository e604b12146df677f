import { createInterface } from 'node:readline/promises';

/**
 * Asks a yes/no question on the terminal: "y" or "yes" is a yes, anything else a no. The question goes to standard
 * error, so that standard output stays the command's own. Ctrl-C or Ctrl-D at the prompt is a "no" (left alone,
 * readline would pause and leave the question unanswered for ever).
 */
export async function confirmOnTerminal(question: string): Promise<boolean> {
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
}
