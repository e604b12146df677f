import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeRepositoriesCommand, type ECRClient, ListTagsForResourceCommand } from '@aws-sdk/client-ecr';
import type { Fixture, RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runComplianceCli } from '../../../cli/commands/compliance.ts';
import type { ComplianceSummary, PlanDocument } from '../../../shared/formats/plan-document.ts';
import { runInProcess } from '../../helpers/cli.ts';
import { control, ecrClient, startTestRegistry, TEST_ACCOUNT, TEST_REGION } from '../../helpers/registry.ts';
import { planSchemaErrors } from '../../unit/formats/validate.ts';

/**
 * `npm run compliance -- plan|apply` against the local registry over HTTP through the real ECR client: the drift per
 * repository and setting, the plan document checked against schemas/plan.schema.json, a plan that makes no mutating
 * call, and an apply that fixes enforce-mode repositories only.
 */

const LIFECYCLE = {
  rules: [
    {
      rulePriority: 1,
      description: 'expire untagged images after 14 days',
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 },
      action: { type: 'expire' },
    },
  ],
};

const FIXTURE: Fixture = {
  repositories: [
    {
      name: 'good/app',
      imageTagMutability: 'IMMUTABLE',
      scanOnPush: true,
      encryptionType: 'KMS',
      tags: { team: 'good' },
      lifecyclePolicy: LIFECYCLE,
    },
    // report mode: mutable tags, no scan on push, no lifecycle policy, no team tag, a grant to everyone.
    {
      name: 'report/app',
      encryptionType: 'KMS',
      repositoryPolicy: {
        Version: '2012-10-17',
        Statement: [{ Sid: 'Pull', Effect: 'Allow', Principal: '*', Action: ['ecr:BatchGetImage'] }],
      },
    },
    // enforce mode: mutable tags, no scan on push, no lifecycle policy, no team tag, AES256.
    { name: 'enforced/app' },
    { name: 'other/tool' },
  ],
};

const CONFIG = {
  compliance: {
    defaults: {
      mode: 'report',
      tagMutability: { setting: 'IMMUTABLE' },
      scanOnPush: true,
      lifecyclePolicy: LIFECYCLE,
      repositoryPolicy: { allowedAccounts: [] },
      requiredTags: ['team'],
      tagDefaults: { team: 'platform' },
      encryption: 'KMS',
    },
    rules: [{ repositories: ['enforced/**'], mode: 'enforce' }, { repositories: ['good/**', 'report/**'] }],
  },
};

/** Every ECR operation that changes a registry: Put*, Set*, Delete*, Tag/Untag, Create*, Update*, Start*, ... */
const MUTATING =
  /^(?:Put|Set|Delete|BatchDelete|Tag|Untag|Create|Update|Start|Register|Deregister|Initiate|Upload|Complete|Replicate)/;

