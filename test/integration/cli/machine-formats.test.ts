import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeImagesCommand, type ECRClient, PutImageCommand, StartImageScanCommand } from '@aws-sdk/client-ecr';
import { buildImageManifest, type RegistryServer, sha256 } from '@ecr-automation/local-registry';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCleanupCli } from '../../../cli/commands/main.ts';
import type { PlanFile } from '../../../cli/commands/plan-file.ts';
import { runScanGate } from '../../../cli/commands/scan-gate.ts';
import { runRegistryCli } from '../../../cli/registry-commands.ts';
import { createEcrClient } from '../../../shared/ecr/index.ts';
import type { PlanDocument, ResourceChange } from '../../../shared/formats/plan-document.ts';
import { runInProcess } from '../../helpers/cli.ts';
import { control, declareBlobs, ecrClient, startTestRegistry, TEST_REGION } from '../../helpers/registry.ts';
import { planSchemaErrors, sarifSchemaErrors } from '../../unit/formats/validate.ts';

/**
 * The formats CI tools read, made by the real CLIs against the local registry over HTTP: the plan documents of
 * `cleanup plan --json` and `registry:reconcile plan --json` checked against `schemas/plan.schema.json`, SARIF 2.1.0
 * of `scan-gate --sarif` against the official schema, JUnit XML of `scan-gate --junit` parsed back, and the plan
 * files `apply` refuses.
 */

/**
 * team/app: a tagged multi-arch release with a signature, a stale untagged index with its children, stale untagged
 * images (one signed) and fresh ones. team/brake: four stale images of five, more than the rule lets go at once.
 */
const FIXTURE = {
  repositories: [
    {
      name: 'team/app',
      images: [
        { id: 'base-amd64', pushedAt: '-90d', architecture: 'amd64' },
        { id: 'base-arm64', pushedAt: '-90d', architecture: 'arm64' },
        { id: 'release', kind: 'index', children: ['base-amd64', 'base-arm64'], tags: ['v1'], pushedAt: '-90d' },
        { id: 'release-sig', kind: 'signature', subject: 'release', pushedAt: '-90d' },
        { id: 'stale-1', pushedAt: '-90d' },
        { id: 'stale-1-sig', kind: 'signature', subject: 'stale-1', pushedAt: '-90d' },
        { id: 'stale-2', pushedAt: '-60d', lastPulledAt: '-45d' },
        { id: 'fresh', pushedAt: '-2d' },
      ],
    },
    {
      name: 'team/brake',
      images: [
        { id: 'b-0', pushedAt: '-90d' },
        { id: 'b-1', pushedAt: '-90d' },
        { id: 'b-2', pushedAt: '-90d' },
        { id: 'b-3', pushedAt: '-90d' },
        { id: 'b-kept', tags: ['prod'], pushedAt: '-90d' },
      ],
    },
    { name: 'misc/tool', images: [{ id: 'misc-stale', pushedAt: '-90d' }] },
  ],
};

const CLEANUP_CONFIG = {
  cleanup: {
    defaults: {
      olderThanDays: 14,
      notPulledForDays: 30,
      quietPeriodMinutes: 60,
      keepLatestUntagged: 0,
      maxDeleteFraction: 0.7,
      allowMassDelete: false,
    },
    rules: [{ repositories: ['team/app'] }, { repositories: ['team/brake'], maxDeleteFraction: 0.5 }],
  },
};

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

const SCAN_CONFIG = {
  scan: {
    defaults: { maxFindings: { CRITICAL: 0, HIGH: 0 } },
    rules: [{ repositories: ['team/**'] }],
    allowList: [
      {
        id: 'CVE-2023-38545',
        package: 'curl',
        repositories: ['team/**'],
        expires: inDays(30),
        owner: 'team-a',
        reason: 'not reachable <here> & "there"',
      },
    ],
  },
};

