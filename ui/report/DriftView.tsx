import { useMemo, useState } from 'preact/hooks';
import type { ComplianceDrift, DriftRow } from '../../shared/pictures/model.ts';
import { number } from './format.ts';
import { WindowedTable } from './WindowedTable.tsx';

/**
 * A compliance plan's view: the figures (repositories checked, compliant, drifting), the same per check, and every
 * repository × setting its rule checks with actual, wanted and the fix, filterable (words in any column, the status,
 * the check). Virtualised like the decisions table: only the rows in view are in the page.
 */

type Column = 'repository' | 'rule' | 'check' | 'status' | 'actual' | 'wanted' | 'fix';

const COLUMNS: { key: Column; title: string }[] = [
  { key: 'repository', title: 'Repository' },
  { key: 'rule', title: 'Rule' },
  { key: 'check', title: 'Setting' },
  { key: 'status', title: 'Status' },
  { key: 'actual', title: 'Actual' },
  { key: 'wanted', title: 'Wanted' },
  { key: 'fix', title: 'Fix (enforce mode)' },
];

function Figures({ drift }: { drift: ComplianceDrift }) {
  return (
    <section aria-labelledby="summary-heading">
      <h2 id="summary-heading">Summary</h2>
      <dl class="totals">
        <div>
          <dt>Repositories checked</dt>
          <dd data-figure="checked">{number.format(drift.checked)}</dd>
        </div>
        <div>
          <dt>Compliant</dt>
          <dd data-figure="compliant">{number.format(drift.compliant)}</dd>
        </div>
        <div>
          <dt>Drifting</dt>
          <dd data-figure="drifting">{number.format(drift.drifting)}</dd>
        </div>
        <div>
          <dt>Repositories listed</dt>
          <dd data-figure="listed">{number.format(drift.listed)}</dd>
        </div>
      </dl>
      <div class="summary-scroll">
        <table class="summary-table checks-table">
          <caption>Per check</caption>
          <thead>
            <tr>
              <th scope="col">Check</th>
              <th scope="col">Checked</th>
              <th scope="col">Compliant</th>
              <th scope="col">Drifting</th>
              <th scope="col">Fixable in enforce mode</th>
            </tr>
          </thead>
          <tbody>
            {drift.checks.map((line) => (
              <tr key={line.check} data-check={line.check}>
                <th scope="row">{line.check}</th>
                <td>{number.format(line.checked)}</td>
                <td>{number.format(line.compliant)}</td>
                <td>{number.format(line.drifting)}</td>
                <td>{number.format(line.fixable)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function DriftTable({ drift }: { drift: ComplianceDrift }) {
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState('');
  const [check, setCheck] = useState('');
  const [top, setTop] = useState(0);
  const haystacks = useMemo(
    () =>
      drift.rows.map((row) =>
        `${row.repository}\n${row.rule}\n${row.mode}\n${row.check}\n${row.status}\n${row.actual}\n${row.wanted}\n${row.fix}\n${row.detail}`.toLowerCase(),
      ),
    [drift],
  );
  const shown = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const order: number[] = [];
    drift.rows.forEach((row, i) => {
      if (status !== '' && row.status !== status) return;
      if (check !== '' && row.check !== check) return;
      if (words.every((word) => (haystacks[i] as string).includes(word))) order.push(i);
    });
    return order;
  }, [drift, haystacks, query, status, check]);
  const reset = () => setTop(0);
  return (
    <section aria-labelledby="drift-heading">
      <h2 id="drift-heading">Settings</h2>
      <div class="filters">
        <label>
          Filter{' '}
          <input
            type="search"
            value={query}
            placeholder="repository, setting, value, fix…"
            onInput={(event) => {
              setQuery(event.currentTarget.value);
              reset();
            }}
          />
        </label>
        <label>
          Status{' '}
          <select
            value={status}
            onChange={(event) => {
              setStatus(event.currentTarget.value);
              reset();
            }}
          >
            <option value="">all</option>
            <option value="drift">drift</option>
            <option value="compliant">compliant</option>
          </select>
        </label>
        <label>
          Check{' '}
          <select
            value={check}
            onChange={(event) => {
              setCheck(event.currentTarget.value);
              reset();
            }}
          >
            <option value="">all</option>
            {drift.checks.map((line) => (
              <option key={line.check} value={line.check}>
                {line.check}
              </option>
            ))}
          </select>
        </label>
        <output class="row-count" aria-live="polite">
          {`${number.format(shown.length)} of ${number.format(drift.rows.length)} rows`}
        </output>
      </div>
      <WindowedTable
        label="Settings table, scrollable"
        tableClass="decisions drift"
        count={shown.length}
        top={top}
        onScroll={setTop}
        head={COLUMNS.map((column) => (
          <th key={column.key} scope="col" class={`col-${column.key}`}>
            <span>{column.title}</span>
          </th>
        ))}
        row={(position, ariaRowIndex) => {
          const rowIndex = shown[position] as number;
          const row = drift.rows[rowIndex] as DriftRow;
          return (
            <tr key={rowIndex} aria-rowindex={ariaRowIndex} class={`status-${row.status}`}>
              {COLUMNS.map((column) => (
                <td
                  key={column.key}
                  class={`col-${column.key}`}
                  title={column.key === 'status' || column.key === 'fix' ? row.detail || undefined : row[column.key]}
                >
                  {column.key === 'rule' ? `${row.rule} (${row.mode})` : row[column.key]}
                </td>
              ))}
            </tr>
          );
        }}
      />
    </section>
  );
}

export function DriftView({ drift }: { drift: ComplianceDrift }) {
  return (
    <>
      <Figures drift={drift} />
      <DriftTable drift={drift} />
    </>
  );
}
