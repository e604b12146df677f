import { join } from 'node:path';
import { paginationKeys, passwordKeys } from '../ops/signing-keys.ts';
import { dataDirKeys, lockDataDir } from './data-dir.ts';
import { type JournalRecord, JournalWriter, journalRecords } from './journal.ts';

/**
 * A data directory in use by this process: its lock taken, its signing keys adopted, and its journal, read once
 * (`records`, to replay) and then appended to.
 */
export class DataDirState {
  private writer?: JournalWriter;
  readonly journalPath: string;

  private constructor(
    readonly dir: string,
    private readonly fsync: boolean,
    private readonly unlock: () => void,
  ) {
    this.journalPath = join(dir, 'journal.jsonl');
  }

  /** Takes the directory's lock (`DataDirInUseError` when a live process holds it) and adopts its signing keys. */
  static open(dir: string, options: { fsync?: boolean } = {}): DataDirState {
    const unlock = lockDataDir(dir);
    try {
      const keys = dataDirKeys(dir);
      passwordKeys.adopt(keys.password);
      paginationKeys.adopt(keys.pagination);
      return new DataDirState(dir, options.fsync ?? false, unlock);
    } catch (error) {
      unlock();
      throw error;
    }
  }

  /** The journal's records, for replay; a torn last record is cut off with a warning. */
  records(): Generator<{ record: JournalRecord; line: number }> {
    return journalRecords(this.journalPath, (line, bytes) => {
      console.warn(
        `local registry: ${this.journalPath}: ignoring the unfinished record at line ${line} (${bytes} bytes, written when the process was stopped; never acknowledged)`,
      );
    });
  }

  /** Starts appending (after replay). */
  openJournal(): void {
    this.writer ??= JournalWriter.open(this.journalPath, { fsync: this.fsync });
  }

  /** Appends a record before the change it records is acknowledged. */
  append(record: JournalRecord): void {
    if (!this.writer) throw new Error('The journal is not open');
    this.writer.append(record);
  }

  /** Bytes in the journal. */
  get journalBytes(): number {
    return this.writer?.bytes ?? 0;
  }

  /** Forgets every record (the registry was reset). */
  clear(): void {
    this.writer?.truncate();
  }

  /** Closes the journal and releases the lock. */
  close(): void {
    this.writer?.close();
    this.writer = undefined;
    this.unlock();
  }
}
