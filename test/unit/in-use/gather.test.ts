import { describe, expect, it } from 'vitest';
import type { InUseImage, InUseSnapshot } from '../../../shared/domain/in-use.ts';
import {
  gatherInUse,
  type InUseProvider,
  indexInUseSnapshot,
  inUseForRepository,
} from '../../../shared/in-use/index.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const image = (overrides: Partial<InUseImage>): InUseImage => ({
  registryId: '123456789012',
  region: 'eu-west-1',
  repositoryName: 'web',
  usedBy: { provider: 'ecs', where: 'prod/web' },
  ...overrides,
});

const provider = (
  name: InUseProvider['name'],
  gather: InUseProvider['gather'],
  coverage: Pick<InUseProvider, 'repositories' | 'exclude'> = {},
): InUseProvider => ({ name, gather, ...coverage });

describe('gatherInUse', () => {
  it('reads at most atOnce providers at a time (two per target across an organisation), all within the timeout', async () => {
    // Prepare: 12 providers, 4 at a time; the last 4 never answer, and must fail at the one deadline
    let running = 0;
    let peak = 0;
    const providers = Array.from({ length: 12 }, (_, index) =>
      provider('ecs', async (signal) => {
        running += 1;
        peak = Math.max(peak, running);
        try {
          await new Promise((resolve, reject) => {
            if (index < 8) setTimeout(resolve, 1);
            signal.addEventListener('abort', () => reject(signal.reason));
          });
          return [image({ digest: digest(String.fromCharCode(97 + index)) })];
        } finally {
          running -= 1;
        }
      }),
    );
    // Act
    const snapshot = await gatherInUse(providers, { timeoutMs: 300, atOnce: 4 });
    // Assess
    expect(peak).toBe(4);
    expect(snapshot.images).toHaveLength(8);
    expect(snapshot.failures).toHaveLength(4);
    expect(snapshot.failures.every((failure) => failure.message === 'timed out after 300 ms')).toBe(true);
  });

  it('runs the providers at once and joins their images', async () => {
    // Prepare
    const started: string[] = [];
    const slow = (name: InUseProvider['name'], found: InUseImage[]) =>
      provider(name, async () => {
        started.push(name);
        await new Promise((resolve) => setTimeout(resolve, 20));
        return found;
      });
    // Act
    const snapshot = await gatherInUse(
      [slow('ecs', [image({ digest: digest('a') })]), slow('lambda', [image({ tag: 'v1' })])],
      { timeoutMs: 1000 },
    );
    // Assess
    expect(started).toEqual(['ecs', 'lambda']);
    expect(snapshot.images).toHaveLength(2);
    expect(snapshot.failures).toEqual([]);
  });

  it('fails closed on a provider that throws: its images are dropped and the failure names its coverage', async () => {
    // Prepare
    const failing = provider(
      'lambda',
      async () => {
        throw new Error('Lambda ListFunctions: AccessDeniedException: not authorized');
      },
      { repositories: ['lambda/*'] },
    );
    // Act
    const snapshot = await gatherInUse([failing, provider('ecs', async () => [image({ digest: digest('a') })])], {
      timeoutMs: 1000,
    });
    // Assess
    expect(snapshot.images).toHaveLength(1);
    expect(snapshot.failures).toEqual([
      {
        provider: 'lambda',
        message: 'Lambda ListFunctions: AccessDeniedException: not authorized',
        repositories: ['lambda/*'],
      },
    ]);
  });

  it('fails closed on a provider that times out, and aborts its signal', async () => {
    // Prepare
    let aborted: AbortSignal | undefined;
    const hanging = provider('k8s', (signal) => {
      aborted = signal;
      return new Promise<InUseImage[]>(() => undefined);
    });
    const started = Date.now();
    // Act
    const snapshot = await gatherInUse([hanging], { timeoutMs: 50 });
    // Assess
    expect(Date.now() - started).toBeLessThan(1000);
    expect(snapshot.failures).toEqual([{ provider: 'k8s', message: 'timed out after 50 ms' }]);
    expect(aborted?.aborted).toBe(true);
  });

  it('bounds a failure’s message and survives a thrown non-error', async () => {
    // Act
    const snapshot = await gatherInUse(
      [
        provider('ecs', async () => {
          throw new Error('x'.repeat(10_000));
        }),
        provider('lambda', async () => {
          throw 'plain string';
        }),
      ],
      { timeoutMs: 1000 },
    );
    // Assess
    expect(snapshot.failures[0]?.message.length).toBe(500);
    expect(snapshot.failures[1]?.message).toBe('plain string');
  });
});

