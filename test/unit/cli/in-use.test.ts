import { describe, expect, it } from 'vitest';
import { describeInUseRead, inUseEndpoint, isLoopbackEndpoint } from '../../../cli/commands/in-use.ts';

const LOCAL = 'http://127.0.0.1:4510';

describe('inUseEndpoint: where the in-use providers read what runs', () => {
  it('takes --in-use-endpoint-url over everything else', () => {
    // Act
    const chosen = inUseEndpoint('ecs', {
      flag: 'http://ecs.example:8080',
      env: { AWS_ENDPOINT_URL_ECS: 'http://other:1' },
      ecrEndpoint: LOCAL,
    });

    // Assess
    expect(chosen).toEqual({ endpoint: 'http://ecs.example:8080', shown: 'http://ecs.example:8080' });
  });

  it.each([
    ['ecs', { AWS_ENDPOINT_URL_ECS: 'http://ecs:1' }, 'http://ecs:1'],
    ['lambda', { AWS_ENDPOINT_URL_LAMBDA: 'http://lambda:1' }, 'http://lambda:1'],
    ['s3', { AWS_ENDPOINT_URL_S3: 'http://s3:1' }, 'http://s3:1'],
    ['ssm', { AWS_ENDPOINT_URL_SSM: 'http://ssm:1' }, 'http://ssm:1'],
    ['lambda', { AWS_ENDPOINT_URL: 'http://all:1' }, 'http://all:1'],
    ['ecs', { AWS_ENDPOINT_URL_LAMBDA: 'http://lambda:1', AWS_ENDPOINT_URL: 'http://all:1' }, 'http://all:1'],
  ] as const)('leaves %s to the SDK when the environment names its endpoint (%j)', (service, env, shown) => {
    // Act
    const chosen = inUseEndpoint(service, { env, ecrEndpoint: LOCAL });

    // Assess: no endpoint passed (the SDK reads the variable itself), and the address said
    expect(chosen).toEqual({ shown });
  });

  it.each([LOCAL, 'http://localhost:4510', 'http://[::1]:4510'])(
    'sends to the ECR endpoint when it is the local registry on loopback (%s)',
    (ecrEndpoint) => {
      // Act
      const chosen = inUseEndpoint('lambda', { env: {}, ecrEndpoint });

      // Assess
      expect(chosen).toEqual({ endpoint: ecrEndpoint, shown: ecrEndpoint });
    },
  );

  it('ignores the environment as the SDK does with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', () => {
    // Act
    const chosen = inUseEndpoint('ecs', {
      env: { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true', AWS_ENDPOINT_URL_ECS: 'http://ecs:1' },
      ecrEndpoint: LOCAL,
    });

    // Assess
    expect(chosen).toEqual({ endpoint: LOCAL, shown: LOCAL });
  });

  it.each([
    ['no ECR endpoint', undefined],
    ['an ECR endpoint that is not loopback', 'https://api.ecr.eu-west-1.amazonaws.com'],
    ['a loopback-looking host name', 'http://127.0.0.1.example.com:4510'],
  ])('passes no endpoint (AWS itself) with %s', (_what, ecrEndpoint) => {
    // Act
    const chosen = inUseEndpoint('ecs', { env: { AWS_ENDPOINT_URL_ECS: '' }, ecrEndpoint });

    // Assess
    expect(chosen).toEqual({ shown: 'AWS (ecs)' });
  });

  it('tells loopback addresses from others', () => {
    expect(isLoopbackEndpoint('http://localhost')).toBe(true);
    expect(isLoopbackEndpoint('https://localhost.example')).toBe(false);
    expect(isLoopbackEndpoint('not a url')).toBe(false);
  });
});

describe('describeInUseRead: the one line a command prints after reading what runs', () => {
  const image = (provider: 'ecs' | 'lambda', where: string) => ({
    registryId: '123456789012',
    region: 'us-east-1',
    repositoryName: 'team/app',
    tag: 'v1',
    usedBy: { provider, where },
  });

  it('counts the references per provider and names the one address read', () => {
    // Act
    const line = describeInUseRead(
      { images: [image('ecs', 'prod/api'), image('ecs', 'prod/web'), image('lambda', 'fn:live')], failures: [] },
      [
        ['ecs', LOCAL],
        ['lambda', LOCAL],
      ],
    );

    // Assess
    expect(line).toBe(`in use: 3 image references (ecs 2, lambda 1) read from ${LOCAL}`);
  });

  it('names each address when they differ, and each failed provider with why', () => {
    // Act
    const line = describeInUseRead(
      { images: [image('lambda', 'fn:live')], failures: [{ provider: 'ecs', message: 'timed out after 60000 ms' }] },
      [
        ['ecs', 'AWS (ecs)'],
        ['lambda', 'http://lambda:1'],
      ],
    );

    // Assess
    expect(line).toBe(
      'in use: 1 image reference (lambda 1) read from ecs AWS (ecs), lambda http://lambda:1; FAILED ecs: timed out after 60000 ms: nothing is deleted in the repositories it covers',
    );
  });
});
