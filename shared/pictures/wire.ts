import type { DecisionRow, Report } from './model.ts';

/**
 * The report as a page carries it: the decision rows in columns (each repeated text once in a table of names, times
 * as epoch seconds), so that a plan of 100,000 images fits a file small enough to attach to a ticket. Lossless for
 * rows whose `pushedAt` is to the second (as `cleanupPicture` makes them). `decodeReport` gives back the `Report`.
 */
export interface ReportPayload extends Omit<Report, 'rows'> {
  columns: RowColumns;
}

export interface RowColumns {
  /** Text repeated across rows (repository, rule, kind, action, reason code), once each. */
  names: string[];
  repository: number[];
  rule: number[];
  kind: number[];
  action: number[];
  reasonCode: number[];
  /**
   * The subjects (digests) joined by newlines: one long string parses far faster than 100,000 short ones. An array
   * when a subject holds a newline (a reconcile key may).
   */
  subject: string | string[];
  tags: string[][];
  sizeInBytes: number[];
  /** Epoch seconds; -1 when unknown. */
  pushedAt: number[];
  /** Reasons repeat (a day, a code): each is an index into `names`. */
  reason: number[];
}

export function encodeReport({ rows, ...rest }: Report): ReportPayload {
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const name = (text: string) => {
    let index = nameIndex.get(text);
    if (index === undefined) {
      index = names.length;
      names.push(text);
      nameIndex.set(text, index);
    }
    return index;
  };
  const columns: RowColumns = {
    names,
    repository: [],
    rule: [],
    kind: [],
    action: [],
    reasonCode: [],
    subject: '',
    tags: [],
    sizeInBytes: [],
    pushedAt: [],
    reason: [],
  };
  for (const row of rows) {
    columns.repository.push(name(row.repository));
    columns.rule.push(name(row.rule));
    columns.kind.push(name(row.kind));
    columns.action.push(name(row.action));
    columns.reasonCode.push(name(row.reasonCode));
    columns.tags.push(row.tags);
    columns.sizeInBytes.push(row.sizeInBytes);
    columns.pushedAt.push(row.pushedAt === '' ? -1 : Math.floor(Date.parse(row.pushedAt) / 1000));
    columns.reason.push(name(row.reason));
  }
  const subjects = rows.map((row) => row.subject);
  columns.subject = subjects.some((subject) => subject.includes('\n')) ? subjects : subjects.join('\n');
  return { ...rest, columns };
}

export function decodeReport({ columns, ...rest }: ReportPayload): Report {
  const name = (index: number | undefined) => columns.names[index ?? -1] ?? '';
  const subjects =
    typeof columns.subject === 'string'
      ? columns.subject === '' && columns.repository.length === 0
        ? []
        : columns.subject.split('\n')
      : columns.subject;
  const rows: DecisionRow[] = subjects.map((subject, i) => {
    const seconds = columns.pushedAt[i] ?? -1;
    return {
      repository: name(columns.repository[i]),
      rule: name(columns.rule[i]),
      subject,
      kind: name(columns.kind[i]),
      action: name(columns.action[i]),
      tags: columns.tags[i] ?? [],
      sizeInBytes: columns.sizeInBytes[i] ?? 0,
      pushedAt: seconds < 0 ? '' : new Date(seconds * 1000).toISOString(),
      reasonCode: name(columns.reasonCode[i]),
      reason: name(columns.reason[i]),
    };
  });
  return { ...rest, rows };
}
