import {
  CreateRepositoryCommand,
  DescribeRegistriesCommand,
  type ECRPUBLICClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr-public';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MEDIA_TYPES } from '../../src/model/manifests.ts';
import { control, ecrPublicClient, startTestRegistry, TEST_ACCOUNT } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';
import { digestOf, RegistryApi } from '../integration/registry-api-client.ts';

/**
 * Hostile and malformed requests to public repositories over `/v2/` and to the token endpoint: each gets a clear
 * answer within a time budget, and nothing is stored.
 */

const ANSWER_BUDGET_MS = 5_000;

describe('registry API (/v2/) of public repositories: hostile requests', () => {
  let server: RegistryServer;
  let client: ECRPUBLICClient;
  let alias: string;
  let password: string;
  let owner: RegistryApi;

  beforeAll(async () => {
    server = await startTestRegistry();
    client = ecrPublicClient(server);
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
  });
  beforeEach(async () => {
    await control(server, 'reset', {});
    await client.send(new CreateRepositoryCommand({ repositoryName: 'app' }));
    alias = (await client.send(new DescribeRegistriesCommand({}))).registries?.[0]?.aliases?.[0]?.name ?? '';
    const { authorizationData } = await client.send(new GetAuthorizationTokenCommand({}));
    password = Buffer.from(authorizationData?.authorizationToken ?? '', 'base64')
      .toString()
      .slice('AWS:'.length);
    owner = new RegistryApi(server, `Basic ${authorizationData?.authorizationToken ?? ''}`);
  });

  const stored = () => server.publicRegistries.existing(TEST_ACCOUNT)?.repositories.get('app')?.content;

  it('answers a streamed manifest past 4 MiB with 413 at once, and an anonymous 64 MiB upload with 401', async () => {
    // Prepare: 64 MiB sent in chunks with no Content-Length.
    const body = () => {
      const chunk = new Uint8Array(1024 * 1024).fill(0x20);
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 64) controller.enqueue(chunk);
          else controller.close();
        },
      });
    };
    const started = Date.now();
    // Act
    const manifest = await fetch(`${server.url}/v2/${alias}/app/manifests/v1`, {
      method: 'PUT',
      headers: { authorization: owner.authorization ?? '', 'content-type': MEDIA_TYPES.ociManifest },
      body: body(),
      duplex: 'half',
    } as RequestInit);
    const upload = await fetch(`${server.url}/v2/${alias}/app/blobs/uploads/?digest=${digestOf('x')}`, {
      method: 'POST',
      body: body(),
      duplex: 'half',
    } as RequestInit);
    await Promise.all([manifest.text(), upload.text()]);
    // Assess
    expect(Date.now() - started).toBeLessThan(ANSWER_BUDGET_MS);
    expect([manifest.status, upload.status]).toEqual([413, 401]);
    expect(stored()?.images.size).toBe(0);
    expect(stored()?.layers.size).toBe(0);
  });

  it('refuses malformed, oversized and swapped credentials with 401, a password as a token and a token as a password', async () => {
    // Prepare
    const token = ((await (await fetch(`${server.url}/token/`)).json()) as { token: string }).token;
    const headers = [
      `Bearer ${'a'.repeat(5000)}`,
      'Bearer',
      'Bearer a b',
      `Basic ${Buffer.from('AWS:').toString('base64')}`,
      `Basic ${Buffer.from(`AWS:${token}`).toString('base64')}`,
      `Bearer ${password}`,
      `Basic ${'!'.repeat(10)}`,
      `Digest username="AWS"`,
    ];
    // Act
    const answers = [];
    for (const authorization of headers) {
      const response = await new RegistryApi(server, authorization).request('GET', `/v2/${alias}/app/tags/list`);
      answers.push([response.status, response.codes]);
    }
    // Assess
    expect(answers).toEqual(headers.map(() => [401, ['UNAUTHORIZED']]));
  });

  it('keeps paths that only look like a public repository’s out of it', async () => {
    // Act
    const paths = [
      `/v2/${alias}/../app/tags/list`,
      `/v2/${alias}/%2e%2e/app/tags/list`,
      `/v2/${alias.toUpperCase()}/app/tags/list`,
      `/v2/${alias}/tags/list`,
      `/v2/${alias}%2Fapp/tags/list`,
      `/v2/${alias}/app/tags/list/../../..`,
    ];
    const answers = [];
    for (const path of paths) answers.push((await owner.request('GET', path)).status);
    // Assess
    // fetch resolves dot segments (`%2e%2e` too) before sending: those reach `/v2/app/...`, a name under no alias.
    // An encoded slash is a slash of the name, as for private repositories.
    expect(answers).toEqual([404, 404, 400, 404, 200, 404]);
  });

  it('answers hostile token requests with a clear error', async () => {
    // Act
    const answers = [];
    for (const [query, authorization] of [
      ['?scope=%zz', undefined],
      [`?service=${'s'.repeat(300)}`, undefined],
      [`?scope=${'a'.repeat(1025)}`, undefined],
      ['?scope=repository:x:pull', `Basic ${Buffer.from(`AWS:${password}x`).toString('base64')}`],
      ['', 'Bearer whatever'],
      ['', `Basic ${'='.repeat(5000)}`],
    ] as const) {
      const response = await fetch(`${server.url}/token/${query}`, {
        headers: authorization === undefined ? {} : { authorization },
      });
      answers.push([response.status, ((await response.json()) as { errors?: { code: string }[] }).errors?.[0]?.code]);
    }
    // Assess
    expect(answers).toEqual([
      [200, undefined],
      [400, 'UNSUPPORTED'],
      [400, 'UNSUPPORTED'],
      [401, 'UNAUTHORIZED'],
      [401, 'UNAUTHORIZED'],
      [401, 'UNAUTHORIZED'],
    ]);
  });
});
