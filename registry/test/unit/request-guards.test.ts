import { describe, expect, it, onTestFinished } from 'vitest';
import { BoundedLog } from '../../src/bus/bounded-log.ts';
import { BlobStore } from '../../src/model/blob-store.ts';
import { policyAllows, wildcardMatch } from '../../src/model/resource-policy.ts';
import { MAX_ACCOUNTS, Registry } from '../../src/model/state.ts';
import { jsonDepthExceeds, loopbackHost, loopbackOrigin } from '../../src/wire/http-guards.ts';

describe('loopback Host and Origin', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.0.0.1:4510', true],
    ['localhost', true],
    ['LOCALHOST:80', true],
    ['[::1]', true],
    ['[::1]:4510', true],
    [undefined, false],
    ['', false],
    ['evil.example', false],
    ['127.0.0.1.evil.example', false],
    ['localhost.evil.example:80', false],
    ['127.0.0.1:4510@evil.example', false],
    ['127.0.0.2', false],
    ['::1', false],
    ['127.0.0.1:123456', false],
  ])('Host %s is loopback: %s', (host, expected) => {
    expect(loopbackHost(host)).toBe(expected);
  });

  it.each([
    ['http://127.0.0.1:3000', true],
    ['https://localhost', true],
    ['http://[::1]:8080', true],
    ['null', false],
    ['http://evil.example', false],
    ['http://127.0.0.1.evil.example', false],
    ['http://localhost:3000/path', false],
    ['file://', false],
  ])('Origin %s is loopback: %s', (origin, expected) => {
    expect(loopbackOrigin(origin)).toBe(expected);
  });
});

describe('JSON depth', () => {
  it('counts objects and lists, not brackets inside strings', () => {
    expect(jsonDepthExceeds('{"a":{"b":[1]}}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":{"b":[1]}}', 2)).toBe(true);
    expect(jsonDepthExceeds('{"a":"[[[[[[[[[[{{{{{{"}', 1)).toBe(false);
    expect(jsonDepthExceeds('{"a":"\\"[[[["}', 1)).toBe(false);
    expect(jsonDepthExceeds('['.repeat(100_000), 64)).toBe(true);
  });
});

describe('resource policy evaluation', () => {
  const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

  it('matches IAM wildcards without backtracking blow-up', () => {
    expect(wildcardMatch('ecr:Batch*', 'ecr:BatchGetImage')).toBe(true);
    expect(wildcardMatch('ecr:*Image', 'ecr:BatchGetImage')).toBe(true);
    expect(wildcardMatch('ecr:?etRepositoryPolicy', 'ecr:GetRepositoryPolicy')).toBe(true);
    expect(wildcardMatch('ECR:describe*', 'ecr:DescribeImages')).toBe(true);
    expect(wildcardMatch('ecr:Describe*', 'ecr:BatchDeleteImage')).toBe(false);
    const started = performance.now();
    expect(wildcardMatch(`${'*a'.repeat(50)}b`, 'a'.repeat(5_000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('allows by principal account and action, and a matching Deny wins', () => {
    const text = policy(
      { Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::111111111111:root', '222222222222'] }, Action: 'ecr:*' },
      { Effect: 'Deny', Principal: '*', Action: 'ecr:BatchDeleteImage' },
      { Effect: 'Allow', Principal: { AWS: '*' }, Action: ['ecr:DescribeImages'] },
      { Effect: 'Allow', Principal: { AWS: '333333333333' }, Action: 'ecr:*', Condition: { Bool: { x: 'true' } } },
    );
    expect(policyAllows(text, '111111111111', 'ecr:BatchGetImage')).toBe(true);
    expect(policyAllows(text, '222222222222', 'ecr:PutImage')).toBe(true);
    expect(policyAllows(text, '111111111111', 'ecr:BatchDeleteImage')).toBe(false);
    expect(policyAllows(text, '444444444444', 'ecr:DescribeImages')).toBe(true);
    expect(policyAllows(text, '444444444444', 'ecr:ListImages')).toBe(false);
    expect(policyAllows(text, '333333333333', 'ecr:ListImages')).toBe(false);
  });

  it('grants nothing without a policy or with one it cannot read', () => {
    expect(policyAllows(undefined, '111111111111', 'ecr:DescribeImages')).toBe(false);
    expect(policyAllows('{', '111111111111', 'ecr:DescribeImages')).toBe(false);
    expect(policyAllows('{"Statement": 5}', '111111111111', 'ecr:DescribeImages')).toBe(false);
  });
});

describe('bounded state', () => {
  it(`keeps at most ${MAX_ACCOUNTS} accounts and frees a released one`, async () => {
    const blobs = await BlobStore.open();
    const registry = new Registry(blobs);
    onTestFinished(() => blobs.close());
    for (let i = 0; i < MAX_ACCOUNTS; i++) registry.state(String(100_000_000_000 + i), 'us-east-1');
    expect(() => registry.state('999999999999', 'us-east-1')).toThrow(/at most/);
    expect(registry.state('100000000000', 'eu-west-1').region).toBe('eu-west-1');
    const first = registry.existing('100000000001', 'us-east-1');
    if (first) registry.release(first);
    expect(registry.canHold('999999999999')).toBe(true);
    expect(registry.peek('888888888888', 'us-east-1').repositories.size).toBe(0);
    expect(registry.existing('888888888888', 'us-east-1')).toBeUndefined();
  });

  it('a bounded log drops its oldest entries past its byte budget', () => {
    const log = new BoundedLog<number>(1_000, 1_000);
    for (let i = 0; i < 100; i++) log.push(i, 100);
    expect(log.bytes).toBeLessThanOrEqual(1_000);
    expect(log.items.at(-1)).toBe(99);
    log.push(100, 5_000);
    expect(log.bytes).toBeLessThanOrEqual(1_000);
  });
});
