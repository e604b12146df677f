import type { CliIo } from '../../cli/commands/main.ts';
import { createEcrClient } from '../../shared/ecr/index.ts';

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a CLI (`runCleanupCli`, `runLifecycleCli`) in this process, as its entry point would, with no terminal to ask
 * and no `AWS_ENDPOINT_URL*` variable (so that clients go where the command line points), one attempt per ECR call,
 * and its output collected. `io` replaces any of these (a clock, a `sleep` that moves the registry's clock).
 */
export async function runInProcess(
  run: (argv: readonly string[], io: CliIo) => Promise<number>,
  args: readonly string[],
  io: Partial<CliIo> = {},
): Promise<CliOutcome> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_ENDPOINT')));
  const code = await run(args, {
    env,
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    interactive: false,
    confirm: async () => false,
    connect: (options) => createEcrClient({ ...options, maxAttempts: 1 }),
    now: () => Date.now(),
    ...io,
  });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}
