import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { GraphView } from '../graph/GraphView.tsx';
import {
  type FeedEvent,
  fireJob,
  type GraphModel,
  getJson,
  type ImageNode,
  type Job,
  type JobRun,
  type Registry,
  type Repository,
} from './api.ts';
import './dashboard.css';
import { actionText, bytes, eventLine, short } from './text.ts';

/** The dashboard page: repositories and images, one image's graph and reason, reports, verdicts, live events, jobs. */

const LIVE_LIMIT = 200;
type Detail = Record<string, unknown>;

interface ImagesPage {
  repository: string;
  total: number;
  images: ImageNode[];
  graph: GraphModel;
  next?: number;
  cleanup?: {
    status: string;
    dryRun: boolean;
    plannedAt: string;
    counts: Record<string, number>;
    bytesReclaimed: number;
  };
}
interface ImageDetail {
  repository: string;
  image: ImageNode;
  neighbours: ImageNode[];
  graph: GraphModel;
  scanVerdict?: Detail;
  pushVerdict?: Detail;
}
interface Reports {
  cleanupFanOut: FeedEvent | null;
  cleanup: FeedEvent[];
  compliance: FeedEvent | null;
  drift: FeedEvent[];
  reconcile: FeedEvent[];
}
interface Scans {
  verdicts: FeedEvent[];
  allowList: {
    expiringWithinDays: number;
    entries: {
      id: string;
      owner: string;
      reason: string;
      expires: string;
      state: string;
      daysLeft?: number;
      daysAgo?: number;
    }[];
  };
}

/** Calls `load` now and again whenever `version` changes; keeps the last answer and error. */
function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [T | undefined, string | undefined] {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    load().then(
      (result) => {
        if (live) {
          setValue(result);
          setError(undefined);
        }
      },
      (failure: unknown) => {
        if (live) setError(failure instanceof Error ? failure.message : String(failure));
      },
    );
    return () => {
      live = false;
    };
  }, deps);
  return [value, error];
}

