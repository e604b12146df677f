import { type ChildProcess, fork, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ISOLATED } from './isolate-child.ts';

/**
 * Code under a hang guard. A backtracking pattern blocks the thread it runs on, so a test timeout can only fire when
 * the work runs elsewhere: these helpers run the project's matchers, and the registry, in child processes, and the
 * test awaits them. A call that never returns fails its test by the test's timeout; `stop` kills the child.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = ['--import', 'tsx'];

type Isolated = typeof ISOLATED;

export interface Isolate {
  call<Name extends keyof Isolated>(
    name: Name,
    ...args: Parameters<Isolated[Name]>
  ): Promise<ReturnType<Isolated[Name]>>;
  /** Whether a call is still unanswered (the child is stuck, or still working). */
  busy(): boolean;
  stop(): void;
}

const ready = (child: ChildProcess) =>
  new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the isolate exited with code ${code} before it was ready`)));
    child.once('message', () => resolve());
  });

/** The matchers and validators of `isolate-child.ts`, in a child process (started in a few hundred ms). */
export async function startIsolate(): Promise<Isolate> {
  const child = fork(join(ROOT, 'test', 'hostile', 'isolate-child.ts'), [], { cwd: ROOT, execArgv: TSX });
  await ready(child);
  const pending = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  child.on('message', (message: { id: number; value?: unknown; error?: string }) => {
    const waiting = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiting?.reject(new Error(message.error));
    else waiting?.resolve(message.value as never);
  });
  let next = 0;
  return {
    call: (name, ...args) =>
      new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve, reject });
        child.send({ id, name, args });
      }),
    busy: () => pending.size > 0,
    stop: () => child.kill('SIGKILL'),
  };
}

export interface RegistryProcess {
  readonly url: string;
  /** Whether it answers an HTTP request within a second (any answer: it is not stuck). */
  answers(): Promise<boolean>;
  stop(): void;
}

/** The local registry (`registry/src/main.ts`) in a child process: its URL, and a way to kill it even when it is stuck. */
export async function startRegistryProcess(): Promise<RegistryProcess> {
  const child = spawn(process.execPath, [...TSX, join(ROOT, 'registry', 'src', 'main.ts'), '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the registry exited with code ${code} before it printed its URL`)));
    lines.once('line', (line) => {
      const url = line.startsWith('local registry: ') ? line.slice('local registry: '.length).trim() : '';
      if (url) resolve(url);
      else reject(new Error(`unexpected first line from the registry: ${line}`));
    });
  });
  lines.on('line', () => {});
  return {
    url,
    answers: () =>
      fetch(`${url}/_local/health`, { signal: AbortSignal.timeout(1000) }).then(
        () => true,
        () => false,
      ),
    stop: () => child.kill('SIGKILL'),
  };
}
