import { createHash, randomBytes } from 'node:crypto';
import {
  BatchCheckLayerAvailabilityCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  type ECRClient,
  GetDownloadUrlForLayerCommand,
  InitiateLayerUploadCommand,
  PutImageCommand,
  SetRepositoryPolicyCommand,
  UploadLayerPartCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildImageManifest, MEDIA_TYPES } from '../../src/model/manifests.ts';
import {
  control,
  declareBlobs,
  ecrClient,
  failureOf,
  rawEcrRequest,
  startTestRegistry,
  TEST_ACCOUNT,
} from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const REPO = 'layers/app';
const OTHER_REPO = 'layers/other';
const MiB = 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const digestOf = (content: Buffer) => `sha256:${createHash('sha256').update(content).digest('hex')}`;

/** An OCI image manifest whose config and one layer are the given blobs. */
const manifestNaming = (config: Buffer, layer: Buffer) =>
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: digestOf(config), size: config.length },
    layers: [{ mediaType: MEDIA_TYPES.ociLayer, digest: digestOf(layer), size: layer.length }],
  });

describe('the layer API', () => {
  let server: RegistryServer;
  let client: ECRClient;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrClient(server);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    await client.send(new CreateRepositoryCommand({ repositoryName: REPO }));
    await client.send(new CreateRepositoryCommand({ repositoryName: OTHER_REPO }));
  });

  const initiate = async (repositoryName = REPO) =>
    (await client.send(new InitiateLayerUploadCommand({ repositoryName }))).uploadId as string;

  const sendPart = (uploadId: string, first: number, part: Buffer, repositoryName = REPO) =>
    client.send(
      new UploadLayerPartCommand({
        repositoryName,
        uploadId,
        partFirstByte: first,
        partLastByte: first + part.length - 1,
        layerPartBlob: part,
      }),
    );

  const complete = (uploadId: string, layerDigests: string[], repositoryName = REPO) =>
    client.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests }));

  /** Uploads `content` in parts of `partBytes` and completes it; returns the layer digest. */
  const upload = async (content: Buffer, partBytes = 10 * MiB, repositoryName = REPO) => {
    const uploadId = await initiate(repositoryName);
    for (let first = 0; first < content.length; first += partBytes) {
      await sendPart(uploadId, first, content.subarray(first, first + partBytes), repositoryName);
    }
    return (await complete(uploadId, [digestOf(content)], repositoryName)).layerDigest as string;
  };

  const availability = async (layerDigests: string[], repositoryName = REPO) =>
    client.send(new BatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests }));

  const downloadUrl = async (layerDigest: string) =>
    (await client.send(new GetDownloadUrlForLayerCommand({ repositoryName: REPO, layerDigest }))).downloadUrl as string;

  describe('uploading', () => {
    it('uploads a layer in parts of at least 5 MiB, after which PutImage accepts a manifest naming it', async () => {
      // Prepare
      const layer = randomBytes(12 * MiB + 123);
      const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
      const manifest = manifestNaming(config, layer);
      const before = await failureOf(
        client.send(new PutImageCommand({ repositoryName: REPO, imageManifest: manifest })),
      );
      // Act
      const initiated = await client.send(new InitiateLayerUploadCommand({ repositoryName: REPO }));
      const uploadId = initiated.uploadId as string;
      const answers = [];
      for (const [first, part] of [
        [0, layer.subarray(0, 5 * MiB)],
        [5 * MiB, layer.subarray(5 * MiB, 10 * MiB)],
        [10 * MiB, layer.subarray(10 * MiB)],
      ] as const) {
        answers.push(await sendPart(uploadId, first, part));
      }
      const completed = await complete(uploadId, [digestOf(layer)]);
      await upload(config);
      const put = await client.send(
        new PutImageCommand({ repositoryName: REPO, imageManifest: manifest, imageTag: 'v1' }),
      );
      // Assess
      expect(before).toMatchObject({ name: 'LayersNotFoundException' });
      expect(initiated.partSize).toBe(10 * MiB);
      expect(uploadId).toMatch(UUID);
      expect(answers.map((answer) => answer.lastByteReceived)).toEqual([5 * MiB - 1, 10 * MiB - 1, layer.length - 1]);
      expect(answers[0]).toMatchObject({ registryId: TEST_ACCOUNT, repositoryName: REPO, uploadId });
      expect(completed).toMatchObject({
        registryId: TEST_ACCOUNT,
        repositoryName: REPO,
        uploadId,
        layerDigest: digestOf(layer),
      });
      expect(put.image?.imageId?.imageTag).toBe('v1');
      const check = await availability([digestOf(layer), digestOf(config)]);
      expect(check.layers).toEqual([
        { layerDigest: digestOf(layer), layerAvailability: 'AVAILABLE', layerSize: layer.length },
        { layerDigest: digestOf(config), layerAvailability: 'AVAILABLE', layerSize: config.length },
      ]);
      expect(check.failures).toEqual([]);
    });

    it('takes a part of 20,971,520 bytes, the largest ECR allows (a body past the usual 10 MiB cap)', async () => {
      // Prepare
      const layer = randomBytes(20_971_520);
      // Act
      const digest = await upload(layer, 20_971_520);
      // Assess
      expect(digest).toBe(digestOf(layer));
      expect((await availability([digest])).layers?.[0]?.layerSize).toBe(20_971_520);
    });

    it('refuses a part past 20,971,520 bytes and a body past 10 MiB for any other operation', async () => {
      // Prepare
      const uploadId = await initiate();
      const tooLarge = randomBytes(20_971_521);
      // Act
      const part = await failureOf(sendPart(uploadId, 0, tooLarge));
      const otherBody = await rawEcrRequest(
        server,
        'CompleteLayerUpload',
        JSON.stringify({ repositoryName: REPO, uploadId, layerDigests: ['sha256:0'], pad: 'x'.repeat(11 * MiB) }),
      );
      // Assess
      expect(part).toMatchObject({ name: 'InvalidParameterException' });
      expect(otherBody.status).toBe(413);
      // Nothing was received: the first part still starts at 0.
      expect((await sendPart(uploadId, 0, Buffer.from('abc'))).lastByteReceived).toBe(2);
    });

    it('throttles UploadLayerPart past 4 requests in flight, and serves the throttled parts when sent again', async () => {
      // Prepare
      const parts = Array.from({ length: 8 }, () => randomBytes(5 * MiB));
      const uploadIds = await Promise.all(parts.map(() => initiate()));
      // Act
      const first = await Promise.all(parts.map((part, i) => failureOf(sendPart(uploadIds[i] as string, 0, part))));
      const throttled = parts.flatMap((_, i) => (first[i] === undefined ? [] : [i]));
      const again = [];
      for (const i of throttled) again.push(await failureOf(sendPart(uploadIds[i] as string, 0, parts[i] as Buffer)));
      // Assess
      expect(throttled.length).toBeGreaterThan(0);
      expect(throttled.length).toBeLessThanOrEqual(4);
      for (const i of throttled) expect(first[i]).toMatchObject({ name: 'ThrottlingException' });
      expect(again).toEqual(throttled.map(() => undefined));
      for (const [i, part] of parts.entries()) {
        expect((await complete(uploadIds[i] as string, [digestOf(part)])).layerDigest).toBe(digestOf(part));
      }
    });

    it('answers a gap, an overlap or a length mismatch with InvalidLayerPartException and its members, keeping the bytes received', async () => {
      // Prepare
      const content = randomBytes(6 * MiB);
      const uploadId = await initiate();
      await sendPart(uploadId, 0, content.subarray(0, 5 * MiB));
      // Act
      const gap = await failureOf(sendPart(uploadId, 5 * MiB + 10, content.subarray(5 * MiB)));
      const overlap = await failureOf(sendPart(uploadId, 5 * MiB - 1, content.subarray(5 * MiB - 1)));
      const mismatch = await failureOf(
        client.send(
          new UploadLayerPartCommand({
            repositoryName: REPO,
            uploadId,
            partFirstByte: 5 * MiB,
            partLastByte: 6 * MiB,
            layerPartBlob: content.subarray(5 * MiB),
          }),
        ),
      );
      const first = await failureOf(sendPart(await initiate(), 1, Buffer.from('x')));
      // Assess
      for (const error of [gap, overlap, mismatch]) {
        expect(error).toMatchObject({
          name: 'InvalidLayerPartException',
          registryId: TEST_ACCOUNT,
          repositoryName: REPO,
          uploadId,
          lastValidByteReceived: 5 * MiB - 1,
        });
      }
      expect(first).toMatchObject({ name: 'InvalidLayerPartException', lastValidByteReceived: -1 });
      await sendPart(uploadId, 5 * MiB, content.subarray(5 * MiB));
      expect((await complete(uploadId, [digestOf(content)])).layerDigest).toBe(digestOf(content));
    });

    it('answers UploadNotFoundException for an unknown upload, another repository’s, or one already completed', async () => {
      // Prepare
      const uploadId = await initiate();
      await sendPart(uploadId, 0, Buffer.from('layer'));
      // Act
      const unknown = await failureOf(sendPart('6cb64b8a-9378-0e33-2ab1-b780fab8a9e9', 0, Buffer.from('x')));
      const elsewhere = await failureOf(sendPart(uploadId, 5, Buffer.from('x'), OTHER_REPO));
      const completeElsewhere = await failureOf(complete(uploadId, [digestOf(Buffer.from('layer'))], OTHER_REPO));
      await complete(uploadId, [digestOf(Buffer.from('layer'))]);
      const again = await failureOf(complete(uploadId, [digestOf(Buffer.from('layer'))]));
      const noRepository = await failureOf(sendPart(uploadId, 0, Buffer.from('x'), 'layers/none'));
      // Assess
      for (const error of [unknown, elsewhere, completeElsewhere, again]) {
        expect(error).toMatchObject({ name: 'UploadNotFoundException' });
      }
      expect(noRepository).toMatchObject({ name: 'RepositoryNotFoundException' });
      expect((await availability([digestOf(Buffer.from('layer'))], OTHER_REPO)).layers).toEqual([]);
    });

    it('expires an upload left untouched for 24 hours of registry time, and not one touched meanwhile', async () => {
      // Prepare
      const kept = randomBytes(5 * MiB + 3);
      const untouched = await initiate();
      const touched = await initiate();
      await sendPart(untouched, 0, Buffer.from('left'));
      await sendPart(touched, 0, kept.subarray(0, 5 * MiB));
      // Act
      await control(server, 'clock', { advanceSeconds: 23 * 3_600 });
      await sendPart(touched, 5 * MiB, kept.subarray(5 * MiB));
      await control(server, 'clock', { advanceSeconds: 3_600 });
      const part = await failureOf(sendPart(untouched, 4, Buffer.from('-on')));
      const completion = await failureOf(complete(untouched, [digestOf(Buffer.from('left'))]));
      const completed = await complete(touched, [digestOf(kept)]);
      // Assess
      expect(part).toMatchObject({ name: 'UploadNotFoundException' });
      expect(completion).toMatchObject({ name: 'UploadNotFoundException' });
      expect(completed.layerDigest).toBe(digestOf(kept));
      expect((await availability([digestOf(Buffer.from('left'))])).failures?.[0]?.failureCode).toBe(
        'MissingLayerDigest',
      );
    });
  });

  describe('completing', () => {
    it('answers EmptyUploadException for an upload without parts, and leaves it open', async () => {
      // Prepare
      const uploadId = await initiate();
      // Act
      const empty = await failureOf(complete(uploadId, [digestOf(Buffer.alloc(0))]));
      await sendPart(uploadId, 0, Buffer.from('late'));
      const completed = await complete(uploadId, [digestOf(Buffer.from('late'))]);
      // Assess
      expect(empty).toMatchObject({ name: 'EmptyUploadException' });
      expect(completed.layerDigest).toBe(digestOf(Buffer.from('late')));
    });

    it('answers InvalidLayerException when no digest given is the content’s, and the layer stays unavailable', async () => {
      // Prepare
      const content = Buffer.from('some layer');
      const uploadId = await initiate();
      await sendPart(uploadId, 0, content);
      // Act
      const mismatch = await failureOf(complete(uploadId, [digestOf(Buffer.from('another layer'))]));
      const retry = await failureOf(complete(uploadId, [digestOf(content)]));
      // Assess
      expect(mismatch).toMatchObject({
        name: 'InvalidLayerException',
        message: expect.stringContaining(digestOf(content)),
      });
      expect(retry).toMatchObject({ name: 'UploadNotFoundException' });
      const check = await availability([digestOf(content)]);
      expect(check.layers).toEqual([]);
      expect(check.failures?.[0]).toMatchObject({ layerDigest: digestOf(content), failureCode: 'MissingLayerDigest' });
    });

    it('accepts the content’s digest anywhere in layerDigests', async () => {
      // Prepare
      const content = Buffer.from('listed second');
      const uploadId = await initiate();
      await sendPart(uploadId, 0, content);
      // Act
      const completed = await complete(uploadId, [digestOf(Buffer.from('other')), digestOf(content)]);
      // Assess
      expect(completed.layerDigest).toBe(digestOf(content));
    });

    it('answers LayerPartTooSmallException when a part other than the last was under 5 MiB', async () => {
      // Prepare
      const content = randomBytes(6 * MiB);
      const uploadId = await initiate();
      await sendPart(uploadId, 0, content.subarray(0, MiB));
      await sendPart(uploadId, MiB, content.subarray(MiB));
      // Act
      const small = await failureOf(complete(uploadId, [digestOf(content)]));
      // Assess
      expect(small).toMatchObject({ name: 'LayerPartTooSmallException' });
      expect((await availability([digestOf(content)])).layers).toEqual([]);
    });

    it('answers LayerAlreadyExistsException for a layer the repository has, and discards the upload', async () => {
      // Prepare
      const content = Buffer.from('uploaded twice');
      await upload(content);
      const uploadId = await initiate();
      await sendPart(uploadId, 0, content);
      // Act
      const exists = await failureOf(complete(uploadId, [digestOf(content)]));
      const again = await failureOf(sendPart(uploadId, content.length, Buffer.from('x')));
      const elsewhere = await upload(content, undefined, OTHER_REPO);
      // Assess
      expect(exists).toMatchObject({ name: 'LayerAlreadyExistsException' });
      expect(again).toMatchObject({ name: 'UploadNotFoundException' });
      expect(elsewhere).toBe(digestOf(content));
      expect((await availability([digestOf(content)])).layers?.[0]?.layerSize).toBe(content.length);
    });
  });

  describe('fixtures and other accounts', () => {
    it('gives a placeholder layer (declared without content) its content, after which it can be downloaded', async () => {
      // Prepare
      const layer = Buffer.from('content of a declared layer');
      await declareBlobs(server, REPO, manifestNaming(Buffer.from('{}'), layer));
      const before = await failureOf(downloadUrl(digestOf(layer)));
      // Act
      const digest = await upload(layer);
      const response = await fetch(await downloadUrl(digest));
      // Assess
      expect(before).toMatchObject({ name: 'LayerInaccessibleException' });
      expect(Buffer.from(await response.arrayBuffer()).equals(layer)).toBe(true);
    });

    it('uploads into the registry registryId names when its repository policy allows the caller, and not otherwise', async () => {
      // Prepare
      const OWNER = '210987654321';
      const owner = ecrClient(server, { account: OWNER });
      await owner.send(new CreateRepositoryCommand({ repositoryName: 'shared/app' }));
      const layer = Buffer.from('cross-account layer');
      const target = { registryId: OWNER, repositoryName: 'shared/app' };
      const denied = await failureOf(client.send(new InitiateLayerUploadCommand(target)));
      await owner.send(
        new SetRepositoryPolicyCommand({
          repositoryName: 'shared/app',
          policyText: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` },
                Action: ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload'],
              },
            ],
          }),
        }),
      );
      // Act
      const { uploadId } = await client.send(new InitiateLayerUploadCommand(target));
      const part = { ...target, uploadId, partFirstByte: 0, partLastByte: layer.length - 1, layerPartBlob: layer };
      await client.send(new UploadLayerPartCommand(part));
      const completed = await client.send(
        new CompleteLayerUploadCommand({ ...target, uploadId, layerDigests: [digestOf(layer)] }),
      );
      // Assess
      expect(denied).toMatchObject({ name: 'AccessDeniedException' });
      expect(completed).toMatchObject({ registryId: OWNER, layerDigest: digestOf(layer) });
      const check = await owner.send(
        new BatchCheckLayerAvailabilityCommand({ repositoryName: 'shared/app', layerDigests: [digestOf(layer)] }),
      );
      expect(check.layers?.[0]?.layerSize).toBe(layer.length);
      expect((await availability([digestOf(layer)])).layers).toEqual([]);
    });
  });

  describe('checking availability', () => {
    it('reports layers the repository has, and missing or malformed digests as failures', async () => {
      // Prepare
      const content = Buffer.from('present');
      await upload(content);
      const placeholder = buildImageManifest({ seed: 'placeholder' });
      await declareBlobs(server, REPO, placeholder);
      const declared = (JSON.parse(placeholder) as { layers: { digest: string; size: number }[] }).layers[0];
      // Act
      const check = await availability([
        digestOf(content),
        declared?.digest as string,
        digestOf(Buffer.from('absent')),
        'not a digest',
        '',
      ]);
      // Assess
      expect(check.layers).toEqual([
        { layerDigest: digestOf(content), layerAvailability: 'AVAILABLE', layerSize: content.length },
        { layerDigest: declared?.digest, layerAvailability: 'AVAILABLE', layerSize: declared?.size },
      ]);
      expect(check.failures).toEqual([
        {
          layerDigest: digestOf(Buffer.from('absent')),
          failureCode: 'MissingLayerDigest',
          failureReason: expect.any(String),
        },
        { layerDigest: 'not a digest', failureCode: 'InvalidLayerDigest', failureReason: expect.any(String) },
        { layerDigest: '', failureCode: 'InvalidLayerDigest', failureReason: expect.any(String) },
      ]);
    });

    it('refuses more than 100 digests', async () => {
      // Act
      const many = await failureOf(availability(Array.from({ length: 101 }, (_, i) => `sha256:${i}`)));
      // Assess
      expect(many).toMatchObject({ name: 'InvalidParameterException' });
    });

    it('answers RepositoryNotFoundException from every layer operation for a repository that does not exist', async () => {
      // Prepare
      const uploadId = await initiate();
      const none = 'layers/none';
      const digest = digestOf(Buffer.from('x'));
      // Act
      const failures = [
        await failureOf(initiate(none)),
        await failureOf(sendPart(uploadId, 0, Buffer.from('x'), none)),
        await failureOf(complete(uploadId, [digest], none)),
        await failureOf(availability([digest], none)),
        await failureOf(client.send(new GetDownloadUrlForLayerCommand({ repositoryName: none, layerDigest: digest }))),
      ];
      // Assess
      for (const failure of failures) expect(failure).toMatchObject({ name: 'RepositoryNotFoundException' });
      expect((await sendPart(uploadId, 0, Buffer.from('x'))).lastByteReceived).toBe(0);
    });
  });

  describe('downloading', () => {
    it('serves the layer at the URL without credentials, byte-identical, and a Range of it', async () => {
      // Prepare
      const layer = randomBytes(6 * MiB);
      const digest = await upload(layer, 5 * MiB);
      const url = await downloadUrl(digest);
      // Act
      const whole = await fetch(url);
      const range = await fetch(url, { headers: { range: 'bytes=1000-1999' } });
      // Assess
      expect(url.startsWith(`${server.url}/`)).toBe(true);
      expect(url).not.toMatch(/\/v2\/|\/_local\//);
      expect(whole.status).toBe(200);
      expect(Buffer.from(await whole.arrayBuffer()).equals(layer)).toBe(true);
      expect(range.status).toBe(206);
      expect(range.headers.get('content-range')).toBe(`bytes 1000-1999/${layer.length}`);
      expect(Buffer.from(await range.arrayBuffer()).equals(layer.subarray(1000, 2000))).toBe(true);
    });

    it('refuses a tampered URL and, after an hour of registry time, an expired one, with 403 and an S3-style error', async () => {
      // Prepare
      const first = Buffer.from('first layer');
      const second = Buffer.from('second layer');
      await upload(first);
      await upload(second);
      const url = await downloadUrl(digestOf(first));
      const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(url)?.[1] as string;
      const flipped = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;
      // Act
      const forged = await fetch(url.replace(signature, flipped));
      const otherLayer = await fetch(url.replace(digestOf(first), digestOf(second)));
      const longer = await fetch(url.replace('X-Amz-Expires=3600', 'X-Amz-Expires=360000'));
      const unsigned = await fetch(url.split('?')[0] as string);
      const fresh = await fetch(url);
      await control(server, 'clock', { advanceSeconds: 3_601 });
      const expired = await fetch(url);
      // Assess
      for (const response of [forged, otherLayer, longer]) {
        expect(response.status).toBe(403);
        expect(await response.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
      }
      expect(unsigned.status).toBe(403);
      expect(await unsigned.text()).toContain('<Code>AccessDenied</Code>');
      expect(fresh.status).toBe(200);
      expect(Buffer.from(await fresh.arrayBuffer()).equals(first)).toBe(true);
      expect(expired.status).toBe(403);
      expect(expired.headers.get('content-type')).toBe('application/xml');
      expect(await expired.text()).toContain('Request has expired');
    });

    it('answers LayersNotFoundException for a layer not in the repository and LayerInaccessibleException for one without content', async () => {
      // Prepare
      const content = Buffer.from('only in the other repository');
      await upload(content, undefined, OTHER_REPO);
      const placeholder = buildImageManifest({ seed: 'no-content' });
      await declareBlobs(server, REPO, placeholder);
      const declared = (JSON.parse(placeholder) as { layers: { digest: string }[] }).layers[0]?.digest as string;
      // Act
      const elsewhere = await failureOf(downloadUrl(digestOf(content)));
      const inaccessible = await failureOf(downloadUrl(declared));
      const malformed = await failureOf(downloadUrl('not-a-digest'));
      // Assess
      expect(elsewhere).toMatchObject({ name: 'LayersNotFoundException' });
      expect(inaccessible).toMatchObject({ name: 'LayerInaccessibleException' });
      expect(malformed).toMatchObject({ name: 'InvalidParameterException' });
    });
  });

  describe('hostile input', () => {
    it('refuses malformed members before touching the upload', async () => {
      // Prepare
      const uploadId = await initiate();
      const part = (patch: Record<string, unknown>) =>
        rawEcrRequest(
          server,
          'UploadLayerPart',
          JSON.stringify({
            repositoryName: REPO,
            uploadId,
            partFirstByte: 0,
            partLastByte: 2,
            layerPartBlob: 'YWJj',
            ...patch,
          }),
        );
      // Act
      const answers = {
        notBase64: await part({ layerPartBlob: 'a*b=' }),
        badPadding: await part({ layerPartBlob: 'YWJ' }),
        blobNumber: await part({ layerPartBlob: 7 }),
        notUuid: await part({ uploadId: '../../etc/passwd' }),
        negative: await part({ partFirstByte: -1 }),
        fraction: await part({ partLastByte: 2.5 }),
        huge: await part({ partLastByte: 1e300 }),
        missing: await part({ layerPartBlob: undefined }),
        digests: await rawEcrRequest(
          server,
          'CompleteLayerUpload',
          JSON.stringify({ repositoryName: REPO, uploadId, layerDigests: ['sha256:../../x'] }),
        ),
        noDigests: await rawEcrRequest(
          server,
          'CompleteLayerUpload',
          JSON.stringify({ repositoryName: REPO, uploadId, layerDigests: [] }),
        ),
      };
      // Assess
      expect(answers.notBase64.body.__type).toBe('SerializationException');
      expect(answers.badPadding.body.__type).toBe('SerializationException');
      expect(answers.blobNumber.body.__type).toBe('SerializationException');
      expect(answers.notUuid.body.__type).toBe('InvalidParameterException');
      expect(answers.negative.body.__type).toBe('InvalidParameterException');
      expect(answers.fraction.body.__type).toBe('SerializationException');
      expect(answers.huge.body.__type).toBe('SerializationException');
      expect(answers.missing.body.__type).toBe('InvalidParameterException');
      expect(answers.digests.body.__type).toBe('InvalidParameterException');
      expect(answers.noDigests.body.__type).toBe('InvalidParameterException');
      // The upload received nothing and is still open.
      expect((await part({})).body).toMatchObject({ lastByteReceived: 2 });
    });

    it('serves InvalidLayerPartException’s members in the JSON error body', async () => {
      // Prepare
      const uploadId = await initiate();
      // Act
      const answer = await rawEcrRequest(
        server,
        'UploadLayerPart',
        JSON.stringify({ repositoryName: REPO, uploadId, partFirstByte: 3, partLastByte: 5, layerPartBlob: 'YWJj' }),
      );
      // Assess
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        __type: 'InvalidLayerPartException',
        message: expect.any(String),
        registryId: TEST_ACCOUNT,
        repositoryName: REPO,
        uploadId,
        lastValidByteReceived: -1,
      });
    });
  });
});