describe('npm run compliance', { timeout: 60_000 }, () => {
  let server: RegistryServer;
  let client: ECRClient;
  let dir: string;
  let config: string;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
    dir = mkdtempSync(join(tmpdir(), 'compliance-cli-'));
    config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify(CONFIG));
  });
  afterAll(async () => {
    client?.destroy();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    server.reset();
    await control(server, 'load', FIXTURE);
  });

  const mutatingCalls = async () => {
    const { operations } = await control<{ operations: Record<string, number> }>(server, 'calls');
    return Object.entries(operations)
      .filter(([operation, count]) => MUTATING.test(operation) && count > 0)
      .map(([operation]) => operation);
  };
  const compliance = (args: readonly string[]) =>
    runInProcess(runComplianceCli, [
      ...args,
      '--config',
      config,
      '--endpoint-url',
      server.url,
      '--region',
      TEST_REGION,
    ]);
  const settingsOf = async (name: string) => {
    const { repositories } = await client.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
    const tags = await client.send(
      new ListTagsForResourceCommand({ resourceArn: `arn:aws:ecr:${TEST_REGION}:${TEST_ACCOUNT}:repository/${name}` }),
    );
    return {
      mutability: repositories?.[0]?.imageTagMutability,
      scanOnPush: repositories?.[0]?.imageScanningConfiguration?.scanOnPush,
      tags: tags.tags,
    };
  };

  it('plan prints the drift of each repository, setting by setting, exits 2 and makes no mutating call', async () => {
    // Act
    const outcome = await compliance(['plan']);

    // Assess
    expect(outcome.code).toBe(2);
    const lines = outcome.stdout.split('\n');
    expect(lines).toContain('good/app (rule #1, report mode): compliant, 6 setting(s) checked');
    expect(lines).toContain('enforced/app (rule #0, enforce mode): 5 of 6 setting(s) drift');
    expect(lines).toContain('report/app (rule #1, report mode): 5 of 6 setting(s) drift');
    expect(outcome.stdout).not.toContain('other/tool');
    const enforced = lines.slice(lines.indexOf('enforced/app (rule #0, enforce mode): 5 of 6 setting(s) drift'));
    const row = (setting: string) =>
      enforced.find((line) => new RegExp(`^  [~ ] +${setting} `).test(line))?.replace(/\s+/g, ' ');
    expect(row('tag-mutability')).toBe(' ~ tag-mutability MUTABLE IMMUTABLE PutImageTagMutability IMMUTABLE');
    expect(row('scan-on-push')).toContain(
      'off on, or a registry scanning rule covering it PutImageScanningConfiguration',
    );
    expect(row('lifecycle-policy')).toContain("none the config's policy (1 rule) PutLifecyclePolicy");
    expect(row('required-tags')).toContain('none of them tags team TagResource team=platform');
    expect(row('encryption')).toBe(' ~ encryption AES256 KMS (or KMS_DSSE) none: not fixable, fix by hand');
    expect(row('repository-policy')).toBe(
      ' repository-policy none no grant to everyone without a condition; other accounts: none -',
    );
    expect(outcome.stdout).toContain('    repository-policy: ');
    expect(lines).toContain('3 of 4 repositories checked: 1 compliant, 2 drifting.');
    expect(await mutatingCalls()).toEqual([]);
    expect(await settingsOf('enforced/app')).toMatchObject({ mutability: 'MUTABLE', scanOnPush: false, tags: [] });
  });

  it('plan --json prints a plan document the schema accepts: an update per drifting setting, a no-op per compliant repository', async () => {
    // Act
    const outcome = await compliance(['plan', '--json']);

    // Assess
    expect(outcome.code).toBe(2);
    const document = JSON.parse(outcome.stdout) as PlanDocument;
    expect(planSchemaErrors(document)).toEqual([]);
    expect(document.plan_type).toBe('compliance');
    expect(document.target).toEqual({ registry: 'private', region: TEST_REGION, endpoint: server.url });
    const byAddress = new Map(document.resource_changes.map((change) => [change.address, change]));
    expect(byAddress.get('aws_ecr_repository.compliance["good/app"]')?.change.actions).toEqual(['no-op']);
    expect(byAddress.get('aws_ecr_repository.tag_mutability["enforced/app"]')).toMatchObject({
      change: {
        actions: ['update'],
        before: { image_tag_mutability: 'MUTABLE', exclusion_filters: [] },
        after: { image_tag_mutability: 'IMMUTABLE', exclusion_filters: [] },
      },
      action_reason: 'tag-mutability-differs',
      reason_category: 'drift',
      reason: { fixable: true, mode: 'enforce' },
      rule_index: 0,
    });
    expect(byAddress.get('aws_ecr_repository_policy.repository_policy["report/app"]')).toMatchObject({
      change: { actions: ['update'] },
      action_reason: 'public-access',
      reason: { fixable: false },
    });
    expect(byAddress.get('aws_ecr_repository.encryption["enforced/app"]')?.change).toEqual({
      actions: ['update'],
      before: { encryption_type: 'AES256' },
      after: { encryption_type: 'AES256' },
    });
    const summary = document.summary as ComplianceSummary;
    expect(summary.counts).toEqual({ repositories: 4, checked: 3, compliant: 1, drifting: 2 });
    expect(summary.actions).toEqual({ update: 10, 'no-op': 1 });
    expect(summary.checks.find((line) => line.check === 'encryption')).toEqual({
      check: 'encryption',
      checked: 3,
      compliant: 2,
      drifting: 1,
      fixable: 0,
    });
    // A document claiming a drifting image is refused: a compliance plan's changes are settings.
    const forged = structuredClone(document);
    (forged.resource_changes[0] as { type: string }).type = 'aws_ecr_image';
    expect(planSchemaErrors(forged)).not.toEqual([]);
    expect(await mutatingCalls()).toEqual([]);
  });

  it('plan --repository narrows the check, and a compliant selection exits 0', async () => {
    const outcome = await compliance(['plan', '--repository', 'good/**', '--repository', 'other/**']);

    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain('1 of 4 repositories checked: 1 compliant, 0 drifting.');
    expect(outcome.stdout).toContain('other/tool: no enabled compliance rule matches it, not checked.');
  });

  it('plan --html to a path that cannot be written says so and exits 1, changing nothing', async () => {
    const outcome = await compliance(['plan', '--html', join(dir, 'no-such-folder', 'report.html')]);

    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain(`Cannot write the HTML report ${join(dir, 'no-such-folder', 'report.html')}`);
    expect(await mutatingCalls()).toEqual([]);
  });

  it('apply refuses without --yes when standard input is not a terminal, and changes nothing', async () => {
    const outcome = await compliance(['apply']);

    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('Pass --yes');
    expect(await mutatingCalls()).toEqual([]);
  });

  it('apply --yes fixes what enforce mode fixes on enforce-mode repositories only; the next plan shows what is left', async () => {
    // Act
    const applied = await compliance(['apply', '--yes']);
    const after = await compliance(['plan', '--json']);

    // Assess
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('enforced/app: fixed: put-tag-mutability');
    expect(applied.stdout).toContain('report/app: report mode, not fixed.');
    expect(await settingsOf('enforced/app')).toMatchObject({
      mutability: 'IMMUTABLE',
      scanOnPush: true,
      tags: [{ Key: 'team', Value: 'platform' }],
    });
    expect(await settingsOf('report/app')).toMatchObject({ mutability: 'MUTABLE', scanOnPush: false });
    const document = JSON.parse(after.stdout) as PlanDocument;
    const left = document.resource_changes
      .filter((change) => change.repository === 'enforced/app')
      .map((change) => change.name);
    expect(left).toEqual(['encryption']);
  });

  it('a config that is not JSON, or an unknown option, is an error before any call to ECR', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"compliance": ');
    let connected = 0;
    const io = {
      connect: () => {
        connected++;
        throw new Error('no client expected');
      },
    };
    const badConfig = await runInProcess(
      runComplianceCli,
      ['plan', '--config', bad, '--endpoint-url', server.url, '--region', TEST_REGION],
      io,
    );
    const badOption = await runInProcess(runComplianceCli, ['plan', '--force'], io);
    const noCommand = await runInProcess(runComplianceCli, ['fix'], io);

    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr).toMatch(/nothing was changed/);
    expect(badOption.code).toBe(1);
    expect(badOption.stderr).toContain("Unknown option '--force'");
    expect(noCommand.code).toBe(1);
    expect(noCommand.stderr).toContain('Unknown command "fix"');
    expect(connected).toBe(0);
  });
});
