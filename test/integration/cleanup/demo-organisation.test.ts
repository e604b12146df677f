import { DEMO_ORGANIZATION, type RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalService } from '../../../local/service.ts';
import {
  type CleanupReport,
  CleanupReportSchema,
  OrganisationCleanupReportSchema,
} from '../../../shared/cleanup/report.ts';
import { loadServiceConfig } from '../../../shared/config/file.ts';
import { control } from '../../helpers/registry.ts';

/**
 * `npm start -- --config config/examples/organization.config.json`: the local service with the demo, run across the
 * demo organisation with the example organisation config (the bundled config plus `targets`): a unit's accounts
 * discovered, one excluded, the central account named, two regions, each account's role assumed with the external
 * id, and the central registry's build that a workload account's ECS service runs kept.
 */
describe('the demo organisation, with the example organisation config', { timeout: 120_000 }, () => {
  let server: RegistryServer;
  beforeAll(async () => {
    const config = loadServiceConfig({ CONFIG_FILE: 'config/examples/organization.config.json' });
    server = await startLocalService({ port: 0, config });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('cleans the three accounts in both regions, never the excluded one, and keeps what another account runs', async () => {
    // Act
    await control(server, 'bus/fire', { rule: 'scheduled-cleanup' });
    await server.bus.drain();
    // Assess
    const reports = server.bus.events
      .filter((event) => event['detail-type'] === 'Cleanup Report')
      .map((event) => CleanupReportSchema.parse(event.detail))
      .filter((report) => report.account !== undefined);
    const org = DEMO_ORGANIZATION;
    const cleaned = [org.central, ...org.workloads].flatMap((account) =>
      org.regions.map((region) => `${account}/${region}`),
    );
    expect(reports.map((report) => `${report.account}/${report.region}`).sort()).toEqual(cleaned.sort());
    expect(reports.every((report) => report.status === 'completed')).toBe(true);
    const central = reports.find(
      (report) => report.account === org.central && report.region === 'us-east-1',
    ) as CleanupReport;
    expect(central.counts.deleted).toBe(2);
    expect(central.kept.filter((entry) => entry.reason.code === 'in-use')).toEqual([
      expect.objectContaining({
        reason: { code: 'in-use', usedBy: [{ provider: 'ecs', where: `${org.workloads[0]}/eu-west-1 shop/checkout` }] },
      }),
    ]);
    const others = reports.filter((report) => report !== central);
    expect(others.every((report) => report.counts.deleted === 3)).toBe(true);
  });

  it('makes one Organisation Cleanup Report of the run once every work item has ended: bytes per account, the excluded never', async () => {
    // Act: the run of the test above is complete; the run report adds it up, and a second run of it adds nothing
    await control(server, 'bus/fire', { rule: 'cleanup-run-report' });
    await server.bus.drain();
    await control(server, 'bus/fire', { rule: 'cleanup-run-report' });
    await server.bus.drain();
    // Assess
    const events = server.bus.events.filter((event) => event['detail-type'] === 'Organisation Cleanup Report');
    expect(events).toHaveLength(1);
    const report = OrganisationCleanupReportSchema.parse(events[0]?.detail);
    const cleanups = server.bus.events
      .filter((event) => event['detail-type'] === 'Cleanup Report')
      .map((event) => CleanupReportSchema.parse(event.detail));
    const org = DEMO_ORGANIZATION;
    expect(report).toMatchObject({ complete: true, failedTargets: [] });
    expect(report.totals.reported).toBe(report.totals.workItems);
    expect(report.totals.bytesReclaimed).toBe(cleanups.reduce((sum, one) => sum + one.bytesReclaimed, 0));
    expect(report.accounts.map((entry) => entry.account)).toEqual([org.central, ...org.workloads, 'own']);
    for (const account of [org.central, ...org.workloads]) {
      const entry = report.accounts.find((one) => one.account === account);
      expect(entry?.regions).toEqual(['eu-west-1', 'us-east-1']);
      expect(entry?.bytesReclaimed).toBe(
        cleanups.filter((one) => one.account === account).reduce((sum, one) => sum + one.bytesReclaimed, 0),
      );
    }
  });
});
