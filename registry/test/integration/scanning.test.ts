import {
  BatchDeleteImageCommand,
  BatchGetRepositoryScanningConfigurationCommand,
  CreateRepositoryCommand,
  DescribeImageScanFindingsCommand,
  type DescribeImageScanFindingsCommandOutput,
  type ECRClient,
  type EnhancedImageScanFinding,
  GetRegistryScanningConfigurationCommand,
  type ImageIdentifier,
  type ImageScanFinding,
  PutImageCommand,
  PutRegistryScanningConfigurationCommand,
  type PutRegistryScanningConfigurationCommandInput,
  paginateDescribeImageScanFindings,
  StartImageScanCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FixtureRepository, LoadedImage } from '../../src/control/fixtures.ts';
import { buildImageManifest, buildIndexManifest, describeManifest, sha256 } from '../../src/model/manifests.ts';
import { MAX_BASIC_SCANS_PER_DAY } from '../../src/ops/scanning.ts';
import {
  control,
  declareBlobs,
  ecrClient,
  failureOf,
  rawEcrRequest,
  startTestRegistry,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const DAY_SECONDS = 86_400;

const basicFinding = (index: number, severity = 'HIGH') => ({
  name: `CVE-2026-${String(index).padStart(5, '0')}`,
  description: `Finding ${index}`,
  uri: `https://security-tracker.debian.org/tracker/CVE-2026-${index}`,
  severity,
  attributes: [
    { key: 'package_name', value: 'openssl' },
    { key: 'package_version', value: '3.0.11' },
  ],
});

const enhancedFinding = (index: number, severity = 'CRITICAL') => ({
  findingArn: `arn:aws:inspector2:${TEST_REGION}:${TEST_ACCOUNT}:finding/${index.toString(16).padStart(32, '0')}`,
  awsAccountId: TEST_ACCOUNT,
  severity,
  status: 'ACTIVE',
  score: 9.8,
  title: `CVE-2026-9${index} - curl`,
  type: 'PACKAGE_VULNERABILITY',
  packageVulnerabilityDetails: {
    vulnerabilityId: `CVE-2026-9${index}`,
    source: 'NVD',
    vulnerablePackages: [{ name: 'curl', version: '8.3.0', packageManager: 'OS', fixedInVersion: '8.4.0' }],
    cvss: [
      { baseScore: 9.8, scoringVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', source: 'NVD', version: '3.1' },
    ],
  },
  fixAvailable: 'YES',
  exploitAvailable: 'NO',
});

const waitFor = async <T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 5_000): Promise<T> => {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('scanning operations', () => {
  let server: RegistryServer;
  let client: ECRClient;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
  });

  const state = () => server.registry.state(TEST_ACCOUNT, TEST_REGION);
  const raw = (operation: string, body: unknown) =>
    rawEcrRequest(server, operation, typeof body === 'string' ? body : JSON.stringify(body));
  const load = async (...repositories: FixtureRepository[]) =>
    (await control<{ images: LoadedImage[] }>(server, 'load', { repositories })).images;
  const putScanning = (input: PutRegistryScanningConfigurationCommandInput) =>
    client.send(new PutRegistryScanningConfigurationCommand(input));
  const startScan = (repositoryName: string, imageId: ImageIdentifier) =>
    client.send(new StartImageScanCommand({ repositoryName, imageId }));
  const findings = (repositoryName: string, imageId: ImageIdentifier, extra: { maxResults?: number } = {}) =>
    client.send(new DescribeImageScanFindingsCommand({ repositoryName, imageId, ...extra }));
  /** Polls DescribeImageScanFindings until the scan is COMPLETE (the registry completes scans after a few ms). */
  const completedFindings = (repositoryName: string, imageId: ImageIdentifier) =>
    waitFor(async () => {
      const output = await findings(repositoryName, imageId);
      return output.imageScanStatus?.status === 'COMPLETE' ? output : undefined;
    });
  const imageOf = (repositoryName: string, digest: string) =>
    state().repositories.get(repositoryName)?.images.get(digest);

  describe('GetRegistryScanningConfiguration and PutRegistryScanningConfiguration', () => {
    it('reports BASIC scanning without rules before any configuration', async () => {
      // Act
      const output = await client.send(new GetRegistryScanningConfigurationCommand({}));
      // Assess
      expect(output.registryId).toBe(TEST_ACCOUNT);
      expect(output.scanningConfiguration).toEqual({ scanType: 'BASIC', rules: [] });
    });

    it('stores ENHANCED scanning with continuous and on-push rules', async () => {
      // Prepare
      const rules = [
        {
          scanFrequency: 'CONTINUOUS_SCAN' as const,
          repositoryFilters: [{ filter: 'prod/*', filterType: 'WILDCARD' as const }],
        },
        {
          scanFrequency: 'SCAN_ON_PUSH' as const,
          repositoryFilters: [
            { filter: '*', filterType: 'WILDCARD' as const },
            { filter: 'team-a', filterType: 'WILDCARD' as const },
          ],
        },
      ];
      // Act
      const put = await putScanning({ scanType: 'ENHANCED', rules });
      const got = await client.send(new GetRegistryScanningConfigurationCommand({}));
      // Assess
      expect(put.registryScanningConfiguration).toEqual({ scanType: 'ENHANCED', rules });
      expect(got.scanningConfiguration).toEqual({ scanType: 'ENHANCED', rules });
    });

    it('rejects 3 rules with ValidationException and keeps the configuration', async () => {
      // Prepare
      const rule = { scanFrequency: 'SCAN_ON_PUSH' as const, repositoryFilters: [] };
      await putScanning({ scanType: 'BASIC', rules: [rule] });
      // Act
      const attempt = await failureOf(putScanning({ scanType: 'ENHANCED', rules: [rule, rule, rule] }));
      // Assess
      expect(attempt).toMatchObject({
        name: 'ValidationException',
        message:
          "Invalid parameter at 'rules' failed to satisfy constraint: 'Member must have length less than or equal to 2'",
      });
      expect(state().scanning).toEqual({ scanType: 'BASIC', rules: [rule] });
    });

    it('accepts only SCAN_ON_PUSH rules with BASIC scanning', async () => {
      // Act
      const continuous = await failureOf(
        putScanning({
          scanType: 'BASIC',
          rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }],
        }),
      );
      const manual = await failureOf(
        putScanning({
          scanType: 'BASIC',
          rules: [{ scanFrequency: 'MANUAL', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }],
        }),
      );
      // Assess
      expect(continuous).toMatchObject({ name: 'ValidationException' });
      expect(manual).toMatchObject({ name: 'ValidationException' });
      expect(state().scanning).toEqual({ scanType: 'BASIC', rules: [] });
    });

    it('rejects filters that break the model and leaves the configuration unchanged', async () => {
      // Prepare
      const withFilter = (filter: string, filterType = 'WILDCARD') => ({
        scanType: 'BASIC',
        rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter, filterType }] }],
      });
      const hundredAndOne = {
        rules: [
          {
            scanFrequency: 'SCAN_ON_PUSH',
            repositoryFilters: Array.from({ length: 101 }, (_, i) => ({ filter: `r${i}`, filterType: 'WILDCARD' })),
          },
        ],
      };
      // Act
      const answers = await Promise.all([
        raw('PutRegistryScanningConfiguration', withFilter('Team')),
        raw('PutRegistryScanningConfiguration', withFilter('a'.repeat(256))),
        raw('PutRegistryScanningConfiguration', withFilter('')),
        raw('PutRegistryScanningConfiguration', withFilter('team', 'PREFIX_MATCH')),
        raw('PutRegistryScanningConfiguration', hundredAndOne),
        raw('PutRegistryScanningConfiguration', { scanType: 'FULL' }),
        raw('PutRegistryScanningConfiguration', { rules: [{ scanFrequency: 'SCAN_ON_PUSH' }] }),
      ]);
      const wrongType = await raw('PutRegistryScanningConfiguration', { rules: 'SCAN_ON_PUSH' });
      const malformed = await raw('PutRegistryScanningConfiguration', '{"rules": [');
      // Assess
      for (const answer of answers)
        expect(answer).toMatchObject({ status: 400, body: { __type: 'ValidationException' } });
      expect(answers[0]?.body.message).toBe(
        "Invalid parameter at 'rules.1.repositoryFilters.1.filter' failed to satisfy constraint: 'must satisfy regular expression '^[a-z0-9*](?:[._\\-/a-z0-9*]?[a-z0-9*]+)*$''",
      );
      expect(wrongType.body.__type).toBe('SerializationException');
      expect(malformed.body.__type).toBe('SerializationException');
      expect(state().scanning).toEqual({ scanType: 'BASIC', rules: [] });
    });
  });

  describe('BatchGetRepositoryScanningConfiguration', () => {
    it('derives each repository’s scanning from its own flag and the registry rules', async () => {
      // Prepare
      await load(
        { name: 'team-a/api' },
        { name: 'legacy', scanOnPush: true },
        { name: 'prod-web' },
        { name: 'app/prod-web' },
      );
      const filter = (value: string) => ({ filter: value, filterType: 'WILDCARD' as const });
      await putScanning({
        scanType: 'BASIC',
        rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [filter('team-a'), filter('prod-*')] }],
      });
      // Act
      const output = await client.send(
        new BatchGetRepositoryScanningConfigurationCommand({
          repositoryNames: ['team-a/api', 'legacy', 'prod-web', 'app/prod-web', 'missing'],
        }),
      );
      // Assess
      const arn = (name: string) => `arn:aws:ecr:${TEST_REGION}:${TEST_ACCOUNT}:repository/${name}`;
      expect(output.scanningConfigurations).toEqual([
        {
          repositoryArn: arn('team-a/api'),
          repositoryName: 'team-a/api',
          scanOnPush: true,
          scanFrequency: 'SCAN_ON_PUSH',
          appliedScanFilters: [filter('team-a')],
        },
        {
          repositoryArn: arn('legacy'),
          repositoryName: 'legacy',
          scanOnPush: true,
          scanFrequency: 'SCAN_ON_PUSH',
          appliedScanFilters: [],
        },
        {
          repositoryArn: arn('prod-web'),
          repositoryName: 'prod-web',
          scanOnPush: true,
          scanFrequency: 'SCAN_ON_PUSH',
          appliedScanFilters: [filter('prod-*')],
        },
        {
          repositoryArn: arn('app/prod-web'),
          repositoryName: 'app/prod-web',
          scanOnPush: false,
          scanFrequency: 'MANUAL',
          appliedScanFilters: [],
        },
      ]);
      expect(output.failures).toEqual([
        {
          repositoryName: 'missing',
          failureCode: 'REPOSITORY_NOT_FOUND',
          failureReason: `The repository with name 'missing' does not exist in the registry with id '${TEST_ACCOUNT}'`,
        },
      ]);
    });

    it('reports continuous scanning under ENHANCED and ignores the repository flag there', async () => {
      // Prepare
      await load({ name: 'prod/api' }, { name: 'legacy', scanOnPush: true });
      await putScanning({
        scanType: 'ENHANCED',
        rules: [
          { scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: 'prod/*', filterType: 'WILDCARD' }] },
        ],
      });
      // Act
      const output = await client.send(
        new BatchGetRepositoryScanningConfigurationCommand({ repositoryNames: ['prod/api', 'legacy'] }),
      );
      // Assess
      expect(output.scanningConfigurations?.map((c) => [c.repositoryName, c.scanFrequency, c.scanOnPush])).toEqual([
        ['prod/api', 'CONTINUOUS_SCAN', false],
        ['legacy', 'MANUAL', false],
      ]);
    });

    it('rejects 26 repository names and an empty list with ValidationException', async () => {
      // Act
      const tooMany = await failureOf(
        client.send(
          new BatchGetRepositoryScanningConfigurationCommand({
            repositoryNames: Array.from({ length: 26 }, (_, i) => `repo-${i}`),
          }),
        ),
      );
      const empty = raw('BatchGetRepositoryScanningConfiguration', { repositoryNames: [] });
      const missing = raw('BatchGetRepositoryScanningConfiguration', {});
      // Assess
      expect(tooMany).toMatchObject({ name: 'ValidationException' });
      expect((await empty).body.__type).toBe('ValidationException');
      expect((await missing).body.__type).toBe('ValidationException');
    });
  });

  describe('StartImageScan', () => {
    it('starts a basic scan that completes after the scan duration', async () => {
      // Prepare
      const [loaded] = await load({ name: 'team/app', images: [{ tags: ['1.0'] }] });
      const digest = loaded?.imageDigest ?? '';
      // Act
      const started = await startScan('team/app', { imageTag: '1.0' });
      const completed = await completedFindings('team/app', { imageDigest: digest });
      // Assess
      expect(started).toMatchObject({
        registryId: TEST_ACCOUNT,
        repositoryName: 'team/app',
        imageId: { imageDigest: digest, imageTag: '1.0' },
      });
      // ECR answers StartImageScan with the status alone, no description.
      expect(started.imageScanStatus).toEqual({ status: 'IN_PROGRESS' });
      expect(completed.imageScanStatus).toEqual({
        status: 'COMPLETE',
        description: 'The scan was completed successfully.',
      });
      expect(imageOf('team/app', digest)?.lastScanStartedAt).toBeGreaterThan(0);
    });

    it('throws LimitExceededException for a second scan within 24 h and scans again a day later', async () => {
      // Prepare
      const [loaded] = await load({ name: 'team/app', images: [{ tags: ['1.0'] }] });
      const imageId = { imageDigest: loaded?.imageDigest };
      await startScan('team/app', imageId);
      await completedFindings('team/app', imageId);
      // Act
      const again = await failureOf(startScan('team/app', { imageTag: '1.0' }));
      await control(server, 'clock', { advanceSeconds: DAY_SECONDS - 400 });
      const almostADayLater = await failureOf(startScan('team/app', imageId));
      await control(server, 'clock', { advanceSeconds: 401 });
      const nextDay = await startScan('team/app', imageId);
      // Assess
      expect(again).toMatchObject({
        name: 'LimitExceededException',
        message: 'The scan quota per image has been exceeded. Wait and then try again.',
      });
      expect(almostADayLater).toMatchObject({ name: 'LimitExceededException' });
      expect(nextDay.imageScanStatus?.status).toBe('IN_PROGRESS');
    });

    it('throws LimitExceededException when the registry has used its basic scans of the day', async () => {
      // Prepare
      const [loaded] = await load({ name: 'team/app', images: [{ tags: ['1.0'] }] });
      const today = new Date(server.now()).toISOString().slice(0, 10);
      state().scansPerDay.set(today, MAX_BASIC_SCANS_PER_DAY);
      // Act
      const attempt = await failureOf(startScan('team/app', { imageTag: '1.0' }));
      // Assess
      expect(attempt).toMatchObject({ name: 'LimitExceededException' });
      expect(imageOf('team/app', loaded?.imageDigest ?? '')?.scan).toBeUndefined();
    });

    it('throws RepositoryNotFoundException and ImageNotFoundException', async () => {
      // Prepare
      const [loaded] = await load(
        {
          name: 'team/app',
          images: [
            { id: 'a', tags: ['1.0'] },
            { id: 'b', tags: ['2.0'] },
          ],
        },
        { name: 'team/other' },
      );
      // Act
      const noRepository = await failureOf(startScan('team/none', { imageTag: '1.0' }));
      const noTag = await failureOf(startScan('team/app', { imageTag: '9.9' }));
      const noDigest = await failureOf(startScan('team/app', { imageDigest: sha256('nothing') }));
      const otherTag = await failureOf(startScan('team/app', { imageDigest: loaded?.imageDigest, imageTag: '2.0' }));
      // Assess
      expect(noRepository).toMatchObject({
        name: 'RepositoryNotFoundException',
        message: `The repository with name 'team/none' does not exist in the registry with id '${TEST_ACCOUNT}'`,
      });
      expect(noTag).toMatchObject({
        name: 'ImageNotFoundException',
        message: `The image with imageId {imageDigest:'null', imageTag:'9.9'} does not exist within the repository with name 'team/app' in the registry with id '${TEST_ACCOUNT}'`,
      });
      expect(noDigest).toMatchObject({ name: 'ImageNotFoundException' });
      expect(otherTag).toMatchObject({ name: 'ImageNotFoundException' });
    });

    it('throws UnsupportedImageTypeException for an index and for a signature artifact', async () => {
      // Prepare
      await load({
        name: 'team/app',
        images: [
          { id: 'amd64', architecture: 'amd64' },
          { id: 'arm64', architecture: 'arm64' },
          { id: 'index', kind: 'index', children: ['amd64', 'arm64'], tags: ['multi'] },
          { id: 'sig', kind: 'signature', subject: 'amd64', tags: ['signature'] },
        ],
      });
      // Act
      const index = await failureOf(startScan('team/app', { imageTag: 'multi' }));
      const signature = await failureOf(startScan('team/app', { imageTag: 'signature' }));
      // Assess
      expect(index).toMatchObject({ name: 'UnsupportedImageTypeException' });
      expect(signature).toMatchObject({ name: 'UnsupportedImageTypeException' });
    });

    it('throws ValidationException under ENHANCED scanning, where manual scans do not exist', async () => {
      // Prepare
      await load({ name: 'team/app', images: [{ tags: ['1.0'] }] });
      await putScanning({ scanType: 'ENHANCED', rules: [] });
      // Act
      const attempt = await failureOf(startScan('team/app', { imageTag: '1.0' }));
      // Assess
      expect(attempt).toMatchObject({ name: 'ValidationException' });
    });

    it('throws ImageArchivedException for an archived image', async () => {
      // Prepare
      const [loaded] = await load({ name: 'team/app', images: [{ tags: ['1.0'] }] });
      const image = imageOf('team/app', loaded?.imageDigest ?? '');
      if (image) image.status = 'ARCHIVED';
      // Act
      const attempt = await failureOf(startScan('team/app', { imageTag: '1.0' }));
      // Assess
      expect(attempt).toMatchObject({ name: 'ImageArchivedException' });
      expect(image?.scan).toBeUndefined();
    });

    it('rejects bad input with the model’s errors and starts no scan', async () => {
      // Prepare
      const [loaded] = await load({ name: 'team/app', images: [{ tags: ['1.0'] }] });
      // Act
      const noImageId = await raw('StartImageScan', { repositoryName: 'team/app' });
      const emptyImageId = await raw('StartImageScan', { repositoryName: 'team/app', imageId: {} });
      const longTag = await raw('StartImageScan', {
        repositoryName: 'team/app',
        imageId: { imageTag: 'x'.repeat(301) },
      });
      const badName = await raw('StartImageScan', { repositoryName: 'Team/App', imageId: { imageTag: '1.0' } });
      const wrongType = await raw('StartImageScan', { repositoryName: 'team/app', imageId: '1.0' });
      // Assess
      expect(noImageId.body).toEqual({
        __type: 'InvalidParameterException',
        message: "Invalid parameter at 'imageId' failed to satisfy constraint: 'Member must not be null'",
      });
      expect(emptyImageId.body.__type).toBe('InvalidParameterException');
      expect(longTag.body.__type).toBe('InvalidParameterException');
      expect(badName.body.__type).toBe('InvalidParameterException');
      expect(wrongType.body.__type).toBe('SerializationException');
      const image = imageOf('team/app', loaded?.imageDigest ?? '');
      expect(image?.scan).toBeUndefined();
      expect(image?.lastScanStartedAt).toBeUndefined();
    });
  });

  describe('DescribeImageScanFindings', () => {
    it('throws ScanNotFoundException before any scan', async () => {
      // Prepare
      const [loaded] = await load({ name: 'team/app', images: [{ tags: ['1.0'] }] });
      // Act
      const byTag = await failureOf(findings('team/app', { imageTag: '1.0' }));
      const byDigest = await failureOf(findings('team/app', { imageDigest: loaded?.imageDigest }));
      // Assess
      expect(byTag).toMatchObject({
        name: 'ScanNotFoundException',
        message: `Image scan does not exist for the image with '{imageDigest:'null', imageTag:'1.0'}' in the repository with name 'team/app' in the registry with id '${TEST_ACCOUNT}'`,
      });
      expect(byDigest).toMatchObject({ name: 'ScanNotFoundException' });
    });

    it('returns the findings attached to the image with their severity counts', async () => {
      // Prepare
      await load({ name: 'team/app', images: [{ tags: ['1.0'] }] });
      const basic = [basicFinding(1, 'CRITICAL'), basicFinding(2, 'HIGH'), basicFinding(3, 'HIGH')];
      const enhanced = [enhancedFinding(4, 'MEDIUM')];
      await control(server, 'findings', {
        repositoryName: 'team/app',
        imageTag: '1.0',
        findings: basic,
        enhancedFindings: enhanced,
      });
      await startScan('team/app', { imageTag: '1.0' });
      // Act
      const output = await completedFindings('team/app', { imageTag: '1.0' });
      // Assess
      const scanFindings = output.imageScanFindings;
      expect(scanFindings?.findingSeverityCounts).toEqual({ CRITICAL: 1, HIGH: 2, MEDIUM: 1 });
      expect(scanFindings?.findings).toEqual(basic);
      expect(scanFindings?.enhancedFindings).toEqual(enhanced);
      expect(scanFindings?.imageScanCompletedAt).toBeInstanceOf(Date);
      expect(scanFindings?.vulnerabilitySourceUpdatedAt).toBeInstanceOf(Date);
      expect(output.nextToken).toBeUndefined();
      expect(output).toMatchObject({
        registryId: TEST_ACCOUNT,
        repositoryName: 'team/app',
        imageId: { imageTag: '1.0' },
      });
    });

    it('returns an empty findings list and no counts for a clean image', async () => {
      // Prepare
      await load({ name: 'team/app', images: [{ tags: ['1.0'] }] });
      await startScan('team/app', { imageTag: '1.0' });
      // Act
      const output = await completedFindings('team/app', { imageTag: '1.0' });
      // Assess
      expect(output.imageScanFindings?.findings).toEqual([]);
      expect(output.imageScanFindings?.enhancedFindings).toBeUndefined();
      expect(output.imageScanFindings?.findingSeverityCounts).toEqual({});
    });

    it('pages 2,500 findings, basic then enhanced, with maxResults counting both', async () => {
      // Prepare
      await load({ name: 'team/app', images: [{ tags: ['1.0'] }] });
      const basic = Array.from({ length: 2_000 }, (_, i) => basicFinding(i, i % 2 === 0 ? 'LOW' : 'MEDIUM'));
      const enhanced = Array.from({ length: 500 }, (_, i) => enhancedFinding(i));
      await control(server, 'findings', {
        repositoryName: 'team/app',
        imageTag: '1.0',
        findings: basic,
        enhancedFindings: enhanced,
      });
      await startScan('team/app', { imageTag: '1.0' });
      await completedFindings('team/app', { imageTag: '1.0' });
      // Act
      const pages: DescribeImageScanFindingsCommandOutput[] = [];
      const paginator = paginateDescribeImageScanFindings(
        { client, pageSize: 900 },
        { repositoryName: 'team/app', imageId: { imageTag: '1.0' } },
      );
      for await (const page of paginator) pages.push(page);
      const defaultPage = await findings('team/app', { imageTag: '1.0' });
      // Assess
      const seenBasic: ImageScanFinding[] = pages.flatMap((page) => page.imageScanFindings?.findings ?? []);
      const seenEnhanced: EnhancedImageScanFinding[] = pages.flatMap(
        (page) => page.imageScanFindings?.enhancedFindings ?? [],
      );
      expect(
        pages.map(
          (page) =>
            (page.imageScanFindings?.findings?.length ?? 0) + (page.imageScanFindings?.enhancedFindings?.length ?? 0),
        ),
      ).toEqual([900, 900, 700]);
      expect(seenBasic.map((f) => f.name)).toEqual(basic.map((f) => f.name));
      expect(seenEnhanced.map((f) => f.findingArn)).toEqual(enhanced.map((f) => f.findingArn));
      expect(pages[2]?.nextToken).toBeUndefined();
      expect(pages[0]?.imageScanFindings?.findingSeverityCounts).toEqual({ CRITICAL: 500, MEDIUM: 1_000, LOW: 1_000 });
      expect(defaultPage.imageScanFindings?.findings).toHaveLength(100);
      expect(defaultPage.nextToken).toEqual(expect.any(String));
    });

    it('reports IN_PROGRESS without findings while a scan runs', async () => {
      // Prepare
      const slow = await startTestRegistry({ scanDurationMs: 60_000 });
      try {
        const slowClient = ecrClient(slow);
        await control(slow, 'load', { repositories: [{ name: 'team/app', images: [{ tags: ['1.0'] }] }] });
        await slowClient.send(new StartImageScanCommand({ repositoryName: 'team/app', imageId: { imageTag: '1.0' } }));
        // Act
        const running = await slowClient.send(
          new DescribeImageScanFindingsCommand({ repositoryName: 'team/app', imageId: { imageTag: '1.0' } }),
        );
        // Assess
        expect(running.imageScanStatus?.status).toBe('IN_PROGRESS');
        expect(running.imageScanFindings).toBeUndefined();
      } finally {
        await slow.close();
      }
    });

    it('rejects an invalid token and a maxResults of 1001', async () => {
      // Prepare
      await load({ name: 'team/app', images: [{ tags: ['1.0'] }] });
      await startScan('team/app', { imageTag: '1.0' });
      await completedFindings('team/app', { imageTag: '1.0' });
      // Act
      const badToken = await failureOf(
        client.send(
          new DescribeImageScanFindingsCommand({
            repositoryName: 'team/app',
            imageId: { imageTag: '1.0' },
            nextToken: 'bogus',
          }),
        ),
      );
      const tooMany = await failureOf(findings('team/app', { imageTag: '1.0' }, { maxResults: 1_001 }));
      // Assess
      expect(badToken).toMatchObject({ name: 'InvalidParameterException' });
      expect(tooMany).toMatchObject({ name: 'InvalidParameterException' });
    });
  });

  describe('scan on push', () => {
    const manifest = (seed: string) => buildImageManifest({ seed });
    const push = async (repositoryName: string, imageManifest: string, imageTag?: string) => {
      await declareBlobs(server, repositoryName, imageManifest);
      return client.send(new PutImageCommand({ repositoryName, imageManifest, imageTag }));
    };

    it('scans an image pushed to a repository with scanOnPush, and that scan counts toward the 24 h limit', async () => {
      // Prepare
      await client.send(
        new CreateRepositoryCommand({ repositoryName: 'team/app', imageScanningConfiguration: { scanOnPush: true } }),
      );
      // Act
      await push('team/app', manifest('on-push-1'), '1.0');
      const completed = await completedFindings('team/app', { imageTag: '1.0' });
      const manual = await failureOf(startScan('team/app', { imageTag: '1.0' }));
      // Assess
      expect(completed.imageScanStatus?.status).toBe('COMPLETE');
      expect(manual).toMatchObject({ name: 'LimitExceededException' });
    });

    it('scans an image pushed to a repository a registry SCAN_ON_PUSH rule matches, and no other', async () => {
      // Prepare
      await client.send(new CreateRepositoryCommand({ repositoryName: 'prod/api' }));
      await client.send(new CreateRepositoryCommand({ repositoryName: 'dev/api' }));
      await putScanning({
        scanType: 'BASIC',
        rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'prod/*', filterType: 'WILDCARD' }] }],
      });
      // Act
      await push('prod/api', manifest('rule-1'), '1.0');
      await push('dev/api', manifest('rule-2'), '1.0');
      const scanned = await completedFindings('prod/api', { imageTag: '1.0' });
      const notScanned = await failureOf(findings('dev/api', { imageTag: '1.0' }));
      // Assess
      expect(scanned.imageScanStatus?.status).toBe('COMPLETE');
      expect(notScanned).toMatchObject({ name: 'ScanNotFoundException' });
    });

    it('skips indexes on push and does nothing under ENHANCED scanning', async () => {
      // Prepare
      await client.send(
        new CreateRepositoryCommand({ repositoryName: 'team/app', imageScanningConfiguration: { scanOnPush: true } }),
      );
      const child = manifest('index-child');
      await push('team/app', child);
      await completedFindings('team/app', { imageDigest: sha256(child) });
      const index = buildIndexManifest([describeManifest(child)]);
      await putScanning({
        scanType: 'ENHANCED',
        rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }],
      });
      // Act
      await push('team/app', index, 'multi');
      await push('team/app', manifest('enhanced-1'), 'enhanced');
      // Assess
      await expect(findings('team/app', { imageTag: 'multi' })).rejects.toMatchObject({
        name: 'ScanNotFoundException',
      });
      await expect(findings('team/app', { imageTag: 'enhanced' })).rejects.toMatchObject({
        name: 'ScanNotFoundException',
      });
    });
  });

  describe('events', () => {
    it('emits "ECR Image Scan" with the non-zero severity counts when a scan completes', async () => {
      // Prepare
      const [loaded] = await load({ name: 'team/app', images: [{ tags: ['1.0', 'latest'] }] });
      await control(server, 'findings', {
        repositoryName: 'team/app',
        imageTag: '1.0',
        findings: [basicFinding(1, 'CRITICAL'), basicFinding(2, 'LOW'), basicFinding(3, 'LOW')],
      });
      // Act
      await startScan('team/app', { imageTag: '1.0' });
      const event = await waitFor(() => server.bus.events.find((e) => e['detail-type'] === 'ECR Image Scan'));
      // Assess
      expect(event).toMatchObject({
        source: 'aws.ecr',
        account: TEST_ACCOUNT,
        region: TEST_REGION,
        resources: [`arn:aws:ecr:${TEST_REGION}:${TEST_ACCOUNT}:repository/team/app`],
        detail: {
          'scan-status': 'COMPLETE',
          'repository-name': 'team/app',
          'finding-severity-counts': { CRITICAL: 1, LOW: 2 },
          'image-digest': loaded?.imageDigest,
          'image-tags': ['1.0', 'latest'],
        },
      });
      expect(Object.keys((event.detail as Record<string, unknown>)['finding-severity-counts'] as object)).toHaveLength(
        2,
      );
    });

    it('ends a scan silently, without an event, when its image is deleted before it completes', async () => {
      // Prepare
      const slow = await startTestRegistry({ scanDurationMs: 100 });
      try {
        const slowClient = ecrClient(slow);
        const loaded = await control<{ images: LoadedImage[] }>(slow, 'load', {
          repositories: [{ name: 'team/app', images: [{ tags: ['1.0'] }] }],
        });
        await slowClient.send(new StartImageScanCommand({ repositoryName: 'team/app', imageId: { imageTag: '1.0' } }));
        const repository = slow.registry.state(TEST_ACCOUNT, TEST_REGION).repositories.get('team/app');
        const image = repository?.images.get(loaded.images[0]?.imageDigest ?? '');
        // Act
        await slowClient.send(
          new BatchDeleteImageCommand({
            repositoryName: 'team/app',
            imageIds: [{ imageDigest: loaded.images[0]?.imageDigest }],
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, 250));
        // Assess
        expect(repository?.images.size).toBe(0);
        expect(image?.scan?.status).toBe('IN_PROGRESS');
        expect(slow.bus.events.filter((event) => event['detail-type'] === 'ECR Image Scan')).toEqual([]);
      } finally {
        await slow.close();
      }
    });
  });
});
