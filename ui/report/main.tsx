import { render } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { REPORT_VERSION, type Report, type SummaryLine } from '../../shared/pictures/model.ts';
import { decodeReport, type ReportPayload } from '../../shared/pictures/wire.ts';
import { readEmbedded } from '../embedded.ts';
import { GraphView } from '../graph/GraphView.tsx';
import { DecisionTable } from './DecisionTable.tsx';
import { DriftView } from './DriftView.tsx';
import { formatBytes, number } from './format.ts';
import './report.css';

/**
 * The HTML plan report's page: summary, decisions table, image graphs; for a compliance plan, its settings drift.
 * Data: `#report-data` (`embedData`).
 */

function SummaryTable({ caption, lines, report }: { caption: string; lines: SummaryLine[]; report: Report }) {
  const columns = report.summary.columns;
  return (
    <div class="summary-scroll">
      <table class="summary-table">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">{columns.total}</th>
            <th scope="col">{columns.toDelete}</th>
            {columns.toArchive ? <th scope="col">{columns.toArchive}</th> : null}
            <th scope="col">{columns.kept}</th>
            {columns.bytes ? <th scope="col">{columns.bytes}</th> : null}
            <th scope="col">Safety brake</th>
          </tr>
        </thead>
        <tbody>
          {lines.map((line) => (
            <tr key={line.name}>
              <th scope="row">{line.name}</th>
              <td>{number.format(line.total)}</td>
              <td>{number.format(line.toDelete)}</td>
              {columns.toArchive ? <td>{number.format(line.toArchive)}</td> : null}
              <td>{number.format(line.kept)}</td>
              {columns.bytes ? <td title={`${line.bytesToDelete} bytes`}>{formatBytes(line.bytesToDelete)}</td> : null}
              <td>{line.brake}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Summary({ report }: { report: Report }) {
  const { summary } = report;
  const columns = summary.columns;
  return (
    <section aria-labelledby="summary-heading">
      <h2 id="summary-heading">Summary</h2>
      <dl class="totals">
        <div>
          <dt>{columns.total}</dt>
          <dd data-figure="total">{number.format(summary.total)}</dd>
        </div>
        <div>
          <dt>{columns.toDelete}</dt>
          <dd data-figure="toDelete">{number.format(summary.toDelete)}</dd>
        </div>
        {columns.toArchive ? (
          <div>
            <dt>{columns.toArchive}</dt>
            <dd data-figure="toArchive">{number.format(summary.toArchive)}</dd>
          </div>
        ) : null}
        <div>
          <dt>{columns.kept}</dt>
          <dd data-figure="kept">{number.format(summary.kept)}</dd>
        </div>
        {columns.bytes ? (
          <div>
            <dt>{columns.bytes}</dt>
            <dd data-figure="bytesToDelete" data-bytes={summary.bytesToDelete}>
              {formatBytes(summary.bytesToDelete)}
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Safety brake</dt>
          <dd data-figure="brake">{summary.brake}</dd>
        </div>
      </dl>
      <SummaryTable caption="Per repository" lines={summary.byRepository} report={report} />
      {summary.byRule.length > 0 ? <SummaryTable caption="Per rule" lines={summary.byRule} report={report} /> : null}
    </section>
  );
}

function Graphs({ report }: { report: Report }) {
  const [chosen, setChosen] = useState(0);
  const graph = report.graphs[chosen];
  const options = useMemo(
    () =>
      report.graphs.map((g, i) => (
        <option key={g.repository} value={i}>{`${g.repository} (${g.images} images)`}</option>
      )),
    [report],
  );
  if (report.graphs.length === 0) return null;
  return (
    <section aria-labelledby="graph-heading">
      <h2 id="graph-heading">Image graph</h2>
      <label>
        Repository{' '}
        <select value={chosen} onChange={(event) => setChosen(Number(event.currentTarget.value))}>
          {options}
        </select>
      </label>
      {graph === undefined ? null : <GraphView key={graph.repository} graph={graph} />}
    </section>
  );
}

function App({ report }: { report: Report }) {
  return (
    <main>
      <h1>{report.title}</h1>
      <dl class="facts">
        {report.facts.map((fact) => (
          <div key={fact.name}>
            <dt>{fact.name}</dt>
            <dd>{fact.value}</dd>
          </div>
        ))}
      </dl>
      {report.notes.length > 0 ? (
        <ul class="notes">
          {report.notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      ) : null}
      {report.compliance ? (
        <DriftView drift={report.compliance} />
      ) : (
        <>
          <Summary report={report} />
          <DecisionTable report={report} />
          <Graphs report={report} />
        </>
      )}
    </main>
  );
}

async function start() {
  const root = document.getElementById('app') as HTMLElement;
  try {
    const payload = await readEmbedded<ReportPayload>('report-data');
    if (payload.version !== REPORT_VERSION) {
      throw new Error(`report format ${String(payload.version)}, expected ${REPORT_VERSION}`);
    }
    performance.mark('report:read');
    const report = decodeReport(payload);
    performance.mark('report:decoded');
    root.textContent = '';
    render(<App report={report} />, root);
    performance.mark('report:rendered');
    // Drawn: the next frame after the first render (what the benchmark times, from the navigation's start).
    requestAnimationFrame(() =>
      setTimeout(() => {
        performance.mark('report:painted');
        document.body.dataset.rendered = 'true';
      }, 0),
    );
  } catch (error) {
    root.textContent = `This report cannot be shown: ${error instanceof Error ? error.message : String(error)}`;
    document.body.dataset.rendered = 'error';
  }
}

void start();
