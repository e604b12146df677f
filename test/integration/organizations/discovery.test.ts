import { ListRootsCommand } from '@aws-sdk/client-organizations';
import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TargetsConfig, TargetsConfigSchema } from '../../../shared/config/targets-schema.ts';
import { resolveTargets, TargetsResolutionError } from '../../../shared/credentials/index.ts';
import {
  createOrganizationsClient,
  createOrganizationsGateway,
  type OrganizationsGateway,
} from '../../../shared/organizations/index.ts';
import { control, startTestRegistry } from '../../helpers/registry.ts';

const MANAGEMENT = '111111111111';
const SANDBOX = '444444444444';
const SPOKE = '222222222222';
const OUTSIDER = '333333333333';
const WORKLOADS = 'ou-test-workload';
const PROD = 'ou-test-prod0001';
const DEV = 'ou-test-dev00001';
const EMPTY = 'ou-test-empty001';
const UNKNOWN_UNIT = 'ou-test-nothere1';

/** 23 accounts under WORKLOADS (more than a page of 20), two of them not active. */
const WORKLOAD_ACCOUNTS = Array.from({ length: 23 }, (_, i) => ({
  id: `5000000000${String(i).padStart(2, '0')}`,
  name: `w${i}`,
  ...(i === 3 ? { status: 'SUSPENDED' } : i === 7 ? { status: 'PENDING_CLOSURE' } : {}),
}));
const ACTIVE_WORKLOADS = WORKLOAD_ACCOUNTS.filter((a) => a.status === undefined).map((a) => a.id);
const DEV_ACCOUNTS = ['600000000001', '600000000002'];

const FIXTURE = {
  repositories: [],
  organization: {
    managementAccount: MANAGEMENT,
    units: [
      { name: 'root', accounts: [{ id: SANDBOX, name: 'sandbox' }] },
      { id: WORKLOADS, name: 'workloads', accounts: WORKLOAD_ACCOUNTS },
      { id: PROD, name: 'prod', parent: 'workloads', accounts: [{ id: SPOKE, name: 'spoke' }] },
      { id: DEV, name: 'dev', parent: 'prod', accounts: DEV_ACCOUNTS.map((id) => ({ id, name: id })) },
      { id: EMPTY, name: 'empty' },
    ],
  },
};

const config = (section: Partial<TargetsConfig>): TargetsConfig =>
  TargetsConfigSchema.parse({ regions: ['eu-west-1', 'us-east-1'], roleName: 'EcrAutomation', ...section });

const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};

