import { describe, expect, it } from 'vitest';
import {
  digestOf,
  MAX_KUBERNETES_LIST_BYTES,
  parseImageReference,
  parseKubernetesList,
} from '../../../shared/in-use/index.ts';

const D = `sha256:${'a'.repeat(64)}`;
const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

describe('parseImageReference', () => {
  it('parses private references by tag, by digest, and by both', () => {
    // Assess
    expect(parseImageReference(`${HOST}/team/app:1.2`)).toEqual({
      registry: 'private',
      registryId: '123456789012',
      region: 'eu-west-1',
      repositoryName: 'team/app',
      tag: '1.2',
    });
    expect(parseImageReference(`${HOST}/app@${D}`)).toMatchObject({ repositoryName: 'app', digest: D });
    expect(parseImageReference(`${HOST}/app:v1@${D}`)).toMatchObject({ tag: 'v1', digest: D });
    expect(parseImageReference(`${HOST}/app`)).toEqual({
      registry: 'private',
      registryId: '123456789012',
      region: 'eu-west-1',
      repositoryName: 'app',
    });
    expect(parseImageReference('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app:x')).toMatchObject({
      region: 'us-gov-west-1',
    });
    expect(parseImageReference('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:x')).toMatchObject({
      region: 'cn-north-1',
    });
  });

  it('parses ECR Public references to the public registry of their alias', () => {
    // Assess
    expect(parseImageReference('public.ecr.aws/my-alias/tools/cli:latest')).toEqual({
      registry: 'public',
      registryId: 'my-alias',
      region: 'us-east-1',
      repositoryName: 'tools/cli',
      tag: 'latest',
    });
  });

  it('ignores other registries and malformed references', () => {
    // Assess
    for (const reference of [
      'nginx:latest',
      'docker.io/library/nginx',
      'ghcr.io/org/app:1',
      '12345.dkr.ecr.eu-west-1.amazonaws.com/app:1',
      `${HOST}/App:1`,
      `${HOST}/app:`,
      `${HOST}/app@sha256:short`,
      `${HOST}/app//x:1`,
      `${HOST}/`,
      'public.ecr.aws/alias',
      '',
      42,
      null,
      `${HOST}/app:${'t'.repeat(129)}`,
    ]) {
      expect(parseImageReference(reference)).toBeUndefined();
    }
  });

  it('bounds hostile strings and stays linear', () => {
    // Prepare
    const long = `${HOST}/${'a-'.repeat(200_000)}!`;
    const colons = `${HOST}/${'a:'.repeat(100_000)}`;
    const started = performance.now();
    // Act
    const results = [long, colons, '@'.repeat(10_000), `${'a.'.repeat(400)}`].map(parseImageReference);
    // Assess
    expect(results).toEqual([undefined, undefined, undefined, undefined]);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('reads the digest a runtime reports in any of its forms', () => {
    // Assess
    expect(digestOf(D)).toBe(D);
    expect(digestOf(`docker-pullable://${HOST}/app@${D}`)).toBe(D);
    expect(digestOf(`${HOST}/app@${D}`)).toBe(D);
    expect(digestOf('sha256:nope')).toBeUndefined();
    expect(digestOf(undefined)).toBeUndefined();
  });
});

describe('parseKubernetesList', () => {
  const valid = {
    version: 1,
    cluster: 'prod',
    images: [{ namespace: 'shop', pod: 'web-1', image: `${HOST}/web:1`, imageID: `${HOST}/web@${D}` }],
  };

  it('accepts a version-1 list', () => {
    // Assess
    expect(parseKubernetesList(JSON.stringify(valid))).toEqual(valid);
  });

  it('refuses hostile and malformed documents with a bounded message', () => {
    // Prepare
    const documents = [
      'not json',
      JSON.stringify({ ...valid, version: 2 }),
      JSON.stringify({ ...valid, extra: true }),
      JSON.stringify({ ...valid, images: [{ ...valid.images[0], namespace: 'Bad_NS' }] }),
      JSON.stringify({ ...valid, images: [{ ...valid.images[0], image: 'x'.repeat(5000) }] }),
      JSON.stringify({ ...valid, images: [{ ...valid.images[0], __proto__: { polluted: true }, more: 1 }] }),
      JSON.stringify({ ...valid, images: 'all' }),
      JSON.stringify([valid]),
      'null',
      `{"version":1,"cluster":"${'c'.repeat(MAX_KUBERNETES_LIST_BYTES)}","images":[]}`,
    ];
    // Act
    const errors = documents.map((text) => {
      try {
        parseKubernetesList(text);
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    });
    // Assess
    for (const message of errors) {
      expect(message).toMatch(/the Kubernetes image list/);
      expect((message ?? '').length).toBeLessThan(1000);
    }
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('refuses more entries than its bound', () => {
    // Prepare
    const entry = { namespace: 'a', pod: 'b', image: 'c' };
    const text = JSON.stringify({ version: 1, cluster: 'x', images: Array.from({ length: 100_001 }, () => entry) });
    // Act / Assess
    expect(() => parseKubernetesList(text)).toThrow(/not a valid version-1 list/);
  });
});
