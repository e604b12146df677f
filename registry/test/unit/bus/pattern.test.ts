import { describe, expect, it } from 'vitest';
import { matchesPattern, validatePattern } from '../../../src/bus/pattern.ts';

const imagePushed = {
  version: '0',
  id: 'f2a1c8a4-0000-4000-8000-000000000001',
  'detail-type': 'ECR Image Action',
  source: 'aws.ecr',
  account: '123456789012',
  time: '2026-11-24T07:30:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:ecr:us-east-1:123456789012:repository/team-a/api', 'arn:aws:ecr:us-east-1:123456789012:x'],
  detail: {
    'action-type': 'PUSH',
    result: 'SUCCESS',
    'repository-name': 'team-a/api',
    'image-digest': 'sha256:abc',
    'image-tag': 'v1.2.3',
    'image-tags': ['v1.2.3', 'latest'],
    'finding-severity-counts': { CRITICAL: 2, HIGH: 0 },
    size: 42,
    signed: false,
    owner: null,
    empty: '',
    none: [],
    'source-ip': '10.0.0.17',
    'source-ipv6': '2001:db8::1',
    layers: [
      { media: 'gzip', bytes: 100 },
      { media: 'zstd', bytes: 900 },
    ],
  },
};

const matches = (pattern: object) => matchesPattern(pattern, imagePushed);

