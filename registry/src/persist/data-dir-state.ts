import { createHmac } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from '../model/state.ts';
import { paginationKeys, passwordKeys } from '../ops/signing-keys.ts';
import { dataDirKeys, lockDataDir } from './data-dir.ts';
import { JournalCorruptError, type JournalRecord, JournalWriter, journalRecords } from './journal.ts';
import { readSnapshot, writeSnapshot } from './snapshot.ts';

/**
 * A data directory in use by this process: its lock taken, its signing keys adopted, its snapshot and journal read
 * once (`restore`, `records`, to replay) and the journal then appended to, until compaction writes a new snapshot
 * and starts the journal again.
 *
 * Generations tie the two: the snapshot names its generation, and the journal that continues it starts with a
 * `journal` record naming the same. Compaction writes the snapshot of generation g + 1 (atomically), then empties
 * the journal and starts it with g + 1; a kill in between leaves a journal of generation g, which the new snapshot
 * already holds, so it is skipped.
 */
export class DataDirState {
  private writer?: JournalWriter;
  readonly journalPath: string;
  readonly snapshotPath: string;
  private generation = 0;
  /** Bytes of the last snapshot written or read. */
  private snapshotSize = 0;
  /** The journal on disk belongs to an older snapshot (a kill during compaction): it is started again. */
  private staleJournal = false;

  private constructor(
    readonly dir: string,
    private readonly fsync: boolean,
    private readonly unlock: () => void,
    /** The key of GetDownloadUrlForLayer's URLs for a registry on this directory. */
    readonly layerUrlKey: Buffer,
  ) {
    this.journalPath = join(dir, 'journal.jsonl');
    this.snapshotPath = join(dir, 'snapshot.jsonl');
  }

  /** Takes the directory's lock (`DataDirInUseError` when a live process holds it) and adopts its signing keys. */
  static open(dir: string, options: { fsync?: boolean } = {}): DataDirState {
    const unlock = lockDataDir(dir);
    try {
      const keys = dataDirKeys(dir);
      passwordKeys.adopt(keys.password);
      paginationKeys.adopt(keys.pagination);
      // Layer download URLs are signed with a key derived from the kept password key: they too outlive a restart.
      const layerUrlKey = createHmac('sha256', keys.password).update('layer download URLs').digest();
      return new DataDirState(dir, options.fsync ?? false, unlock, layerUrlKey);
    } catch (error) {
      unlock();
      throw error;
    }
  }

  /** Restores the snapshot, if any, into the empty `registry`: its clock offset, or undefined without one. */
  restore(registry: Registry): { clockOffset: number } | undefined {
    const header = readSnapshot(this.snapshotPath, registry);
    if (header) {
      this.generation = header.generation;
      this.snapshotSize = statSync(this.snapshotPath).size;
    }
    return header;
  }

  /**
   * The journal's records after the snapshot, for replay (the `journal` record that starts it is checked, not
   * yielded); a torn last record is cut off with a warning.
   */
  *records(): Generator<{ record: JournalRecord; line: number }> {
    const all = journalRecords(this.journalPath, (line, bytes) => {
      console.warn(
        `local registry: ${this.journalPath}: ignoring the unfinished record at line ${line} (${bytes} bytes, written when the process was stopped; never acknowledged)`,
      );
    });
    for (const entry of all) {
      if (entry.line === 1 && entry.record.k === 'journal') {
        const generation = entry.record.g;
        if (generation === this.generation) continue;
        if (typeof generation === 'number' && generation < this.generation) {
          // Compaction was killed after writing the snapshot: everything here is in it.
          this.staleJournal = true;
          for (const _ of all) {
            // read to the end (cuts a torn last line)
          }
          return;
        }
        throw new JournalCorruptError(
          this.journalPath,
          1,
          `it continues snapshot generation ${String(generation)}, but ${this.snapshotPath} is generation ${this.generation}`,
        );
      }
      if (entry.line === 1 && this.generation > 0) {
        throw new JournalCorruptError(this.journalPath, 1, `it does not continue the snapshot ${this.snapshotPath}`);
      }
      yield entry;
    }
  }

  /** Starts appending (after replay). */
  openJournal(): void {
    if (this.writer) return;
    this.writer = JournalWriter.open(this.journalPath, { fsync: this.fsync });
    if (this.staleJournal) this.writer.truncate();
    if (this.writer.bytes === 0) this.writer.append({ k: 'journal', g: this.generation });
  }

  /**
   * Writes the state to a new snapshot and starts the journal again. Only when no `later` task is pending: a
   * snapshot holds state, not tasks.
   */
  compact(registry: Registry, clockOffset: number): void {
    if (!this.writer) throw new Error('The journal is not open');
    if (this.failure !== undefined) throw new Error(this.failure);
    const generation = this.generation + 1;
    // A failure here leaves the last snapshot and the journal as they were.
    writeSnapshot(this.snapshotPath, registry, { generation, clockOffset });
    this.generation = generation;
    this.snapshotSize = statSync(this.snapshotPath).size;
    try {
      this.writer.truncate();
      this.writer.append({ k: 'journal', g: generation });
    } catch (error) {
      // The snapshot holds everything; a journal left of the generation before is skipped at start, one left empty
      // is started again. Any record appended now would not be read: refuse them.
      this.failure = `The journal ${this.journalPath} could not be started again after a snapshot (${error instanceof Error ? error.message : String(error)})`;
      throw error;
    }
  }

  /** Why the journal cannot be written any more, once a write failed. */
  private failure?: string;

  /**
   * Appends a record before the change it records is acknowledged. Once a write has failed (a full disk), every
   * later one fails too, until a restart: the change that failed is in memory but not in the journal, and a later
   * record that depended on it would not replay. The restart has exactly the changes acknowledged before.
   */
  append(record: JournalRecord): void {
    if (!this.writer) throw new Error('The journal is not open');
    if (this.failure !== undefined) {
      throw new Error(`${this.failure}; the registry accepts no change until it is restarted`);
    }
    try {
      this.writer.append(record);
    } catch (error) {
      this.failure = `The journal ${this.journalPath} could not be written (${error instanceof Error ? error.message : String(error)})`;
      throw new Error(`${this.failure}; the change was not kept`);
    }
  }

  /** Bytes in the journal. */
  get journalBytes(): number {
    return this.writer?.bytes ?? 0;
  }

  /**
   * Whether the journal is due for compaction: past `minBytes`, and past the size of the last snapshot too, so that
   * the time spent writing snapshots stays proportional to the changes made (a large registry is not written whole
   * every `minBytes` of changes).
   */
  compactionDue(minBytes: number): boolean {
    const bytes = this.journalBytes;
    return bytes > minBytes && bytes > this.snapshotSize;
  }

  /** Closes the journal and releases the lock. */
  close(): void {
    this.writer?.close();
    this.writer = undefined;
    this.unlock();
  }
}