/** The targets section resolved against the organisation the local registry serves, through the real SDK client. */
describe('target accounts discovered from AWS Organizations (local registry)', () => {
  let server: RegistryServer;
  let rootId: string;
  /** A gateway signed as `account` (the registry's account is the 12-digit access key). */
  const gatewayAs = (account: string): OrganizationsGateway =>
    createOrganizationsGateway(
      createOrganizationsClient({
        endpoint: server.url,
        region: 'eu-west-1',
        credentials: { accessKeyId: account, secretAccessKey: 'local-secret' },
        maxAttempts: 1,
      }),
    );

  beforeAll(async () => {
    server = await startTestRegistry();
    await control(server, 'load', FIXTURE);
    const roots = await createOrganizationsClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: MANAGEMENT, secretAccessKey: 'local-secret' },
    }).send(new ListRootsCommand({}));
    rootId = roots.Roots?.[0]?.Id ?? '';
  });
  afterAll(async () => {
    await server?.close();
  });

  it('discovers the active accounts under a unit and its descendants, in every region', async () => {
    // Prepare
    const organizations = gatewayAs(MANAGEMENT);
    // Act
    const resolved = await resolveTargets(config({ organizationalUnits: [WORKLOADS] }), organizations);
    // Assess
    const expected = [...ACTIVE_WORKLOADS, SPOKE, ...DEV_ACCOUNTS].sort();
    expect(resolved.accounts).toEqual(expected);
    expect(resolved.discovered).toEqual(expected);
    expect(resolved.inactive).toEqual([
      { account: '500000000003', state: 'SUSPENDED' },
      { account: '500000000007', state: 'PENDING_CLOSURE' },
    ]);
    expect(resolved.targets).toHaveLength(expected.length * 2);
    expect(resolved.targets.slice(0, 2)).toEqual([
      { account: expected[0], region: 'eu-west-1' },
      { account: expected[0], region: 'us-east-1' },
    ]);
    expect(resolved.membership).toBe('none');
    expect(resolved.warnings).toEqual([]);
    // WORKLOADS's 23 accounts take two pages of 20; PROD, DEV one each.
    expect(organizations.callCounts()).toEqual({ ListAccountsForParent: 4, ListOrganizationalUnitsForParent: 3 });
  });

  it('discovers the whole organisation from its root, less the excluded, with the named accounts checked', async () => {
    // Prepare
    const section = config({
      accounts: [MANAGEMENT],
      organizationalUnits: [rootId, DEV],
      exclude: [SANDBOX, OUTSIDER],
    });
    // Act
    const resolved = await resolveTargets(section, gatewayAs(MANAGEMENT));
    // Assess
    expect(resolved.accounts).toEqual([MANAGEMENT, ...ACTIVE_WORKLOADS, SPOKE, ...DEV_ACCOUNTS].sort());
    expect(resolved.excluded).toEqual([SANDBOX]);
    expect(resolved.membership).toBe('checked');
    expect(resolved.warnings).toEqual([
      {
        kind: 'excluded-not-member',
        subject: OUTSIDER,
        message: `excluded account ${OUTSIDER} is not a member of the organisation`,
      },
    ]);
  });

  it('finds no account under an empty unit', async () => {
    // Act
    const resolved = await resolveTargets(config({ organizationalUnits: [EMPTY] }), gatewayAs(MANAGEMENT));
    // Assess
    expect(resolved.targets).toEqual([]);
  });

  it('refuses an unknown unit and an unknown named account, naming both: nothing is resolved', async () => {
    // Act
    const error = await rejectionOf(
      resolveTargets(
        config({ accounts: [SPOKE, OUTSIDER], organizationalUnits: [PROD, UNKNOWN_UNIT, 'r-zzzz'] }),
        gatewayAs(MANAGEMENT),
      ),
    );
    // Assess
    expect(error).toBeInstanceOf(TargetsResolutionError);
    expect((error as TargetsResolutionError).problems.map((p) => [p.kind, p.subject])).toEqual([
      ['unknown-organizational-unit', UNKNOWN_UNIT],
      ['unknown-organizational-unit', 'r-zzzz'],
      ['unknown-account', OUTSIDER],
    ]);
    expect((error as Error).message).toContain(`organisational unit ${UNKNOWN_UNIT} does not exist`);
    expect((error as Error).message).toContain(`account ${OUTSIDER} is not a member of the organisation`);
  });

  it('takes named accounts unchecked when the caller may not read the organisation, and refuses units then', async () => {
    // Prepare: a member account is not the management account (AccessDeniedException); an account outside the
    // organisation belongs to none (AWSOrganizationsNotInUseException).
    const named = config({ accounts: [SPOKE, OUTSIDER] });
    // Act
    const asMember = await resolveTargets(named, gatewayAs(SPOKE));
    const asOutsider = await resolveTargets(named, gatewayAs(OUTSIDER));
    const units = await rejectionOf(resolveTargets(config({ organizationalUnits: [PROD] }), gatewayAs(SPOKE)));
    // Assess
    expect(asMember.accounts).toEqual([SPOKE, OUTSIDER]);
    expect(asMember.membership).toBe('unchecked');
    expect(asMember.warnings.map((w) => [w.kind, w.subject])).toEqual([
      ['membership-unchecked', 'AccessDeniedException'],
    ]);
    expect(asOutsider.warnings.map((w) => [w.kind, w.subject])).toEqual([
      ['membership-unchecked', 'AWSOrganizationsNotInUseException'],
    ]);
    expect((units as TargetsResolutionError).problems.map((p) => [p.kind, p.subject])).toEqual([
      ['organization-unreadable', 'AccessDeniedException'],
    ]);
  });
});
