import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';

/**
 * The CLIs drop the AWS SDK's Node-version notice (NodeVersionSupportWarning) and nothing else: `npm start`, which
 * builds its SDK clients while starting, prints a real warning emitted once it serves, and not the SDK's notice.
 */
const REAL_WARNING = 'a real warning from the test';
// Loaded before cli/start.ts: SIGUSR2 makes the process emit a DeprecationWarning, the way a dependency would.
const EMIT_ON_SIGUSR2 = `data:text/javascript,process.on('SIGUSR2',()=>process.emitWarning(${JSON.stringify(REAL_WARNING)},'DeprecationWarning'))`;

/** Starts `npm start` with `env`, waits until it serves, makes it emit a real warning, stops it; its stderr. */
async function startAndWarn(env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', EMIT_ON_SIGUSR2, 'cli/start.ts', '--port', '0', '--quiet'],
    { cwd: process.cwd(), env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  const seen = (read: () => string, text: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${JSON.stringify(text)}:\n${stdout}\n${stderr}`)), 60_000);
      const check = () => {
        if (!read().includes(text)) return;
        clearTimeout(timer);
        resolve();
      };
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
      check();
    });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  try {
    await seen(() => stdout, 'Ctrl-C stops.');
    child.kill('SIGUSR2');
    // Warnings are printed in the order they are emitted: the SDK's, if any, came while starting, before this one.
    await seen(() => stderr, REAL_WARNING);
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    await exited;
    return stderr;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

const withoutSwitch = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: '' };
  // vitest.config.ts sets the switch for the suite: the CLI must set it itself.
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  return env;
};

describe('CLI warnings', { timeout: 180_000 }, () => {
  it("prints a real warning and not the AWS SDK's Node-version notice", async () => {
    // Prepare
    const env = withoutSwitch();
    // Act
    const stderr = await startAndWarn(env);
    // Assess
    expect(stderr).toContain(`DeprecationWarning: ${REAL_WARNING}`);
    expect(stderr).not.toContain('NodeVersionSupportWarning');
  });

  it('prints the notice when AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false asks for it (on Node 20)', async () => {
    // Prepare
    const env = { ...withoutSwitch(), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' };
    const sdkWarns = Number(process.versions.node.split('.')[0]) < 22;
    // Act
    const stderr = await startAndWarn(env);
    // Assess: the first test's absence of the notice is the switch's doing, not a start that built no SDK client.
    expect(stderr).toContain(`DeprecationWarning: ${REAL_WARNING}`);
    expect(stderr.includes('NodeVersionSupportWarning')).toBe(sdkWarns);
  });
});
