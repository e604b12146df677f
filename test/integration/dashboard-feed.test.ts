import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { BusEvent } from '@ecr-automation/local-registry';
import { afterEach, describe, expect, it } from 'vitest';
import { CLIENT_BACKLOG_BYTES, DashboardFeed, FEED_EVENTS, REPORTS_BYTES } from '../../local/dashboard/feed.ts';

/**
 * The dashboard's feed over real sockets: a stream client that stops reading is disconnected once its backlog passes
 * the bound (it would otherwise hold every event in memory), while one that reads keeps up; what the feed keeps is
 * bounded in events and report bytes.
 */
describe('dashboard feed', { timeout: 60_000 }, () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => {
      server?.closeAllConnections();
      server ? server.close(() => resolve()) : resolve();
    });
  });

  let id = 0;
  const event = (detail: unknown, detailType = 'Probe', source = 'team.app'): BusEvent => ({
    version: '0',
    id: `e-${++id}`,
    'detail-type': detailType,
    source,
    account: '123456789012',
    time: '2026-12-06T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
  });

  const serve = async (feed: DashboardFeed) => {
    server = createServer((_req, res) => feed.stream(res, undefined));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  };

  it('disconnects a client that stops reading once its backlog passes the bound, and keeps serving one that reads', async () => {
    // Prepare
    const feed = new DashboardFeed();
    const port = await serve(feed);
    const slow = connect(port, '127.0.0.1');
    slow.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    slow.pause();
    let slowClosed = false;
    slow.on('close', () => {
      slowClosed = true;
    });
    slow.on('error', () => undefined);
    const reader = connect(port, '127.0.0.1');
    reader.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    let read = 0;
    reader.on('data', (chunk) => {
      read += chunk.length;
    });
    while (feed.clientCount < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    const detail = { text: 'x'.repeat(100_000) };
    // Act: 100 events of 100 KB, 10 MB in all, far past what the slow client may hold
    for (let n = 0; n < 100; n++) {
      feed.add(event(detail), false);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const deadline = Date.now() + 20_000;
    while ((feed.clientCount > 1 || read < 10_000_000) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const clients = feed.clientCount;
    // The slow client, reading again, finds its stream ended by the server.
    slow.resume();
    while (!slowClosed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    // Assess
    expect(clients).toBe(1);
    expect(slowClosed).toBe(true);
    expect(read).toBeGreaterThan(10_000_000);
    expect(CLIENT_BACKLOG_BYTES).toBeLessThan(1024 * 1024);
    reader.destroy();
  });

  it(`keeps the last ${FEED_EVENTS} events, and reports only of the service on its own bus, within a byte budget`, () => {
    // Prepare
    const feed = new DashboardFeed();
    const report = (repositoryName: string, size: number) => ({ repositoryName, pad: 'p'.repeat(size) });
    // Act
    for (let n = 0; n < FEED_EVENTS + 50; n++) feed.add(event({ n }), false);
    feed.add(event(report('forged/on-default-bus', 10), 'Cleanup Report', 'ecr-automation'), false);
    feed.add(event(report('forged/other-source', 10), 'Cleanup Report', 'team.app'), true);
    feed.add(event(report('team/app', 10), 'Cleanup Report', 'ecr-automation'), true);
    for (let n = 0; n < 200; n++) {
      feed.add(event(report(`big/${n}`, 250_000), 'Cleanup Report', 'ecr-automation'), true);
    }
    // Assess
    expect(feed.events()).toHaveLength(FEED_EVENTS);
    expect(feed.cleanupReport('forged/on-default-bus')).toBeUndefined();
    expect(feed.cleanupReport('forged/other-source')).toBeUndefined();
    expect(feed.cleanupReport('big/199')).toBeDefined();
    expect(feed.reportBytes).toBeLessThanOrEqual(REPORTS_BYTES);
  });
});