function App() {
  const [registry, setRegistry] = useState<{ account: string; region: string }>();
  const [repository, setRepository] = useState<string>();
  const [digest, setDigest] = useState<string>();
  const [events, setEvents] = useState<FeedEvent[]>([]);
  const [version, setVersion] = useState(0);
  const [connected, setConnected] = useState(false);
  const pending = useRef<number | undefined>(undefined);

  // The live stream: each event is listed at once; the views reload shortly after (one reload per burst).
  useEffect(() => {
    const source = new EventSource('/_dashboard/api/events');
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener('bus', (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as FeedEvent;
      setEvents((list) => (list.some((e) => e.seq === event.seq) ? list : [event, ...list].slice(0, LIVE_LIMIT)));
      if (pending.current === undefined) {
        pending.current = window.setTimeout(() => {
          pending.current = undefined;
          setVersion((v) => v + 1);
        }, 400);
      }
    });
    return () => source.close();
  }, []);

  const where = registry ?? {};
  const [registries] = useLoad(() => getJson<{ registries: Registry[] }>('registries'), [version]);
  const [repositories, repositoriesError] = useLoad(
    () => getJson<{ repositories: Repository[] }>('repositories', where),
    [version, registry?.account, registry?.region],
  );
  const [images, imagesError] = useLoad(
    () =>
      repository ? getJson<ImagesPage>('images', { ...where, repository, limit: 500 }) : Promise.resolve(undefined),
    [version, repository, registry?.account],
  );
  const [image, imageError] = useLoad(
    () =>
      repository && digest
        ? getJson<ImageDetail>('image', { ...where, repository, digest })
        : Promise.resolve(undefined),
    [version, repository, digest],
  );
  const [reports] = useLoad(() => getJson<Reports>('reports', { limit: 50 }), [version]);
  const [scans] = useLoad(() => getJson<Scans>('scans', { limit: 50 }), [version]);

  return (
    <div class="page">
      <header>
        <h1>ecr-automation · local dashboard</h1>
        <span class={connected ? 'live on' : 'live'} role="status">
          {connected ? 'live' : 'connecting…'}
        </span>
      </header>
      <Jobs version={version} />
      <main>
        <section aria-labelledby="repositories-title" class="repositories">
          <h2 id="repositories-title">Repositories</h2>
          <label>
            Registry{' '}
            <select
              onChange={(event) => {
                const [account, region] = (event.target as HTMLSelectElement).value.split('/');
                setRegistry(account && region ? { account, region } : undefined);
                setRepository(undefined);
                setDigest(undefined);
              }}
            >
              {(registries?.registries ?? []).map((r) => (
                <option key={`${r.account}/${r.region}`} value={r.own ? '' : `${r.account}/${r.region}`}>
                  {r.account} {r.region} ({r.repositories}){r.own ? ' · the service' : ''}
                </option>
              ))}
            </select>
          </label>
          {repositoriesError ? <p role="alert">{repositoriesError}</p> : null}
          <ul aria-label="Repositories">
            {(repositories?.repositories ?? []).map((repo) => (
              <li key={repo.name}>
                <button
                  type="button"
                  aria-pressed={repo.name === repository}
                  onClick={() => {
                    setRepository(repo.name);
                    setDigest(undefined);
                  }}
                >
                  <strong>{repo.name}</strong>
                  <span>
                    {repo.images} images · {repo.tags} tags
                    {repo.cleanup
                      ? ` · ${repo.cleanup.status}${repo.cleanup.dryRun && repo.cleanup.status !== 'dry-run' ? ' (dry run)' : ''}: ${repo.cleanup.toDelete} selected`
                      : ''}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="images-title" class="images">
          <h2 id="images-title">{repository ? `Images of ${repository}` : 'Images'}</h2>
          {!repository ? <p>Choose a repository.</p> : null}
          {imagesError ? <p role="alert">{imagesError}</p> : null}
          {images?.cleanup ? (
            <p class="plan">
              Last cleanup {images.cleanup.dryRun ? 'plan (dry run)' : 'run'}: {images.cleanup.status},{' '}
              {images.cleanup.counts.toDelete} of {images.cleanup.counts.images} selected,{' '}
              {bytes(images.cleanup.bytesReclaimed)} to reclaim (planned {images.cleanup.plannedAt})
            </p>
          ) : null}
          {images ? (
            <table aria-label={`Images of ${images.repository}`}>
              <thead>
                <tr>
                  <th scope="col">Image</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Size</th>
                  <th scope="col">Pushed</th>
                  <th scope="col">Cleanup</th>
                </tr>
              </thead>
              <tbody>
                {images.images.map((node) => (
                  <tr key={node.digest} class={node.digest === digest ? 'selected' : ''}>
                    <td>
                      <button type="button" class="link" onClick={() => setDigest(node.digest)} title={node.digest}>
                        {short(node.digest)}
                      </button>
                    </td>
                    <td>{node.tags.join(', ') || '—'}</td>
                    <td>
                      {node.kind}
                      {node.children.length ? ` (${node.children.length} children)` : ''}
                      {node.referrers.length ? ` (${node.referrers.length} referrers)` : ''}
                    </td>
                    <td>{bytes(node.sizeInBytes)}</td>
                    <td>{node.pushedAt.slice(0, 10)}</td>
                    <td class={`decision ${node.decision?.action ?? 'none'}`}>{actionText(node.decision)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {images && images.next !== undefined ? (
            <p>
              Showing the first {images.images.length} of {images.total}.
            </p>
          ) : null}
        </section>
        <section aria-labelledby="image-title" class="image">
          <h2 id="image-title">Image</h2>
          {imageError ? <p role="alert">{imageError}</p> : null}
          {image ? <ImagePanel detail={image} onOpen={setDigest} /> : <p>Choose an image.</p>}
        </section>
      </main>
      {images ? (
        <section aria-labelledby="graph-title" class="repository-graph">
          <h2 id="graph-title">Graph of {images.repository}</h2>
          <GraphView graph={images.graph} onOpen={(node) => node.digest && setDigest(node.digest)} />
        </section>
      ) : null}
      <div class="lower">
        <ReportsPanel reports={reports} />
        <ScansPanel scans={scans} />
        <section aria-labelledby="events-title" class="events">
          <h2 id="events-title">Live events</h2>
          <ol aria-label="Live events" aria-live="polite">
            {events.map((event) => (
              <li key={event.seq}>
                <time>{event.time.slice(11, 19)}</time> <b>{event.detailType}</b> <span>{eventLine(event)}</span>
              </li>
            ))}
          </ol>
        </section>
      </div>
    </div>
  );
}

function ImagePanel({ detail, onOpen }: { detail: ImageDetail; onOpen: (digest: string) => void }) {
  const { image } = detail;
  const scan = detail.scanVerdict as
    | {
        verdict: string;
        blocking?: { id: string; severity: string; package?: string }[];
        allowed?: { id: string; allowedUntil: string }[];
      }
    | undefined;
  return (
    <div>
      <p class="digest">{image.digest}</p>
      <dl>
        <dt>Tags</dt>
        <dd>{image.tags.join(', ') || 'untagged'}</dd>
        <dt>Kind</dt>
        <dd>
          {image.kind}
          {image.artifactType ? ` (${image.artifactType})` : ''}
        </dd>
        <dt>Cleanup</dt>
        <dd class={`decision ${image.decision?.action ?? 'none'}`} id="image-decision">
          {actionText(image.decision)}:{' '}
          {image.decision?.reasonText ?? 'no cleanup decision yet: run the cleanup (dry run) to plan'}
          {image.decision?.cost ? ` — ${image.decision.cost}` : ''}
        </dd>
        <dt>Pushed</dt>
        <dd>{image.pushedAt}</dd>
        <dt>Last pulled</dt>
        <dd>{image.lastPulledAt ?? 'never'}</dd>
        {scan ? (
          <>
            <dt>Scan verdict</dt>
            <dd class={`verdict ${scan.verdict}`}>
              {scan.verdict}
              {scan.blocking?.length ? `: ${scan.blocking.map((f) => `${f.id} (${f.severity})`).join(', ')}` : ''}
            </dd>
          </>
        ) : null}
      </dl>
      <GraphView graph={detail.graph} onOpen={(node) => node.digest && onOpen(node.digest)} />
      <ul class="neighbours" aria-label="Related images">
        {detail.neighbours.map((node) => (
          <li key={node.digest}>
            <button type="button" class="link" onClick={() => onOpen(node.digest)}>
              {node.tags[0] ?? short(node.digest)}
            </button>{' '}
            {node.kind}, {actionText(node.decision)}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Jobs({ version }: { version: number }) {
  const [jobs] = useLoad(() => getJson<{ jobs: Job[] }>('jobs'), [version]);
  const [runs, setRuns] = useState<Record<string, JobRun | string>>({});
  const [busy, setBusy] = useState<string>();
  const run = useCallback(async (rule: string) => {
    setBusy(rule);
    try {
      const result = await fireJob(rule);
      setRuns((all) => ({ ...all, [rule]: result }));
    } catch (error) {
      setRuns((all) => ({ ...all, [rule]: error instanceof Error ? error.message : String(error) }));
    } finally {
      setBusy(undefined);
    }
  }, []);
  return (
    <section aria-labelledby="jobs-title" class="jobs">
      <h2 id="jobs-title">Run a scheduled job now (dry run: nothing is changed)</h2>
      <ul>
        {(jobs?.jobs ?? []).map((job) => {
          const last = runs[job.rule];
          return (
            <li key={job.rule}>
              <button type="button" disabled={busy === job.rule} onClick={() => void run(job.rule)} title={job.dryRun}>
                {job.title} (dry run)
              </button>
              {last === undefined ? null : typeof last === 'string' ? (
                <span role="alert">{last}</span>
              ) : (
                <output aria-label={`Result of ${job.title}`}>
                  {last.ok ? 'done' : `failed: ${last.error ?? ''}`} (dry run){resultLine(last.result)}
                </output>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function resultLine(result: unknown): string {
  if (!result || typeof result !== 'object') return '';
  const r = result as Detail;
  if (typeof r.workItems === 'number') return `: ${String(r.repositories)} repositories, ${r.workItems} work items`;
  const counts = r.counts as Record<string, number> | undefined;
  if (counts && typeof counts.checked === 'number')
    return `: ${counts.checked} checked, ${counts.nonCompliant} not compliant`;
  if (Array.isArray(r.expiring)) return `: ${r.expiring.length} expiring, ${(r.expired as unknown[]).length} expired`;
  if (typeof r.status === 'string') return `: ${r.status}`;
  return '';
}

function ReportsPanel({ reports }: { reports: Reports | undefined }) {
  const fanOut = reports?.cleanupFanOut?.detail as Detail | undefined;
  const compliance = reports?.compliance?.detail as
    | {
        dryRun: boolean;
        counts: Record<string, number>;
        nonCompliant: { repositoryName: string; findings: { check: string; reason: string }[] }[];
      }
    | undefined;
  return (
    <section aria-labelledby="reports-title" class="reports">
      <h2 id="reports-title">Cleanup and compliance</h2>
      <h3>Last cleanup</h3>
      {fanOut ? (
        <p id="last-cleanup">
          {fanOut.dryRun ? 'Dry run' : 'Run'} {String(fanOut.runId ?? '')}: {String(fanOut.repositories)} repositories,{' '}
          {String(fanOut.workItems)} work items
        </p>
      ) : (
        <p>No cleanup run yet.</p>
      )}
      <table aria-label="Cleanup reports">
        <thead>
          <tr>
            <th scope="col">Repository</th>
            <th scope="col">Status</th>
            <th scope="col">Selected</th>
            <th scope="col">Kept</th>
            <th scope="col">Reclaims</th>
          </tr>
        </thead>
        <tbody>
          {(reports?.cleanup ?? []).map((event) => {
            const d = (event.detail ?? {}) as {
              repositoryName: string;
              status: string;
              dryRun: boolean;
              counts: Record<string, number>;
              bytesReclaimed: number;
            };
            return (
              <tr key={event.id}>
                <td>{d.repositoryName}</td>
                <td>
                  {d.status}
                  {d.dryRun && d.status !== 'dry-run' ? ' (dry run)' : ''}
                </td>
                <td>{d.counts?.toDelete}</td>
                <td>{d.counts?.kept}</td>
                <td>{bytes(d.bytesReclaimed)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <h3>Compliance</h3>
      {compliance ? (
        <div id="last-compliance">
          <p>
            {compliance.dryRun ? 'Dry run' : 'Run'}: {compliance.counts.checked} checked, {compliance.counts.compliant}{' '}
            compliant, {compliance.counts.nonCompliant} not
          </p>
          <ul>
            {compliance.nonCompliant.map((entry) => (
              <li key={entry.repositoryName}>
                {entry.repositoryName}: {entry.findings.map((f) => f.reason).join('; ')}
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <p>No compliance scan yet.</p>
      )}
      <h3>Drift</h3>
      <ul aria-label="Compliance drift">
        {(reports?.drift ?? []).map((event) => {
          const d = (event.detail ?? {}) as { repositoryName: string; fixed?: string[] };
          return (
            <li key={event.id}>
              {event.time} {d.repositoryName}: fixed {(d.fixed ?? []).join(', ') || 'nothing'}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function ScansPanel({ scans }: { scans: Scans | undefined }) {
  return (
    <section aria-labelledby="scans-title" class="scans">
      <h2 id="scans-title">Scan verdicts</h2>
      <ul aria-label="Scan verdicts">
        {(scans?.verdicts ?? []).map((event) => {
          const d = (event.detail ?? {}) as {
            repositoryName: string;
            digest: string;
            verdict: string;
            blocking?: { id: string; severity: string; package?: string }[];
            blockingTotal?: number;
          };
          return (
            <li key={event.id} class={`verdict ${d.verdict}`}>
              <b>{d.verdict}</b> {d.repositoryName} {short(d.digest)}
              {d.blocking?.length ? (
                <ul>
                  {d.blocking.slice(0, 10).map((finding) => (
                    <li key={finding.id}>
                      {finding.id} {finding.severity}
                      {finding.package ? ` (${finding.package})` : ''}
                    </li>
                  ))}
                </ul>
              ) : null}
            </li>
          );
        })}
      </ul>
      <h3>Allow-list (expiring within {scans?.allowList.expiringWithinDays ?? '?'} days highlighted)</h3>
      <table aria-label="Allow-list">
        <thead>
          <tr>
            <th scope="col">Finding</th>
            <th scope="col">Owner</th>
            <th scope="col">Expires</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {(scans?.allowList.entries ?? []).map((entry) => (
            <tr key={entry.id} class={entry.state}>
              <td>{entry.id}</td>
              <td>{entry.owner}</td>
              <td>{entry.expires}</td>
              <td>
                {entry.state === 'expiring'
                  ? `expiring in ${entry.daysLeft} days`
                  : entry.state === 'expired'
                    ? `expired ${entry.daysAgo} days ago`
                    : 'active'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
