import { useMemo, useState } from 'preact/hooks';
import type { DecisionRow, Report } from '../../shared/pictures/model.ts';
import { formatBytes, number } from './format.ts';
import { WindowedTable } from './WindowedTable.tsx';

/**
 * Every decision of the plan, sortable (a button per column: click, Enter or Space; again to reverse) and
 * filterable (words matched in any column; the action). Virtualised: only the rows in view are in the page, so
 * 100,000 rows scroll and sort as fast as a hundred.
 */

type Column = 'repository' | 'subject' | 'kind' | 'action' | 'tags' | 'sizeInBytes' | 'pushedAt' | 'reason';

const cell = (row: DecisionRow, column: Column): string | number =>
  column === 'tags' ? row.tags.join(', ') : column === 'sizeInBytes' ? row.sizeInBytes : row[column];

export function DecisionTable({ report }: { report: Report }) {
  const isCleanup = report.kind === 'cleanup';
  const columns: { key: Column; title: string }[] = [
    { key: 'repository', title: isCleanup ? 'Repository' : 'Resource' },
    { key: 'subject', title: isCleanup ? 'Digest' : 'Key' },
    { key: 'kind', title: isCleanup ? 'Kind' : 'Fields' },
    { key: 'action', title: 'Action' },
    { key: 'reason', title: isCleanup ? 'Reason' : 'Change' },
    ...(isCleanup
      ? [
          { key: 'tags' as const, title: 'Tags' },
          { key: 'sizeInBytes' as const, title: 'Size' },
          { key: 'pushedAt' as const, title: 'Pushed' },
        ]
      : []),
  ];
  const [query, setQuery] = useState('');
  const [action, setAction] = useState('');
  const [sort, setSort] = useState<{ column: Column; descending: boolean } | undefined>(undefined);
  const [top, setTop] = useState(0);
  const actions = useMemo(() => [...new Set(report.rows.map((row) => row.action))].sort(), [report]);
  // Built on the first filter, not at first render: a report of 100,000 rows opens without it.
  const haystacks = useMemo(
    () =>
      query.trim() === ''
        ? []
        : report.rows.map((row) =>
            `${row.repository}\n${row.subject}\n${row.kind}\n${row.action}\n${row.tags.join(' ')}\n${row.reasonCode}\n${row.reason}`.toLowerCase(),
          ),
    [report, query.trim() === ''],
  );
  const shown = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const order: number[] = [];
    report.rows.forEach((row, i) => {
      if (action !== '' && row.action !== action) return;
      if (words.length === 0) order.push(i);
      else if (words.every((word) => (haystacks[i] as string).includes(word))) order.push(i);
    });
    if (sort !== undefined) {
      const sign = sort.descending ? -1 : 1;
      order.sort((a, b) => {
        const x = cell(report.rows[a] as DecisionRow, sort.column);
        const y = cell(report.rows[b] as DecisionRow, sort.column);
        return x < y ? -sign : x > y ? sign : a - b;
      });
    }
    return order;
  }, [report, haystacks, query, action, sort]);
  const toggle = (column: Column) =>
    setSort((now) =>
      now?.column === column ? { column, descending: !now.descending } : { column, descending: false },
    );
  return (
    <section aria-labelledby="decisions-heading">
      <h2 id="decisions-heading">{isCleanup ? 'Decisions' : 'Changes'}</h2>
      <div class="filters">
        <label>
          Filter{' '}
          <input
            type="search"
            value={query}
            placeholder="repository, digest, tag, reason…"
            onInput={(event) => {
              setQuery(event.currentTarget.value);
              setTop(0);
            }}
          />
        </label>
        <label>
          Action{' '}
          <select
            value={action}
            onChange={(event) => {
              setAction(event.currentTarget.value);
              setTop(0);
            }}
          >
            <option value="">all</option>
            {actions.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <output class="row-count" aria-live="polite">
          {`${number.format(shown.length)} of ${number.format(report.rows.length)} rows`}
        </output>
      </div>
      <WindowedTable
        label="Decisions table, scrollable"
        tableClass="decisions"
        count={shown.length}
        top={top}
        onScroll={setTop}
        head={columns.map((column) => (
          <th
            key={column.key}
            scope="col"
            class={`col-${column.key}`}
            aria-sort={sort?.column !== column.key ? 'none' : sort.descending ? 'descending' : 'ascending'}
          >
            <button type="button" onClick={() => toggle(column.key)}>
              {column.title}
              <span aria-hidden="true">{sort?.column !== column.key ? ' ↕' : sort.descending ? ' ▼' : ' ▲'}</span>
            </button>
          </th>
        ))}
        row={(position, ariaRowIndex) => {
          const rowIndex = shown[position] as number;
          const row = report.rows[rowIndex] as DecisionRow;
          return (
            <tr key={rowIndex} aria-rowindex={ariaRowIndex} class={`action-${row.action}`}>
              {columns.map((column) => (
                <td
                  key={column.key}
                  class={`col-${column.key}`}
                  title={column.key === 'reason' ? row.reason : undefined}
                >
                  {column.key === 'sizeInBytes'
                    ? formatBytes(row.sizeInBytes)
                    : column.key === 'pushedAt'
                      ? row.pushedAt.slice(0, 16).replace('T', ' ')
                      : column.key === 'action'
                        ? row.action.toUpperCase()
                        : String(cell(row, column.key))}
                </td>
              ))}
            </tr>
          );
        }}
      />
    </section>
  );
}
