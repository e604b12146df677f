import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The files of a data directory besides blobs and the journal: `lock` (the pid of the process using the directory)
 * and `keys.json` (the signing keys of login passwords and pagination tokens, so that both survive a restart).
 */

/** Thrown when another live process holds a data directory's lock. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`The data directory ${dir} is in use by process ${pid} (its lock file is ${join(dir, 'lock')})`);
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes the lock of `dir` (created when absent) for this process: `lock` holds its pid. A lock left by a process that
 * no longer runs (killed, crashed) is taken over; one held by a live process, this one included (a second server on
 * the same directory), is `DataDirInUseError`. Returns the release function (removes the lock if still ours).
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const text = readLock(path);
      if (text === undefined) continue;
      const pid = Number(text);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new DataDirInUseError(dir, pid);
      // Stale (or empty: a process killed between creating and writing it): take it over. Two processes that find
      // the same stale lock in the same instant could both take it (one removing the other's fresh lock); the
      // directory is meant to be started by one person or script, so this is not guarded further.
      try {
        unlinkSync(path);
      } catch (unlinkError) {
        if ((unlinkError as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkError;
      }
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return () => {
      if (readLock(path)?.trim() === String(process.pid)) unlinkSync(path);
    };
  }
  throw new Error(`Could not take the lock of the data directory ${dir} (${path})`);
}

function readLock(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export interface DataDirKeys {
  password: Buffer;
  pagination: Buffer;
}

/** Writes `text` to `path` atomically: a temporary file, flushed, renamed over it, and the directory flushed. */
export function writeFileAtomic(path: string, text: string | Buffer): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  syncDirectory(path.slice(0, path.lastIndexOf('/')) || '/');
}

/** Flushes a directory's entries (a rename, a new file) to disk; a no-op where directories cannot be opened. */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot fsync a directory; the rename is as durable as the platform makes it.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The signing keys kept in `dir/keys.json`, drawn and written (mode 0600) the first time. */
export function dataDirKeys(dir: string): DataDirKeys {
  const path = join(dir, 'keys.json');
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== undefined) {
    try {
      const parsed = JSON.parse(text) as { password?: unknown; pagination?: unknown };
      const password = Buffer.from(String(parsed.password), 'base64');
      const pagination = Buffer.from(String(parsed.pagination), 'base64');
      if (password.length === 32 && pagination.length === 32) return { password, pagination };
    } catch {
      // reported below
    }
    throw new Error(`${path} is not a keys file of the local registry (remove it to draw new keys)`);
  }
  const keys = { password: randomBytes(32), pagination: randomBytes(32) };
  writeFileAtomic(
    path,
    `${JSON.stringify({ password: keys.password.toString('base64'), pagination: keys.pagination.toString('base64') })}\n`,
  );
  return keys;
}