describe('inUseForRepository', () => {
  const repository = {
    registryId: '123456789012',
    region: 'eu-west-1',
    repositoryName: 'web',
    images: [
      { digest: digest('a'), tags: ['latest', '1.4'] },
      { digest: digest('b'), tags: [] },
    ],
  };

  it('maps digests and current tags to the repository’s images, each place once', () => {
    // Prepare
    const snapshot: InUseSnapshot = {
      images: [
        image({ digest: digest('b') }),
        image({ digest: digest('b') }),
        image({ tag: '1.4', usedBy: { provider: 'k8s', where: 'shop/web-1' } }),
        image({ tag: 'gone', usedBy: { provider: 'lambda', where: 'fn:live' } }),
        image({ digest: digest('c'), tag: 'latest', usedBy: { provider: 'lambda', where: 'fn:1' } }),
        image({ repositoryName: 'api', digest: digest('a') }),
        image({ region: 'us-east-1', digest: digest('a') }),
        image({ registryId: '999999999999', digest: digest('a') }),
        image({ registry: 'public', registryId: 'alias', digest: digest('a') }),
      ],
      failures: [],
    };
    // Act
    const { inUse, blockedBy } = inUseForRepository(snapshot, repository);
    // Assess
    expect(Object.fromEntries(inUse)).toEqual({
      [digest('b')]: [{ provider: 'ecs', where: 'prod/web' }],
      [digest('a')]: [
        { provider: 'k8s', where: 'shop/web-1' },
        { provider: 'lambda', where: 'fn:1' },
      ],
    });
    expect(blockedBy).toEqual([]);
  });

  it('maps public images to the public repository of their alias', () => {
    // Prepare
    const snapshot: InUseSnapshot = {
      images: [image({ registry: 'public', registryId: 'alias', region: 'us-east-1', tag: 'latest' })],
      failures: [],
    };
    // Act
    const { inUse } = inUseForRepository(snapshot, { ...repository, registry: 'public', registryId: 'alias' });
    // Assess
    expect([...inUse.keys()]).toEqual([digest('a')]);
  });

  it('maps the same from the snapshot grouped by repository, for every repository', () => {
    // Prepare
    const snapshot: InUseSnapshot = {
      images: [
        image({ digest: digest('b') }),
        image({ tag: '1.4', usedBy: { provider: 'k8s', where: 'shop/web-1' } }),
        image({ digest: digest('c'), tag: 'latest', usedBy: { provider: 'lambda', where: 'fn:1' } }),
        image({ repositoryName: 'api', digest: digest('a') }),
        image({ region: 'us-east-1', digest: digest('a') }),
        image({ registry: 'public', registryId: 'alias', region: 'us-west-2', tag: 'latest' }),
      ],
      failures: [{ provider: 'lambda', message: 'denied', repositories: ['web'] }],
    };
    const repositories = [
      repository,
      { ...repository, repositoryName: 'api' },
      { ...repository, region: 'us-east-1' },
      { ...repository, registry: 'public' as const, registryId: 'alias' },
      { ...repository, repositoryName: 'unused' },
    ];
    // Act
    const index = indexInUseSnapshot(snapshot);
    const grouped = repositories.map((each) => inUseForRepository(index, each));
    // Assess
    expect(grouped).toEqual(repositories.map((each) => inUseForRepository(snapshot, each)));
    expect(grouped.map(({ inUse }) => [...inUse.keys()])).toEqual([
      [digest('b'), digest('a')],
      [digest('a')],
      [digest('a')],
      [digest('a')],
      [],
    ]);
    // A failure covers repositories by name, in every registry and region.
    expect(grouped.map(({ blockedBy }) => blockedBy.length)).toEqual([1, 0, 1, 1, 0]);
  });

  it('says which failed providers cover the repository', () => {
    // Prepare
    const snapshot: InUseSnapshot = {
      images: [],
      failures: [
        { provider: 'ecs', message: 'timed out' },
        { provider: 'lambda', message: 'denied', repositories: ['lambda/**'] },
        { provider: 'k8s', message: 'invalid list', repositories: ['**'], exclude: ['web'] },
      ],
    };
    // Act
    const { blockedBy } = inUseForRepository(snapshot, repository);
    const other = inUseForRepository(snapshot, { ...repository, repositoryName: 'lambda/fn' });
    // Assess
    expect(blockedBy.map((f) => f.provider)).toEqual(['ecs']);
    expect(other.blockedBy.map((f) => f.provider)).toEqual(['ecs', 'lambda', 'k8s']);
  });
});
