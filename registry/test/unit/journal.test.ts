import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JournalCorruptError, JournalWriter, journalRecords } from '../../src/persist/journal.ts';

describe('the journal', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'journal-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const read = (path: string) => {
    const torn: number[] = [];
    const records = [...journalRecords(path, (line) => torn.push(line))].map(({ record }) => record);
    return { records, torn };
  };

  it('reads back records of any size in order, records longer than its read chunk included', () => {
    // Prepare
    const path = join(dir, 'journal.jsonl');
    const writer = JournalWriter.open(path);
    const big = 'x'.repeat(3 * 1024 * 1024 + 17);
    const written = [
      { k: 'a', n: 1 },
      { k: 'b', big },
      { k: 'c', text: 'é\n"' },
      { k: 'd', big: `${big}y` },
    ];
    for (const record of written) writer.append(record);
    writer.close();
    // Act
    const { records, torn } = read(path);
    // Assess
    expect(records).toEqual(written);
    expect(torn).toEqual([]);
  });

  it('cuts off a torn last line, so that the next record starts a line of its own', () => {
    // Prepare
    const path = join(dir, 'journal.jsonl');
    writeFileSync(path, '{"k":"a"}\n{"k":"b","te');
    // Act
    const first = read(path);
    const writer = JournalWriter.open(path);
    writer.append({ k: 'c' });
    writer.close();
    // Assess
    expect(first).toEqual({ records: [{ k: 'a' }], torn: [2] });
    expect(readFileSync(path, 'utf8')).toBe('{"k":"a"}\n{"k":"c"}\n');
  });

  it('names the file and line of a corrupt record', () => {
    // Prepare
    const path = join(dir, 'journal.jsonl');
    writeFileSync(path, '{"k":"a"}\n[1]\n{"k":"b"}\n');
    // Act
    const reading = () => read(path);
    // Assess
    expect(reading).toThrow(JournalCorruptError);
    expect(reading).toThrow(`The journal ${path} is corrupt at line 2: not a JSON object`);
  });

  it('reads nothing from a journal that does not exist, and creates none', () => {
    expect(read(join(dir, 'none.jsonl'))).toEqual({ records: [], torn: [] });
    expect(existsSync(join(dir, 'none.jsonl'))).toBe(false);
  });

  it.runIf(existsSync('/dev/full'))('throws when a write fails and counts nothing of it', () => {
    // Prepare
    const writer = JournalWriter.open('/dev/full');
    // Act
    const append = () => writer.append({ k: 'a' });
    // Assess
    expect(append).toThrow(/ENOSPC/);
    expect(writer.bytes).toBe(0);
    writer.close();
  });
});
