import { request } from 'node:http';
import { DescribeImagesCommand, DescribeRepositoriesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CLIENTS } from '../../local/dashboard/feed.ts';
import { DASHBOARD_JOBS } from '../../local/dashboard/jobs.ts';
import { localManifest, scheduledRuleNames, startLocalService } from '../../local/service.ts';
import { loadServiceConfig } from '../../shared/config/file.ts';
import { parseConfig } from '../../shared/config/load.ts';
import { ecrClient } from '../helpers/registry.ts';

/**
 * The local dashboard's HTTP API, over real HTTP against `npm start`'s service (the demo registry, the bundled config,
 * which is not a dry run): its routes, hostile query parameters, the dry-run triggers that cannot change the registry
 * nor be fired from another page, the live stream, and ECR and `/v2/` answering beside it.
 */
describe('local dashboard API', { timeout: 120_000 }, () => {
  let server: RegistryServer;
  let ecr: ECRClient;
  let base: string;

  beforeAll(async () => {
    server = await startLocalService({ port: 0, scanDurationMs: 50 });
    ecr = ecrClient(server);
    base = `${server.url}/_dashboard/`;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, { headers });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // a page or a script
    }
    return { status: response.status, headers: response.headers, body: body as Record<string, unknown> & string };
  };

  const post = async (path: string, headers: Record<string, string> = {}, body?: string) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers, body });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  const DRY_RUN = { 'x-dashboard-action': 'dry-run' };

  /** What a person sees of the registry through ECR: every repository's images, tags and settings (no pull recorded). */
  const snapshot = async () => {
    const { repositories = [] } = await ecr.send(new DescribeRepositoriesCommand({}));
    const images: Record<string, string[]> = {};
    for (const repository of repositories) {
      const name = repository.repositoryName as string;
      const listed = await ecr.send(new DescribeImagesCommand({ repositoryName: name, maxResults: 1000 }));
      images[name] = (listed.imageDetails ?? [])
        .map(
          (image) => `${image.imageDigest} ${[...(image.imageTags ?? [])].sort().join(',')} ${image.imageStatus ?? ''}`,
        )
        .sort();
    }
    return {
      repositories: repositories
        .map(
          (repository) =>
            `${repository.repositoryName} ${repository.imageTagMutability} ${repository.imageScanningConfiguration?.scanOnPush}`,
        )
        .sort(),
      images,
    };
  };

  it('serves its page, script and style from the registry port, with a policy that lets the page reach only itself', async () => {
    // Act
    const page = await get('');
    const script = await get('app.js');
    const style = await get('app.css');
    // Assess
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body).toContain('<script defer src="/_dashboard/app.js"></script>');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.body.length).toBeGreaterThan(10_000);
    expect(script.body).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[a-z0-9.-]+\.[a-z]{2,}\/[^"'\s]*\.(?:js|css)/);
    expect(style.status).toBe(200);
    expect(style.headers.get('content-type')).toMatch(/^text\/css/);
  }, 60_000);

  it('lists the registries, the repositories and a repository with its image graph', async () => {
    // Act
    const registries = await get('api/registries');
    const repositories = await get('api/repositories');
    const images = await get('api/images?repository=payments/api');
    // Assess
    expect(registries.status).toBe(200);
    expect(registries.body.registries).toEqual(
      expect.arrayContaining([
        { account: '123456789012', region: 'us-east-1', own: true, repositories: expect.any(Number) },
      ]),
    );
    const names = (repositories.body.repositories as { name: string }[]).map((repository) => repository.name);
    expect(names).toEqual(expect.arrayContaining(['payments/api', 'payments/worker', 'platform/base-images']));
    expect(images.status).toBe(200);
    const listed = (await ecr.send(new DescribeImagesCommand({ repositoryName: 'payments/api' }))).imageDetails ?? [];
    expect(images.body.total).toBe(listed.length);
    const graph = images.body.graph as { nodes: { digest: string; kind: string }[]; edges: { kind: string }[] };
    expect(graph.nodes.map((node) => node.digest).sort()).toEqual(listed.map((image) => image.imageDigest).sort());
    expect(graph.edges.length).toBeGreaterThan(0);
  });

  it('answers one image with its neighbours, and 404 for an image or repository that is not there', async () => {
    // Prepare
    const images = await get('api/images?repository=payments/api');
    const index = (images.body.images as { digest: string; kind: string; children: string[] }[]).find(
      (image) => image.kind === 'index',
    );
    // Act
    const one = await get(`api/image?repository=payments/api&digest=${index?.digest}`);
    const missing = await get(`api/image?repository=payments/api&digest=sha256:${'0'.repeat(64)}`);
    const noRepository = await get('api/images?repository=no/such');
    // Assess
    expect(index).toBeDefined();
    expect(one.status).toBe(200);
    const neighbours = (one.body.neighbours as { digest: string }[]).map((node) => node.digest).sort();
    expect(neighbours).toEqual(expect.arrayContaining([...(index?.children ?? [])]));
    expect(missing.status).toBe(404);
    expect(noRepository.status).toBe(404);
  });

  it.each([
    ['an unknown parameter', 'api/images?repository=payments/api&dryRun=false', 400],
    ['a parameter given twice', 'api/images?repository=payments/api&repository=payments/worker', 400],
    ['a prototype key', 'api/repositories?__proto__=x', 400],
    ['a limit of 0', 'api/images?repository=payments/api&limit=0', 400],
    ['a limit past the page', 'api/images?repository=payments/api&limit=501', 400],
    ['a negative cursor', 'api/images?repository=payments/api&after=-1', 400],
    ['a cursor of 400 digits', `api/images?repository=payments/api&after=${'9'.repeat(400)}`, 400],
    ['a digest that is not one', 'api/image?repository=payments/api&digest=sha256:xyz', 400],
    ['a repository name of 300 characters', `api/images?repository=${'a'.repeat(300)}`, 400],
    ['an account without its region', 'api/repositories?account=123456789012', 400],
    ['an account that is not 12 digits', 'api/repositories?account=12&region=us-east-1', 400],
    ['a region ECR does not serve', 'api/repositories?account=123456789012&region=mars-1', 400],
    ['a broken escape', 'api/images?repository=%E0%A4%A', 404],
    ['a query of 3,000 characters', `api/repositories?x=${'y'.repeat(3_000)}`, 414],
    ['a query on the stream', 'api/events?x=1', 400],
  ])('refuses %s with a clear error and nothing else', async (_what, path, status) => {
    // Act
    const started = performance.now();
    const answer = await get(path);
    // Assess
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ error: expect.any(String) });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('leaves a request line of 100,000 characters to the HTTP parser, which refuses it (431)', async () => {
    // Act
    const response = await fetch(`${base}api/repositories?x=${'y'.repeat(100_000)}`);
    // Assess
    expect(response.status).toBe(431);
  });

  it('answers 404 under its prefix for what it does not serve, 405 for writes, while ECR and /v2/ keep working', async () => {
    // Act
    const unknown = await get('nope');
    const unknownApi = await get('api/nope');
    const put = await fetch(`${base}api/repositories`, { method: 'PUT' });
    const del = await fetch(`${base}`, { method: 'DELETE' });
    const headStream = await fetch(`${base}api/events`, { method: 'HEAD' });
    const unknownJob = await post('api/jobs/cleanup-run-report', DRY_RUN);
    const ecrAnswer = await ecr.send(new DescribeRepositoriesCommand({}));
    const v2 = await fetch(`${server.url}/v2/`);
    // Assess
    expect(unknown.status).toBe(404);
    expect(unknownApi.status).toBe(404);
    expect(put.status).toBe(405);
    expect(del.status).toBe(405);
    expect(headStream.status).toBe(405);
    expect(unknownJob.status).toBe(404);
    expect(ecrAnswer.repositories?.length).toBeGreaterThan(0);
    expect(v2.status).toBe(401);
  });

  it('refuses a dry-run request that is not the page own, and fires nothing', async () => {
    // Prepare
    const fired = () => server.bus.events.filter((event) => event['detail-type'] === 'Scheduled Event').length;
    const before = fired();
    // Act
    const answers = [
      await post('api/jobs/scheduled-cleanup'),
      await post('api/jobs/scheduled-cleanup', { 'x-dashboard-action': 'run' }),
      await post('api/jobs/scheduled-cleanup', { ...DRY_RUN, origin: 'http://127.0.0.1:1' }),
      await post('api/jobs/scheduled-cleanup', { ...DRY_RUN, origin: 'https://evil.example' }),
      await post('api/jobs/scheduled-cleanup', { ...DRY_RUN, 'sec-fetch-site': 'cross-site' }),
      await post('api/jobs/scheduled-cleanup', { ...DRY_RUN, 'content-type': 'application/json' }, '{"dryRun":false}'),
      await post('api/jobs/scheduled-cleanup?dryRun=false', DRY_RUN),
    ];
    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([403, 403, 403, 403, 403, 403, 400]);
    expect(fired()).toBe(before);
  });

  it('fires every job in dry run only: reports come back and the registry is as it was', async () => {
    // Prepare
    const before = await snapshot();
    const jobs = (await get('api/jobs')).body.jobs as { rule: string }[];
    // Act
    const runs = [];
    for (const job of jobs) runs.push(await post(`api/jobs/${job.rule}`, { ...DRY_RUN, origin: server.url }));
    await server.bus.drain();
    const after = await snapshot();
    const reports = await get('api/reports');
    // Assess
    expect(jobs.map((job) => job.rule)).toEqual([
      'scheduled-cleanup',
      'scheduled-compliance',
      'reconcile-registry',
      'allow-list-report',
    ]);
    for (const run of runs) expect(run).toMatchObject({ status: 200, body: { dryRun: true, ok: true } });
    expect(after).toEqual(before);
    const cleanup = reports.body.cleanup as {
      detail: { dryRun: boolean; counts: { deleted: number; toDelete: number } };
    }[];
    expect(cleanup.length).toBeGreaterThan(0);
    expect(cleanup.every((report) => report.detail.dryRun && report.detail.counts.deleted === 0)).toBe(true);
    // The plan would delete something: firing the same job live would have changed the registry.
    expect(cleanup.some((report) => report.detail.counts.toDelete > 0)).toBe(true);
    expect((reports.body.compliance as { detail: { dryRun: boolean } }).detail.dryRun).toBe(true);
  });

  it('offers every scheduled job of the manifest but the run report, which takes no dry run', () => {
    // Assess: a new scheduled job is offered only once someone has said how it runs dry
    const scheduled = scheduledRuleNames(localManifest(loadServiceConfig()));
    expect([...DASHBOARD_JOBS.map((job) => job.rule), 'cleanup-run-report'].sort()).toEqual([...scheduled].sort());
  });

  it('runs one job at a time: a second request while it runs is a 409', async () => {
    // Act
    const [first, second] = await Promise.all([
      post('api/jobs/scheduled-compliance', DRY_RUN),
      post('api/jobs/scheduled-compliance', DRY_RUN),
    ]);
    // Assess
    expect([first.status, second.status].sort()).toEqual([200, 409]);
  });

  /** Opens the live stream and collects its frames until `until` says enough. */
  const stream = (headers: Record<string, string> = {}) => {
    const frames: { id?: string; data: Record<string, unknown> }[] = [];
    let status = 0;
    const req = request(`${base}api/events`, { headers });
    const ready = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        status = res.statusCode ?? 0;
        let buffer = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end !== -1) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const id = /^id: (\d+)$/m.exec(frame)?.[1];
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (data) frames.push({ id, data: JSON.parse(data) });
            end = buffer.indexOf('\n\n');
          }
        });
        resolve();
      });
      req.on('error', reject);
    });
    req.end();
    const until = async (test: () => boolean, ms = 10_000) => {
      const deadline = Date.now() + ms;
      while (!test()) {
        if (Date.now() > deadline) throw new Error(`stream: not seen in ${ms} ms: ${JSON.stringify(frames.slice(-3))}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    return { frames, ready, until, status: () => status, close: () => req.destroy() };
  };

  it('streams each bus event as it is published, and resumes after the last event a client saw', async () => {
    // Prepare
    const events = new EventBridgeClient({ endpoint: server.url, region: 'us-east-1' });
    const live = stream();
    await live.ready;
    // Act
    await events.send(
      new PutEventsCommand({ Entries: [{ Source: 'team.app', DetailType: 'Dashboard Probe', Detail: '{"n":1}' }] }),
    );
    await live.until(() => live.frames.some((frame) => frame.data.detailType === 'Dashboard Probe'));
    const seen = live.frames.find((frame) => frame.data.detailType === 'Dashboard Probe');
    live.close();
    await events.send(
      new PutEventsCommand({ Entries: [{ Source: 'team.app', DetailType: 'Dashboard Probe', Detail: '{"n":2}' }] }),
    );
    const resumed = stream({ 'last-event-id': String(seen?.id) });
    await resumed.ready;
    await resumed.until(() => resumed.frames.some((frame) => (frame.data.detail as { n?: number })?.n === 2));
    resumed.close();
    // Assess
    expect(live.status()).toBe(200);
    expect(seen?.data).toMatchObject({ source: 'team.app', detail: { n: 1 } });
    expect(resumed.frames.some((frame) => (frame.data.detail as { n?: number })?.n === 1)).toBe(false);
  });

  it(`serves at most ${MAX_CLIENTS} live streams at once`, async () => {
    // Prepare
    const open = Array.from({ length: MAX_CLIENTS }, () => stream());
    await Promise.all(open.map((each) => each.ready));
    // Act
    const one = stream();
    await one.ready;
    // Assess
    expect(open.every((each) => each.status() === 200)).toBe(true);
    expect(one.status()).toBe(503);
    for (const each of [...open, one]) each.close();
  });
});

describe('local dashboard allow-list', { timeout: 120_000 }, () => {
  let server: RegistryServer;
  const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

  beforeAll(async () => {
    const base = loadServiceConfig();
    const config = parseConfig(
      {
        ...base,
        scan: {
          ...base.scan,
          allowList: [
            { id: 'CVE-2026-0001', expires: day(5), owner: 'team-a', reason: 'fix in the next base image' },
            { id: 'CVE-2026-0002', expires: day(60), owner: 'team-b', reason: 'not reachable' },
            { id: 'CVE-2026-0003', expires: day(-3), owner: 'team-c', reason: 'was accepted' },
          ],
        },
      },
      'dashboard test config',
    );
    server = await startLocalService({ port: 0, demo: false, config });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it("marks each entry expiring within the report's window, expired or active, on the registry's clock", async () => {
    // Act
    const scans = (await (await fetch(`${server.url}/_dashboard/api/scans`)).json()) as {
      allowList: { expiringWithinDays: number; entries: { id: string; state: string; daysLeft?: number }[] };
    };
    // Assess
    expect(scans.allowList.expiringWithinDays).toBe(14);
    expect(scans.allowList.entries.map((entry) => [entry.id, entry.state])).toEqual([
      ['CVE-2026-0001', 'expiring'],
      ['CVE-2026-0002', 'active'],
      ['CVE-2026-0003', 'expired'],
    ]);
    expect(scans.allowList.entries[0]?.daysLeft).toBeGreaterThanOrEqual(4);
    expect(scans.allowList.entries[0]?.daysLeft).toBeLessThanOrEqual(6);
  });
});