/** Text a scanner could put in a finding: markup, quotes, an ampersand, control characters, a lone surrogate. */
const HOSTILE = `evil</failure><script>alert("x")</script>&amp;'\u0001\u001b[31m\uD800]]>`;
/** HOSTILE as XML 1.0 can carry it: the control characters and the lone surrogate become U+FFFD. */
const HOSTILE_IN_XML = `evil</failure><script>alert("x")</script>&amp;'\uFFFD\uFFFD[31m\uFFFD]]>`;

const defined = <T>(value: T | undefined): T => {
  if (value === undefined) throw new Error('expected a value');
  return value;
};

const basicFinding = (
  name: string,
  severity: string,
  pkg: string,
  cvss: string | undefined,
  extra: { uri?: string; fixedIn?: string } = {},
) => ({
  name,
  description: `${name} in ${pkg}`,
  ...(extra.uri === undefined ? {} : { uri: extra.uri }),
  severity,
  attributes: [
    { key: 'package_name', value: pkg },
    { key: 'package_version', value: '1.0' },
    ...(cvss === undefined ? [] : [{ key: 'CVSS3_SCORE', value: cvss }]),
    ...(extra.fixedIn === undefined ? [] : [{ key: 'fixed_in_version', value: extra.fixedIn }]),
  ],
});

const FINDINGS = [
  basicFinding('CVE-2024-3094', 'CRITICAL', 'xz-utils', '10.0', {
    uri: 'https://security-tracker.debian.org/tracker/CVE-2024-3094',
    fixedIn: '5.6.1',
  }),
  // The same vulnerability in a second package: one rule, two results.
  basicFinding('CVE-2024-3094', 'CRITICAL', 'liblzma', '10.0'),
  basicFinding('CVE-2023-4911', 'HIGH', HOSTILE, undefined),
  basicFinding('CVE-2023-38545', 'HIGH', 'curl', '9.8', { fixedIn: '8.4.0' }),
  basicFinding('CVE-2023-5678', 'MEDIUM', 'openssl', '5.3'),
];

