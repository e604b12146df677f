import { describe, expect, it } from 'vitest';
import { inUseForRun, inUsePlanOptions, inUseSource, locateRepository } from '../../../shared/cleanup/in-use.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import type { InUseImage } from '../../../shared/domain/in-use.ts';
import type { InUseProvider } from '../../../shared/in-use/provider.ts';

const inUseOf = (inUse: unknown) => {
  const parsed = parseConfig({ cleanup: { inUse } }).cleanup.inUse;
  if (parsed === undefined) throw new Error('expected an inUse section');
  return parsed;
};

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

const found = (repositoryName: string, digest: string): InUseImage => ({
  registryId: '123456789012',
  region: 'us-east-1',
  repositoryName,
  digest,
  usedBy: { provider: 'ecs', where: 'prod/api' },
});

/** A provider answering from a script, one entry per gather (an Error entry makes that gather fail). */
function scriptedProvider(script: (InUseImage[] | Error)[]): { provider: InUseProvider; gathers: () => number } {
  let n = 0;
  return {
    provider: {
      name: 'ecs',
      async gather() {
        const next = script[Math.min(n, script.length - 1)];
        n++;
        if (next instanceof Error) throw next;
        return next ?? [];
      },
    },
    gathers: () => n,
  };
}

describe('inUseSource', () => {
  it('reuses a good read for cacheSeconds, then reads again', async () => {
    // Prepare
    let now = 1_000_000;
    const { provider, gathers } = scriptedProvider([[found('a', D1)], [found('a', D2)]]);
    const source = inUseSource(
      () => [provider],
      () => now,
    );
    const inUse = inUseOf({ ecs: {}, cacheSeconds: 60 });
    // Act / Assess
    expect((await source(inUse)).images.map((image) => image.digest)).toEqual([D1]);
    now += 59_999;
    expect((await source(inUse)).images.map((image) => image.digest)).toEqual([D1]);
    expect(gathers()).toBe(1);
    now += 1;
    expect((await source(inUse)).images.map((image) => image.digest)).toEqual([D2]);
    expect(gathers()).toBe(2);
  });

  it('never reuses a failed read: the next repository asks again', async () => {
    // Prepare
    const { provider, gathers } = scriptedProvider([new Error('ListTasks: ServerException'), [found('a', D1)]]);
    const source = inUseSource(
      () => [provider],
      () => 0,
    );
    const inUse = inUseOf({ ecs: {}, cacheSeconds: 600 });
    // Act
    const first = await source(inUse);
    const second = await source(inUse);
    // Assess
    expect(first.failures).toEqual([{ provider: 'ecs', message: 'ListTasks: ServerException' }]);
    expect(second).toEqual({ images: [found('a', D1)], failures: [] });
    expect(gathers()).toBe(2);
  });

  it('reads again when the section changes, and every time with cacheSeconds 0; concurrent callers share one read', async () => {
    // Prepare
    const { provider, gathers } = scriptedProvider([[found('a', D1)]]);
    const source = inUseSource(
      () => [provider],
      () => 0,
    );
    // Act
    await Promise.all([source(inUseOf({ ecs: {} })), source(inUseOf({ ecs: {} }))]);
    const shared = gathers();
    await source(inUseOf({ ecs: { repositories: ['a'] } }));
    const afterChange = gathers();
    await source(inUseOf({ ecs: {}, cacheSeconds: 0 }));
    await source(inUseOf({ ecs: {}, cacheSeconds: 0 }));
    // Assess
    expect([shared, afterChange, gathers()]).toEqual([1, 2, 4]);
  });
});

describe('inUseForRun', () => {
  it('is undefined without providers, and fails closed when the runtime cannot read what runs', async () => {
    // Act
    const none = await inUseForRun(undefined, undefined);
    const sectionWithoutProviders = await inUseForRun(inUseOf({}), undefined);
    const blind = await inUseForRun(inUseOf({ lambda: {} }), undefined);
    // Assess
    expect(none).toBeUndefined();
    expect(sectionWithoutProviders).toBeUndefined();
    expect(blind?.failures).toHaveLength(1);
    expect(inUsePlanOptions(blind ?? { images: [], failures: [] }, LOCATION, 'a', []).inUseUnavailable).toMatch(
      /no in-use providers/,
    );
  });
});

const LOCATION = { registry: 'private', registryId: '123456789012', region: 'us-east-1' } as const;

describe('locateRepository', () => {
  it('reads the account and region (or the ECR Public alias) from the URI the registry reports', async () => {
    // Prepare
    const gateway = (uri: string) => ({ getRepository: async () => ({ registryId: '123456789012', uri }) });
    // Act / Assess
    expect(
      await locateRepository(gateway('210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/app'), 'private', 'team/app'),
    ).toEqual({ registry: 'private', registryId: '210987654321', region: 'eu-west-1' });
    expect(await locateRepository(gateway('public.ecr.aws/acme/tools/cli'), 'public', 'tools/cli')).toEqual({
      registry: 'public',
      registryId: 'acme',
      region: 'us-east-1',
    });
    // A URI of another repository, another kind of registry, or no registry at all locates nothing
    expect(await locateRepository(gateway('public.ecr.aws/acme/tools/cli'), 'private', 'tools/cli')).toBeUndefined();
    expect(
      await locateRepository(gateway('123456789012.dkr.ecr.us-east-1.amazonaws.com/other'), 'private', 'team/app'),
    ).toBeUndefined();
    expect(await locateRepository(gateway('localhost:5000/team/app'), 'private', 'team/app')).toBeUndefined();
  });
});

describe('inUsePlanOptions', () => {
  const images = [
    { digest: D1, tags: ['v1'] },
    { digest: D2, tags: [] },
  ];

  it('gives the planner the images of this repository in use, matched in its own account and region', () => {
    // Prepare
    const snapshot = {
      images: [
        found('team/app', D2),
        { ...found('team/app', D1), registryId: '999999999999' },
        { ...found('team/app', D1), region: 'eu-west-1' },
        { ...found('other', D1) },
        { ...found('team/app', D1), digest: undefined, tag: 'v1', usedBy: { provider: 'lambda', where: 'f:live' } },
      ] as InUseImage[],
      failures: [],
    };
    // Act
    const options = inUsePlanOptions(snapshot, LOCATION, 'team/app', images);
    // Assess
    expect(options.inUseUnavailable).toBeUndefined();
    expect(Object.fromEntries(options.inUse ?? [])).toEqual({
      [D2]: [{ provider: 'ecs', where: 'prod/api' }],
      [D1]: [{ provider: 'lambda', where: 'f:live' }],
    });
  });

  it('blocks a repository a failed provider covers, and only those; an unlocated repository is blocked', () => {
    // Prepare
    const snapshot = {
      images: [found('team/app', D2)],
      failures: [{ provider: 'ecs' as const, message: 'timed out after 60000 ms', repositories: ['team/**'] }],
    };
    // Act
    const covered = inUsePlanOptions(snapshot, LOCATION, 'team/app', images);
    const elsewhere = inUsePlanOptions(snapshot, LOCATION, 'tools/lint', images);
    const unlocated = inUsePlanOptions({ images: [], failures: [] }, undefined, 'team/app', images);
    // Assess
    expect(covered).toEqual({
      inUseUnavailable:
        'what runs could not be read (ecs: timed out after 60000 ms), so nothing is deleted in this repository in this run',
    });
    expect(elsewhere.inUseUnavailable).toBeUndefined();
    expect(unlocated.inUseUnavailable).toMatch(/names no ECR registry/);
  });
});
