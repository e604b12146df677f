import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

/**
 * The write-ahead journal of a data directory: one JSON record per line, appended with a synchronous write before
 * the change it records is acknowledged. A write that returned is in the kernel, so a `kill -9` (or a crash of the
 * process) right after the acknowledgement keeps it; with `fsync`, each record is also flushed to the disk before
 * the answer, so that it survives a power loss or an operating system crash too.
 */

/** One journal record; `k` says what replays it (see `server.ts`). */
export type JournalRecord = Record<string, unknown> & { k: string };

export class JournalWriter {
  private size: number;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly fsync: boolean,
  ) {
    this.size = fstatSync(fd).size;
  }

  /** Opens `path` for appending (created when absent). */
  static open(path: string, options: { fsync?: boolean } = {}): JournalWriter {
    return new JournalWriter(path, openSync(path, 'a', 0o600), options.fsync ?? false);
  }

  /** Bytes in the journal. */
  get bytes(): number {
    return this.size;
  }

  /**
   * Appends one record (one write of the whole line, so that a kill can only tear the last line). When the write
   * fails (a full disk), what it wrote is cut off again, so that the journal stays whole, and the error is thrown.
   */
  append(record: JournalRecord): void {
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    try {
      let written = 0;
      while (written < line.length) written += writeSync(this.fd, line, written);
      if (this.fsync) fsyncSync(this.fd);
    } catch (error) {
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // The journal may end in a torn line, which the replay ignores.
      }
      throw error;
    }
    this.size += line.length;
  }

  /** Empties the journal (the state it recorded is gone, or kept in a snapshot). */
  truncate(): void {
    ftruncateSync(this.fd, 0);
    this.size = 0;
    if (this.fsync) fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Thrown for a journal line that is not a record (other than a torn last line). */
export class JournalCorruptError extends Error {
  constructor(
    readonly path: string,
    readonly line: number,
    reason: string,
  ) {
    super(`The journal ${path} is corrupt at line ${line}: ${reason}`);
  }
}

const CHUNK = 1024 * 1024;

/**
 * The records of a journal in order, read a chunk at a time (a journal may be far larger than a string may hold).
 * A last line without its newline is a record torn by a kill in the middle of its write (never acknowledged): it is
 * cut off the file, so that appends start on a line of their own, and reported through `onTorn`. Any other line that
 * is not a JSON record is `JournalCorruptError`, naming the file and line.
 */
export function* journalRecords(
  path: string,
  onTorn?: (line: number, bytes: number) => void,
): Generator<{ record: JournalRecord; line: number }> {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let offset = 0;
    let line = 0;
    for (;;) {
      const read = readSync(fd, buffer, 0, CHUNK, offset);
      if (read === 0) break;
      offset += read;
      const chunk = buffer.subarray(0, read);
      let start = 0;
      for (let end = chunk.indexOf(10); end >= 0; end = chunk.indexOf(10, start)) {
        const piece = chunk.subarray(start, end);
        const text = pendingBytes === 0 ? piece.toString('utf8') : Buffer.concat([...pending, piece]).toString('utf8');
        pending = [];
        pendingBytes = 0;
        line++;
        start = end + 1;
        yield { record: parseLine(path, line, text), line };
      }
      if (start < read) {
        pending.push(Buffer.from(chunk.subarray(start)));
        pendingBytes += read - start;
      }
    }
    if (pendingBytes > 0) {
      // Told first: a reader for which a torn line is an error (a snapshot) throws, and the file stays as it is.
      onTorn?.(line + 1, pendingBytes);
      ftruncateSync(fd, offset - pendingBytes);
    }
  } finally {
    closeSync(fd);
  }
}

function parseLine(path: string, line: number, text: string): JournalRecord {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    throw new JournalCorruptError(path, line, 'not a JSON record');
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new JournalCorruptError(path, line, 'not a JSON object');
  }
  if (typeof (record as { k?: unknown }).k !== 'string') throw new JournalCorruptError(path, line, 'no record kind');
  return record as JournalRecord;
}