describe('matchesPattern', () => {
  describe('exact values', () => {
    it.each([
      [{ source: ['aws.ecr'] }, true],
      [{ source: ['aws.s3', 'aws.ecr'] }, true],
      [{ source: ['aws.s3'] }, false],
      [{ source: ['AWS.ECR'] }, false],
      [{ source: ['aws.ecr'], 'detail-type': ['ECR Image Action'] }, true],
      [{ source: ['aws.ecr'], 'detail-type': ['ECR Image Scan'] }, false],
      [{ detail: { size: [42] } }, true],
      [{ detail: { size: ['42'] } }, false],
      [{ detail: { signed: [false] } }, true],
      [{ detail: { signed: [true] } }, false],
      [{ detail: { owner: [null] } }, true],
      [{ detail: { missing: [null] } }, false],
      [{ detail: { empty: [''] } }, true],
      [{ detail: { result: [''] } }, false],
    ])('matches %j: %s', (pattern, expected) => {
      // Act
      const result = matches(pattern);

      // Assess
      expect(result).toBe(expected);
    });
  });

  describe('nested detail', () => {
    it('matches a field nested two levels down', () => {
      // Act
      const result = matches({ detail: { 'finding-severity-counts': { CRITICAL: [{ numeric: ['>', 0] }] } } });

      // Assess
      expect(result).toBe(true);
    });

    it('does not match when a nested field has another value', () => {
      // Act
      const result = matches({ detail: { 'finding-severity-counts': { HIGH: [{ numeric: ['>', 0] }] } } });

      // Assess
      expect(result).toBe(false);
    });

    it('does not match a nested pattern against a scalar field', () => {
      // Act
      const result = matches({ detail: { result: { value: ['SUCCESS'] } } });

      // Assess
      expect(result).toBe(false);
    });

    it('matches a nested pattern against any object of an array, field by field within one object', () => {
      // Act
      const sameObject = matches({ detail: { layers: { media: ['zstd'], bytes: [900] } } });
      const acrossObjects = matches({ detail: { layers: { media: ['gzip'], bytes: [900] } } });

      // Assess
      expect(sameObject).toBe(true);
      expect(acrossObjects).toBe(false);
    });
  });

  describe('arrays in the event', () => {
    it('matches when any element of the event array matches', () => {
      // Act
      const result = matches({ detail: { 'image-tags': ['latest'] } });

      // Assess
      expect(result).toBe(true);
    });

    it('matches resources by prefix on any element', () => {
      // Act
      const result = matches({ resources: [{ suffix: '/api' }] });

      // Assess
      expect(result).toBe(true);
    });

    it('does not match when no element matches', () => {
      // Act
      const result = matches({ detail: { 'image-tags': ['stable', 'prod'] } });

      // Assess
      expect(result).toBe(false);
    });
  });

  describe('string operators', () => {
    it.each([
      [{ detail: { 'repository-name': [{ prefix: 'team-a/' }] } }, true],
      [{ detail: { 'repository-name': [{ prefix: 'team-b/' }] } }, false],
      [{ detail: { 'repository-name': [{ prefix: { 'equals-ignore-case': 'TEAM-A/' } }] } }, true],
      [{ detail: { 'repository-name': [{ suffix: '/api' }] } }, true],
      [{ detail: { 'repository-name': [{ suffix: '/web' }] } }, false],
      [{ detail: { 'repository-name': [{ suffix: { 'equals-ignore-case': '/API' } }] } }, true],
      [{ detail: { 'action-type': [{ 'equals-ignore-case': 'push' }] } }, true],
      [{ detail: { 'action-type': [{ 'equals-ignore-case': 'delete' }] } }, false],
      [{ detail: { 'repository-name': [{ wildcard: 'team-*/a*' }] } }, true],
      [{ detail: { 'repository-name': [{ wildcard: 'team-*/web' }] } }, false],
      [{ detail: { 'image-tag': [{ wildcard: 'v1.*.3' }] } }, true],
      [{ detail: { 'image-tag': [{ wildcard: 'v1.2.\\*' }] } }, false],
      [{ detail: { size: [{ prefix: '4' }] } }, false],
    ])('matches %j: %s', (pattern, expected) => {
      // Act
      const result = matches(pattern);

      // Assess
      expect(result).toBe(expected);
    });
  });

  describe('anything-but', () => {
    it.each([
      [{ detail: { 'action-type': [{ 'anything-but': 'DELETE' }] } }, true],
      [{ detail: { 'action-type': [{ 'anything-but': 'PUSH' }] } }, false],
      [{ detail: { 'action-type': [{ 'anything-but': ['DELETE', 'PUSH'] }] } }, false],
      [{ detail: { size: [{ 'anything-but': 41 }] } }, true],
      [{ detail: { size: [{ 'anything-but': [41, 42] }] } }, false],
      [{ detail: { 'repository-name': [{ 'anything-but': { prefix: 'team-b/' } }] } }, true],
      [{ detail: { 'repository-name': [{ 'anything-but': { prefix: 'team-a/' } }] } }, false],
      [{ detail: { 'repository-name': [{ 'anything-but': { suffix: '/api' } }] } }, false],
      [{ detail: { 'action-type': [{ 'anything-but': { 'equals-ignore-case': ['push', 'delete'] } }] } }, false],
      [{ detail: { 'repository-name': [{ 'anything-but': { wildcard: '*/web' } }] } }, true],
    ])('matches %j: %s', (pattern, expected) => {
      // Act
      const result = matches(pattern);

      // Assess
      expect(result).toBe(expected);
    });

    it('does not match a field missing from the event', () => {
      // Act
      const result = matches({ detail: { 'scan-status': [{ 'anything-but': 'FAILED' }] } });

      // Assess
      expect(result).toBe(false);
    });

    it('matches an array when one of its elements is not excluded', () => {
      // Act
      const oneLeft = matches({ detail: { 'image-tags': [{ 'anything-but': 'latest' }] } });
      const noneLeft = matches({ detail: { 'image-tags': [{ 'anything-but': ['latest', 'v1.2.3'] }] } });

      // Assess
      expect(oneLeft).toBe(true);
      expect(noneLeft).toBe(false);
    });
  });

  describe('numeric', () => {
    it.each([
      [['>', 0, '<=', 42], true],
      [['>', 0, '<', 42], false],
      [['>=', 42], true],
      [['>', 42], false],
      [['=', 42], true],
      [['=', 42.5], false],
      [['<', 100], true],
    ])('matches size 42 against %j: %s', (numeric, expected) => {
      // Act
      const result = matches({ detail: { size: [{ numeric }] } });

      // Assess
      expect(result).toBe(expected);
    });

    it('does not match a string value', () => {
      // Act
      const result = matches({ detail: { result: [{ numeric: ['>', 0] }] } });

      // Assess
      expect(result).toBe(false);
    });
  });

  describe('exists', () => {
    it.each([
      [{ detail: { 'image-tag': [{ exists: true }] } }, true],
      [{ detail: { 'image-tag': [{ exists: false }] } }, false],
      [{ detail: { 'scan-status': [{ exists: false }] } }, true],
      [{ detail: { 'scan-status': [{ exists: true }] } }, false],
      [{ detail: { owner: [{ exists: true }] } }, true],
      [{ detail: { none: [{ exists: false }] } }, true],
      [{ detail: { 'finding-severity-counts': [{ exists: true }] } }, false],
      [{ detail: { missing: { deeper: [{ exists: false }] } } }, true],
    ])('matches %j: %s', (pattern, expected) => {
      // Act
      const result = matches(pattern);

      // Assess
      expect(result).toBe(expected);
    });

    it('combines with other values of the same field as alternatives', () => {
      // Act
      const result = matches({ detail: { 'scan-status': ['COMPLETE', { exists: false }] } });

      // Assess
      expect(result).toBe(true);
    });
  });

  describe('cidr', () => {
    it.each([
      [{ detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, true],
      [{ detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, false],
      [{ detail: { 'source-ipv6': [{ cidr: '2001:db8::/32' }] } }, true],
      [{ detail: { 'source-ipv6': [{ cidr: '2001:db9::/32' }] } }, false],
      [{ detail: { result: [{ cidr: '10.0.0.0/8' }] } }, false],
    ])('matches %j: %s', (pattern, expected) => {
      // Act
      const result = matches(pattern);

      // Assess
      expect(result).toBe(expected);
    });
  });

  describe('$or', () => {
    it('matches when any of the alternatives matches', () => {
      // Act
      const result = matches({
        source: ['aws.ecr'],
        $or: [{ detail: { 'action-type': ['DELETE'] } }, { detail: { size: [{ numeric: ['>', 10] }] } }],
      });

      // Assess
      expect(result).toBe(true);
    });

    it('does not match when no alternative matches', () => {
      // Act
      const result = matches({
        $or: [{ detail: { 'action-type': ['DELETE'] } }, { 'detail-type': ['ECR Image Scan'] }],
      });

      // Assess
      expect(result).toBe(false);
    });

    it('still requires the fields next to it', () => {
      // Act
      const result = matches({
        source: ['aws.s3'],
        $or: [{ detail: { 'action-type': ['PUSH'] } }, { 'detail-type': ['ECR Image Scan'] }],
      });

      // Assess
      expect(result).toBe(false);
    });

    it('works inside a nested object', () => {
      // Act
      const result = matches({
        detail: { $or: [{ result: ['FAILURE'] }, { 'image-tag': [{ prefix: 'v1.' }] }] },
      });

      // Assess
      expect(result).toBe(true);
    });
  });
});

describe('validatePattern', () => {
  it('accepts a pattern using every operator', () => {
    // Prepare
    const pattern = {
      source: ['aws.ecr'],
      detail: {
        a: [{ prefix: 'x' }, { suffix: { 'equals-ignore-case': 'Y' } }, 'z', 1, true, null],
        b: [{ 'anything-but': { prefix: 'x' } }],
        c: [{ numeric: ['>=', 0, '<', 5] }],
        d: [{ exists: false }],
        e: [{ wildcard: 'a*b\\*' }],
        f: [{ cidr: '192.168.0.0/16' }],
        g: [{ 'equals-ignore-case': 'q' }],
        $or: [{ h: ['1'] }, { i: ['2'] }],
      },
    };

    // Act
    const act = () => validatePattern(pattern);

    // Assess
    expect(act).not.toThrow();
  });

  it.each([
    ['a non-object pattern', ['aws.ecr'], '(root)', 'must be a JSON object'],
    ['an empty pattern', {}, '(root)', 'at least one field'],
    ['a scalar field', { source: 'aws.ecr' }, 'source', 'array of values or a nested object'],
    ['an empty value list', { detail: { state: [] } }, 'detail.state', 'must not be empty'],
    [
      'an unknown operator',
      { detail: { state: [{ contains: 'x' }] } },
      'detail.state[0]',
      'unknown operator "contains"',
    ],
    ['two operators in one object', { source: [{ prefix: 'a', suffix: 'b' }] }, 'source[0]', 'exactly one operator'],
    ['a nested array value', { source: [['a']] }, 'source[0]', 'operator object'],
    ['a non-string prefix', { source: [{ prefix: 1 }] }, 'source[0].prefix', '"prefix" takes a string'],
    ['a bad numeric operator', { n: [{ numeric: ['!=', 1] }] }, 'n[0].numeric', 'not one of'],
    ['a non-numeric bound', { n: [{ numeric: ['>', '1'] }] }, 'n[0].numeric', 'is not a number'],
    ['two lower bounds', { n: [{ numeric: ['>', 1, '>=', 2] }] }, 'n[0].numeric', 'one lower bound'],
    ['an empty range', { n: [{ numeric: ['>', 5, '<', 1] }] }, 'n[0].numeric', 'range is empty'],
    ['an odd numeric list', { n: [{ numeric: ['>', 1, '<'] }] }, 'n[0].numeric', '[operator, number]'],
    ['a non-boolean exists', { n: [{ exists: 'yes' }] }, 'n[0].exists', 'true or false'],
    ['a mixed anything-but list', { n: [{ 'anything-but': ['a', 1] }] }, 'n[0].anything-but', 'only strings'],
    ['an anything-but numeric', { n: [{ 'anything-but': { numeric: ['>', 1] } }] }, 'n[0].anything-but', 'takes'],
    ['consecutive wildcards', { n: [{ wildcard: 'a**b' }] }, 'n[0].wildcard', 'consecutive'],
    ['a bad wildcard escape', { n: [{ wildcard: 'a\\b' }] }, 'n[0].wildcard', 'backslash'],
    ['a bad cidr', { n: [{ cidr: '10.0.0.0/33' }] }, 'n[0].cidr', 'not an IPv4 or IPv6 CIDR'],
    ['a non-array $or', { $or: { a: ['1'] } }, '$or', 'non-empty array'],
    ['a bad $or member', { $or: [{ a: ['1'] }, { b: 'x' }] }, '$or[1].b', 'array of values'],
    ['a deep invalid value', { detail: { x: { y: [{ numeric: [] }] } } }, 'detail.x.y[0].numeric', 'numeric'],
  ])('rejects %s naming the bad path', (_label, pattern, path, reason) => {
    // Act
    const act = () => validatePattern(pattern);

    // Assess
    expect(act).toThrow(`Invalid event pattern at "${path}"`);
    expect(act).toThrow(reason);
  });

  it('rejects an invalid pattern when matching as well', () => {
    // Act
    const act = () => matchesPattern({ source: 'aws.ecr' }, imagePushed);

    // Assess
    expect(act).toThrow('Invalid event pattern at "source"');
  });
});