describe('machine formats of the CLIs', { timeout: 60_000 }, () => {
  let server: RegistryServer;
  let client: ECRClient;
  let dir: string;
  let digestOf: Map<string, string>;
  const fileIn = (name: string) => join(dir, name);

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
    dir = mkdtempSync(join(tmpdir(), 'machine-formats-'));
    writeFileSync(fileIn('cleanup.json'), JSON.stringify(CLEANUP_CONFIG));
    writeFileSync(fileIn('scan.json'), JSON.stringify(SCAN_CONFIG));
  });

  afterAll(async () => {
    client.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    server.reset();
    const loaded = await control<{ images: { id?: string; imageDigest: string }[] }>(server, 'load', FIXTURE);
    digestOf = new Map(loaded.images.map((image) => [image.id ?? image.imageDigest, image.imageDigest]));
  });

  const cleanup = (args: string[]) =>
    runInProcess(runCleanupCli, [...args, '--endpoint-url', server.url, '--region', TEST_REGION], {
      env: { AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST', AWS_SECRET_ACCESS_KEY: 'local' },
    });

  const digestsIn = async (repositoryName: string) =>
    ((await client.send(new DescribeImagesCommand({ repositoryName }))).imageDetails ?? [])
      .map((detail) => detail.imageDigest)
      .sort();

  const mutatingCalls = async () => {
    const { operations } = await control<{ operations: Record<string, number> }>(server, 'calls');
    return Object.entries(operations)
      .filter(([operation]) => !/^(Describe|BatchGet|Get|List)/.test(operation))
      .reduce((sum, [, count]) => sum + count, 0);
  };

  describe('cleanup plan --json', () => {
    it('prints a plan document that the schema accepts, one change per image, with reasons and the brake', async () => {
      // Act
      const outcome = await cleanup(['plan', '--json', '--config', fileIn('cleanup.json'), '--out', fileIn('p.json')]);

      // Assess
      expect(outcome.code).toBe(0);
      const document = JSON.parse(outcome.stdout) as PlanDocument;
      expect(planSchemaErrors(document)).toEqual([]);
      const file = JSON.parse(readFileSync(fileIn('p.json'), 'utf8')) as PlanFile;
      expect(document).toMatchObject({ format_version: '1.0', plan_type: 'cleanup', tool: { name: 'ecr-automation' } });
      expect(document.tool.version).toMatch(/^\d+\.\d+\.\d+/);
      // Every image of both planned repositories once, and nothing of misc/tool (no rule).
      const byId = (id: string, repository = 'team/app') =>
        document.resource_changes.find((change) => change.index === `${repository}@${digestOf.get(id)}`);
      expect(document.resource_changes).toHaveLength(8 + 5);
      expect(new Set(document.resource_changes.map((change) => change.address)).size).toBe(
        document.resource_changes.length,
      );
      const deleted = document.resource_changes
        .filter((change) => change.change.actions[0] === 'delete')
        .map((change) => change.index.split('@')[1]);
      expect(deleted.sort()).toEqual(file.repositories.flatMap((entry) => entry.plan.toDelete).sort());
      expect(deleted.sort()).toEqual(['stale-1', 'stale-1-sig', 'stale-2'].map((id) => digestOf.get(id)).sort());
      // Why each stays or goes: its index, its signature's subject, its tag, the rule.
      const reasonOf = (change: ResourceChange | undefined) => [change?.reason_category, change?.action_reason];
      expect(reasonOf(byId('base-amd64'))).toEqual(['index', 'child-of-kept-index']);
      expect(byId('base-amd64')?.reason).toMatchObject({ via: digestOf.get('release') });
      expect(reasonOf(byId('release-sig'))).toEqual(['referrer', 'referrer-of-kept-image']);
      expect(reasonOf(byId('release'))).toEqual(['rule', 'tagged']);
      expect(reasonOf(byId('stale-1-sig'))).toEqual(['referrer', 'referrer-of-deleted-image']);
      expect(byId('stale-1')?.change).toMatchObject({ actions: ['delete'], after: null, before: { tags: [] } });
      expect(byId('release')?.change).toMatchObject({ actions: ['no-op'], before: { tags: ['v1'] } });
      // team/brake: four of five would go, over its 0.5: the brake holds, every image is kept.
      expect(byId('b-0', 'team/brake')).toMatchObject({ reason_category: 'safety-brake', rule_index: 1 });
      const summary = document.summary as Extract<PlanDocument['summary'], { totals: unknown }>;
      expect(summary.safety_brake).toEqual({ held: true, repositories: ['team/brake'] });
      expect(summary.repositories.find((entry) => entry.repository === 'team/brake')?.safety_brake).toMatchObject({
        held: true,
        kind: 'untagged',
        would_delete: 4,
        total: 5,
        max_fraction: 0.5,
      });
      const bytes = file.repositories.reduce((sum, entry) => sum + entry.plan.bytesReclaimed, 0);
      expect(bytes).toBeGreaterThan(0);
      expect(summary.totals).toEqual({ images: 13, delete: 3, archive: 0, keep: 10, bytes_reclaimed: bytes });
      expect(summary.rules.map((rule) => [rule.rule_index, rule.repositories, rule.delete])).toEqual([
        [0, 1, 3],
        [1, 1, 0],
      ]);
      expect(summary.actions).toEqual({ delete: 3, update: 0, 'no-op': 10 });
    });

    it('the schema refuses a document whose deletion keeps an after, or whose action is unknown', async () => {
      // Prepare
      const outcome = await cleanup(['plan', '--json', '--config', fileIn('cleanup.json'), '--out', fileIn('q.json')]);
      const document = JSON.parse(outcome.stdout) as PlanDocument;
      const deletion = document.resource_changes.findIndex((change) => change.change.actions[0] === 'delete');

      // Act
      const tampered = structuredClone(document);
      const change = defined(tampered.resource_changes[deletion]).change;
      change.after = change.before;
      const unknownAction = structuredClone(document);
      (defined(unknownAction.resource_changes[0]).change as { actions: string[] }).actions = ['forget'];

      // Assess
      expect(planSchemaErrors(document)).toEqual([]);
      expect(planSchemaErrors(tampered).join('\n')).toMatch(/must be null/);
      expect(planSchemaErrors(unknownAction)).not.toEqual([]);
    });
  });

  describe('apply refuses what is not its plan file, and does nothing', () => {
    const refusals: [string, (valid: PlanFile) => string, RegExp][] = [
      ['text that is not JSON', () => '{"version": 1, "repos', /not a plan file: not JSON/],
      ['a JSON array', () => '[1, 2]', /not a plan file: not a JSON object/],
      ['a plan of a newer version', (valid) => JSON.stringify({ ...valid, version: 2 }), /version 2 plan file, newer/],
      ['a plan with an image added by hand', (valid) => tamper(valid), /not a valid plan file|edited or damaged/],
    ];

    function tamper(valid: PlanFile): string {
      const copy = structuredClone(valid);
      const entry = defined(copy.repositories[0]);
      const image = defined(entry.images.find((candidate) => candidate.tags.includes('v1')));
      entry.plan.toDelete.push(image.digest);
      return JSON.stringify(copy);
    }

    it.each(refusals)('%s: exit 2, the file and the versions named, nothing deleted', async (_, make, message) => {
      // Prepare
      await cleanup(['plan', '--config', fileIn('cleanup.json'), '--out', fileIn('valid.json')]);
      const valid = JSON.parse(readFileSync(fileIn('valid.json'), 'utf8')) as PlanFile;
      const path = fileIn('bad-plan.json');
      writeFileSync(path, make(valid));
      const before = await digestsIn('team/app');
      const calls = await mutatingCalls();

      // Act
      const outcome = await cleanup(['apply', path, '--yes', '--config', fileIn('cleanup.json')]);

      // Assess
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toContain(path);
      expect(outcome.stderr).toMatch(message);
      if (message.source.includes('newer'))
        expect(outcome.stderr).toMatch(/newer than version 1, which ecr-automation/);
      expect(await digestsIn('team/app')).toEqual(before);
      expect(await mutatingCalls()).toBe(calls);
    });

    it('names the plan document of plan --json, with its format version, as not a plan file', async () => {
      // Prepare
      const printed = await cleanup(['plan', '--json', '--config', fileIn('cleanup.json'), '--out', fileIn('r.json')]);
      writeFileSync(fileIn('document.json'), printed.stdout);
      const newer = { ...(JSON.parse(printed.stdout) as object), format_version: '2.0' };
      writeFileSync(fileIn('newer-document.json'), JSON.stringify(newer));
      const before = await digestsIn('team/app');

      // Act
      const outcome = await cleanup(['apply', fileIn('document.json'), '--yes']);
      const newerOutcome = await cleanup(['apply', fileIn('newer-document.json'), '--yes']);

      // Assess
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toContain(`${fileIn('document.json')} is a plan document (format_version "1.0"`);
      expect(outcome.stderr).toContain('--out');
      expect(newerOutcome.code).toBe(2);
      expect(newerOutcome.stderr).toMatch(/format_version "2\.0".*writes format_version 1\.0/);
      expect(await digestsIn('team/app')).toEqual(before);
    });

    it('refuses a folder, a device or a file larger than any plan instead of reading it', async () => {
      // Prepare: a sparse file of 300 MiB, which takes no room on disk
      const huge = fileIn('huge.json');
      writeFileSync(huge, '');
      truncateSync(huge, 300 * 1024 * 1024);
      const rssBefore = process.memoryUsage().rss;

      // Act
      const folder = await cleanup(['apply', dir, '--yes']);
      const device = await cleanup(['apply', '/dev/zero', '--yes']);
      const tooLarge = await cleanup(['apply', huge, '--yes']);

      // Assess
      expect(folder.code).toBe(2);
      expect(folder.stderr).toContain(`${dir} is not a plan file: not a regular file`);
      expect(device.code).toBe(2);
      expect(device.stderr).toContain('/dev/zero is not a plan file: not a regular file');
      expect(tooLarge.code).toBe(2);
      expect(tooLarge.stderr).toContain(`${huge} is not a plan file: 314572800 bytes, more than any plan`);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
    });
  });

  describe('registry:reconcile plan --json', () => {
    const reconcile = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runRegistryCli([...argv, '--endpoint-url', server.url, '--region', TEST_REGION], {
        env: {},
        stdout: (line) => out.push(line),
        stderr: (line) => err.push(line),
        connect: (options) =>
          createEcrClient({ ...options, credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'x' } }),
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };

    it('prints a plan document of the registry settings to create, which the schema accepts', async () => {
      // Prepare
      const config = fileIn('registry.json');
      writeFileSync(
        config,
        JSON.stringify({
          registry: {
            pullThroughCache: { rules: [{ prefix: 'ecr-public', upstreamRegistryUrl: 'public.ecr.aws' }] },
            scanning: { scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: ['team/*'] }] },
          },
        }),
      );

      // Act
      const planned = await reconcile('plan', '--json', '--config', config);
      const applied = await reconcile('apply', '--json', '--config', config);
      const again = await reconcile('plan', '--json', '--config', config);

      // Assess
      expect(planned.code).toBe(2);
      const document = JSON.parse(planned.out) as PlanDocument;
      expect(planSchemaErrors(document)).toEqual([]);
      expect(document.plan_type).toBe('registry-reconcile');
      const cache = document.resource_changes.find((change) => change.type === 'aws_ecr_pull_through_cache_rule');
      expect(cache).toMatchObject({
        address: 'aws_ecr_pull_through_cache_rule.pull_through_cache_rule["ecr-public"]',
        change: { actions: ['create'], before: null, after: { upstreamRegistryUrl: 'public.ecr.aws' } },
        action_reason: 'declared-not-present',
      });
      expect(document.resource_changes.map((change) => change.type)).toContain(
        'aws_ecr_registry_scanning_configuration',
      );
      // apply --json still prints the report of what it applied; the plan afterwards is empty.
      expect(applied.code).toBe(0);
      expect(JSON.parse(applied.out)).toMatchObject({ status: 'applied' });
      expect(again.code).toBe(0);
      const after = JSON.parse(again.out) as PlanDocument;
      expect(planSchemaErrors(after)).toEqual([]);
      expect(after.resource_changes).toEqual([]);
    });
  });

  describe('scan-gate --sarif and --junit', () => {
    const gate = async (args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runScanGate(
        [
          ...args,
          '--config',
          fileIn('scan.json'),
          '--endpoint-url',
          server.url,
          '--region',
          TEST_REGION,
          '--interval',
          '0.01',
          '--timeout',
          '5',
        ],
        {
          env: { AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST', AWS_SECRET_ACCESS_KEY: 'local' },
          stdout: (line) => out.push(line),
          stderr: (line) => err.push(line),
          connect: (options) => createEcrClient({ ...options, maxAttempts: 1 }),
          now: () => Date.now(),
        },
      );
      return { code, out: out.join('\n'), err: err.join('\n') };
    };

    const pushAndScan = async (repositoryName: string, tag: string, findings: readonly object[], seed: string) => {
      const manifest = buildImageManifest({ seed });
      await declareBlobs(server, repositoryName, manifest);
      await client.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: tag }));
      const digest = sha256(manifest);
      await control(server, 'findings', { repositoryName, imageDigest: digest, findings });
      await client.send(new StartImageScanCommand({ repositoryName, imageId: { imageDigest: digest } }));
      return digest;
    };

    it('writes SARIF 2.1.0 that the official schema accepts: a result per blocking finding, a rule per CVE', async () => {
      // Prepare
      const digest = await pushAndScan('team/app', 'bad', FINDINGS, 'sarif');

      // Act
      const outcome = await gate(['team/app:bad', '--sarif', fileIn('scan.sarif'), '--junit', fileIn('scan.xml')]);

      // Assess
      expect(outcome.code).toBe(1);
      const sarif = JSON.parse(readFileSync(fileIn('scan.sarif'), 'utf8'));
      expect(sarifSchemaErrors(sarif)).toEqual([]);
      expect(sarif.version).toBe('2.1.0');
      const [run] = sarif.runs;
      // Blocking: the CRITICAL twice (two packages) and the HIGH with the hostile package; curl is allowed.
      expect(run.results).toHaveLength(3);
      expect(run.tool.driver.rules.map((rule: { id: string }) => rule.id)).toEqual(['CVE-2024-3094', 'CVE-2023-4911']);
      const [xz, glibc] = run.tool.driver.rules;
      expect(xz.helpUri).toBe('https://security-tracker.debian.org/tracker/CVE-2024-3094');
      expect(glibc.helpUri).toBe('https://nvd.nist.gov/vuln/detail/CVE-2023-4911');
      expect(xz.properties['security-severity']).toBe('10.0');
      expect(glibc.properties['security-severity']).toBe('8.0');
      expect(
        run.results.map((result: { level: string; ruleIndex: number }) => [result.level, result.ruleIndex]),
      ).toEqual([
        ['error', 0],
        ['error', 0],
        ['error', 1],
      ]);
      const location = run.results[0].locations[0].physicalLocation.artifactLocation.uri;
      expect(decodeURIComponent(location)).toBe(`team/app@${digest}`);
      expect(run.results[2].properties.package).toContain('<script>');
    });

    it('writes JUnit XML that parses back: one suite for the image, a failure per blocking finding, text intact', async () => {
      // Prepare
      const digest = await pushAndScan('team/app', 'bad', FINDINGS, 'junit');

      // Act
      const outcome = await gate(['team/app:bad', '--junit', fileIn('scan.xml')]);

      // Assess
      expect(outcome.code).toBe(1);
      const xml = readFileSync(fileIn('scan.xml'), 'utf8');
      const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', processEntities: true }).parse(
        xml,
      );
      const suites = parsed.testsuites.testsuite;
      expect(Array.isArray(suites)).toBe(false);
      expect(suites).toMatchObject({ name: `team/app@${digest}`, tests: '4', failures: '3', skipped: '0' });
      const cases = suites.testcase as {
        name: string;
        failure?: { type: string; '#text': string };
        'system-out'?: string;
      }[];
      expect(cases).toHaveLength(4);
      expect(cases.filter((testCase) => testCase.failure !== undefined)).toHaveLength(3);
      const hostile = cases.find((testCase) => testCase.name.startsWith('CVE-2023-4911'));
      // The markup comes back as text, the control characters and the lone surrogate as U+FFFD.
      expect(hostile?.name).toBe(`CVE-2023-4911 ${HOSTILE_IN_XML}@1.0`);
      expect(hostile?.failure?.type).toBe('HIGH');
      const allowed = cases.find((testCase) => testCase.name === 'CVE-2023-38545 curl@1.0');
      expect(allowed?.failure).toBeUndefined();
      expect(allowed?.['system-out']).toContain('not reachable <here> & "there"');
    });

    it('refuses a --sarif or --junit path it cannot write, before reading anything from ECR', async () => {
      // Prepare
      await pushAndScan('team/app', 'bad', FINDINGS, 'unwritable');
      writeFileSync(fileIn('plain-file'), 'not a folder');
      const calls = async () =>
        Object.values((await control<{ operations: Record<string, number> }>(server, 'calls')).operations).reduce(
          (sum, count) => sum + count,
          0,
        );
      const before = await calls();

      // Act
      const missing = await gate(['team/app:bad', '--sarif', fileIn('no/such/folder/out.sarif')]);
      const folder = await gate(['team/app:bad', '--junit', dir]);
      const underFile = await gate(['team/app:bad', '--junit', join(fileIn('plain-file'), 'out.xml')]);

      // Assess
      expect(missing.code).toBe(2);
      expect(missing.err).toContain(
        `Cannot write the --sarif file ${fileIn('no/such/folder/out.sarif')}: no such folder`,
      );
      expect(folder.code).toBe(2);
      expect(folder.err).toContain(`Cannot write the --junit file ${dir}: it is a folder`);
      expect(underFile.code).toBe(2);
      expect(underFile.err).toContain(`${fileIn('plain-file')} is not a folder`);
      expect(await calls()).toBe(before);
    });
  });
});
