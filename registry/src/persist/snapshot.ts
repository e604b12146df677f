import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { IdentityRecord } from '../identity/state.ts';
import { newImage, newRepository, parseManifest } from '../model/records.ts';
import type {
  FindingsSet,
  ImageScan,
  ImageStatus,
  LifecyclePreviewRecord,
  Registry,
  RegistryState,
  RepositoryRecord,
  StoredCreationTemplate,
  StoredImage,
  StoredPullThroughCacheRule,
} from '../model/state.ts';
import { newPublicContent, type PublicCatalogRecord, type PublicRegistryState } from '../public/state.ts';
import { type BucketRecord, type ObjectRecord, ObjectStorage } from '../storage/state.ts';
import type { WorkloadState } from '../workloads/state.ts';
import { syncDirectory } from './data-dir.ts';
import { type JournalRecord, journalRecords } from './journal.ts';

/**
 * A snapshot of the registry's state, which compaction writes so that the journal can start again empty: JSON lines
 * (`snapshot` header, then each account and region's `state`, its `repository` records, each followed by its
 * `image` records in listing order, then each ECR Public registry's `public` record, followed by the `public-image`
 * records of its repositories, then workloads, identities, each S3 bucket's `s3-bucket` record followed by its
 * `s3-object` records, then `end` with the counts), written to a temporary file, flushed and renamed
 * over the last one, so that a kill leaves either the old snapshot or the new one. Images keep their listing order
 * numbers (seq), so that pagination tokens from before stay valid; the indexes of the image store are rebuilt.
 *
 * What is not in it: uploads in progress (not acknowledged), faults and call counters (not kept at all), the bus
 * (its rules are registered by code), and `later` tasks (compaction waits until none is pending).
 */

/** The fields of the records the snapshot writes, by kind: a test fails when the model gains one it does not know. */
export const SNAPSHOT_FIELDS = {
  state: [
    'account',
    'region',
    'repositories',
    'nextRepositorySeq',
    'scanning',
    'replication',
    'pullThroughCacheRules',
    'creationTemplates',
    'registryPolicyText',
    'scansPerDay',
    'pendingFindings',
    'pullTimeExclusions',
  ],
  repository: [
    'name',
    'registryId',
    'arn',
    'uri',
    'createdAt',
    'seq',
    'imageTagMutability',
    'imageTagMutabilityExclusionFilters',
    'scanOnPush',
    'encryption',
    'tags',
    'policyText',
    'lifecyclePolicyText',
    'lifecyclePolicyUpdatedAt',
    'lifecyclePolicyEvaluatedAt',
    'lifecyclePreview',
    'images',
    'layers',
  ],
  image: [
    'digest',
    'manifest',
    'manifestSize',
    'manifestMediaType',
    'artifactMediaType',
    'sizeInBytes',
    'subjectDigest',
    'childDigests',
    'artifactType',
    'annotations',
    'pushedAt',
    'lastPulledAt',
    'tags',
    'seq',
    'status',
    'lastArchivedAt',
    'lastActivatedAt',
    'activatesAt',
    'scan',
    'lastScanStartedAt',
    'attachedFindings',
  ],
} as const;

export interface SnapshotHeader {
  /** The generation: the journal that continues this snapshot starts with a `journal` record of the same. */
  generation: number;
  clockOffset: number;
}

/** Writes lines to a file in batches of about a MiB (a snapshot may be far larger than a string may hold). */
class LineWriter {
  private batch: string[] = [];
  private batchLength = 0;

  constructor(private readonly fd: number) {}

  line(record: JournalRecord): void {
    const text = `${JSON.stringify(record)}\n`;
    this.batch.push(text);
    this.batchLength += text.length;
    if (this.batchLength > 1024 * 1024) this.flush();
  }

  flush(): void {
    if (this.batch.length === 0) return;
    const buffer = Buffer.from(this.batch.join(''), 'utf8');
    let written = 0;
    while (written < buffer.length) written += writeSync(this.fd, buffer, written);
    this.batch = [];
    this.batchLength = 0;
  }
}

const entries = <K, V>(map: ReadonlyMap<K, V>) => [...map.entries()];

/** An image as a snapshot line (`image` after its private repository, `public-image` naming its public one). */
const imageLine = (image: StoredImage): JournalRecord => ({
  k: 'image',
  seq: image.seq,
  manifest: image.manifest,
  mediaType: image.manifestMediaType,
  size: image.sizeInBytes,
  pushedAt: image.pushedAt,
  lastPulledAt: image.lastPulledAt,
  tags: image.tags,
  status: image.status,
  lastArchivedAt: image.lastArchivedAt,
  lastActivatedAt: image.lastActivatedAt,
  activatesAt: image.activatesAt,
  scan: image.scan,
  lastScanStartedAt: image.lastScanStartedAt,
  attachedFindings: image.attachedFindings,
});

/** Adds the image of an `image` or `public-image` line to `repository` (lines come in listing order). */
function restoreImage(repository: RepositoryRecord, record: JournalRecord): void {
  const images = repository.images;
  const manifest = String(record.manifest);
  const parsed = parseManifest(manifest, optionalStr(record, 'mediaType'));
  images.resumeSeq(num(record, 'seq'));
  // The size as stored (an index's is its largest child's at its push), not computed again.
  const image: StoredImage = newImage(
    repository,
    manifest,
    { ...parsed, isIndex: false, sizeInBytes: num(record, 'size') },
    num(record, 'pushedAt'),
    record.tags as string[],
  );
  const lastPulledAt = optionalNum(record, 'lastPulledAt');
  if (lastPulledAt !== undefined) image.lastPulledAt = lastPulledAt;
  image.status = record.status as ImageStatus;
  for (const field of ['lastArchivedAt', 'lastActivatedAt', 'activatesAt'] as const) {
    const time = optionalNum(record, field);
    if (time !== undefined) image[field] = time;
  }
  if (record.scan !== undefined) image.scan = record.scan as ImageScan;
  const lastScanStartedAt = optionalNum(record, 'lastScanStartedAt');
  if (lastScanStartedAt !== undefined) image.lastScanStartedAt = lastScanStartedAt;
  if (record.attachedFindings !== undefined) image.attachedFindings = record.attachedFindings as FindingsSet;
  images.add(image);
}

/** An ECR Public registry as one snapshot line (a logo as base64). */
function publicRecord(state: PublicRegistryState): JournalRecord {
  return {
    k: 'public',
    a: state.account,
    seq: state.seqToCome,
    displayName: state.displayName,
    repositories: [...state.repositories.values()].map((repository) => ({
      name: repository.name,
      seq: repository.seq,
      createdAt: repository.createdAt,
      catalog:
        repository.catalog === undefined
          ? undefined
          : { ...repository.catalog, logo: repository.catalog.logo?.toString('base64') },
      policyText: repository.policyText,
      tags: entries(repository.tags),
      layers: entries(repository.content.layers),
      tagTimes: entries(repository.tagTimes),
      imageSeq: repository.content.images.seqToCome,
    })),
  };
}

/**
 * Restores a `public` line: the registry and its repositories, whose images follow as `public-image` lines (their
 * image numbering resumes once those are in: `imageSeq` of each is returned by name).
 */
function restorePublic(
  registry: Registry,
  record: JournalRecord,
): { state: PublicRegistryState; imageSeq: Map<string, number> } {
  if (typeof record.a !== 'string' || !Array.isArray(record.repositories)) throw new Error('a malformed public record');
  const state = registry.publicRegistries.state(record.a);
  const imageSeq = new Map<string, number>();
  state.displayName = typeof record.displayName === 'string' ? record.displayName : '';
  for (const item of record.repositories as JournalRecord[]) {
    const catalog = item.catalog as (Omit<PublicCatalogRecord, 'logo'> & { logo?: string }) | undefined;
    const content = newPublicContent(state, item.name as string, item.createdAt as number, item.seq as number);
    state.repositories.set(item.name as string, {
      name: item.name as string,
      seq: item.seq as number,
      createdAt: item.createdAt as number,
      catalog:
        catalog === undefined
          ? undefined
          : {
              ...catalog,
              logo: typeof catalog.logo === 'string' ? Buffer.from(catalog.logo, 'base64') : undefined,
            },
      policyText: item.policyText as string | undefined,
      tags: new Map(item.tags as [string, string][]),
      content,
      tagTimes: new Map(item.tagTimes === undefined ? [] : pairs<number>(item, 'tagTimes')),
    });
    // A snapshot of a registry that served no public images has none of these three.
    if (item.layers !== undefined)
      for (const [digest, size] of pairs<number>(item, 'layers')) content.layers.set(digest, size);
    imageSeq.set(content.name, optionalNum(item, 'imageSeq') ?? 1);
  }
  state.resumeSeq(num(record, 'seq'));
  return { state, imageSeq };
}

/** Writes the registry's state to `path` atomically (temporary file, flush, rename, directory flush). */
export function writeSnapshot(path: string, registry: Registry, header: SnapshotHeader): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  const counts = { states: 0, repositories: 0, images: 0 };
  try {
    const out = new LineWriter(fd);
    out.line({ k: 'snapshot', v: 1, g: header.generation, clockOffset: header.clockOffset });
    for (const state of registry.all()) {
      counts.states++;
      out.line({
        k: 'state',
        a: state.account,
        r: state.region,
        repositorySeq: state.repositorySeqToCome,
        scanning: state.scanning,
        replication: state.replication,
        pullThroughCacheRules: entries(state.pullThroughCacheRules),
        creationTemplates: entries(state.creationTemplates),
        registryPolicyText: state.registryPolicyText,
        scansPerDay: entries(state.scansPerDay),
        pendingFindings: entries(state.pendingFindings),
        pullTimeExclusions: entries(state.pullTimeExclusions),
      });
      for (const repository of state.repositories.values()) {
        counts.repositories++;
        out.line({
          k: 'repository',
          name: repository.name,
          createdAt: repository.createdAt,
          seq: repository.seq,
          imageTagMutability: repository.imageTagMutability,
          imageTagMutabilityExclusionFilters: repository.imageTagMutabilityExclusionFilters,
          scanOnPush: repository.scanOnPush,
          encryption: repository.encryption,
          tags: entries(repository.tags),
          policyText: repository.policyText,
          lifecyclePolicyText: repository.lifecyclePolicyText,
          lifecyclePolicyUpdatedAt: repository.lifecyclePolicyUpdatedAt,
          lifecyclePolicyEvaluatedAt: repository.lifecyclePolicyEvaluatedAt,
          lifecyclePreview: repository.lifecyclePreview,
          layers: entries(repository.layers),
          imageSeq: repository.images.seqToCome,
        });
        for (const image of repository.images.after(0)) {
          counts.images++;
          out.line(imageLine(image));
        }
      }
    }
    let publicRegistries = 0;
    let publicImages = 0;
    for (const publicState of registry.publicRegistries.all()) {
      publicRegistries++;
      out.line(publicRecord(publicState));
      for (const repository of publicState.repositories.values()) {
        for (const image of repository.content.images.after(0)) {
          publicImages++;
          out.line({ ...imageLine(image), k: 'public-image', repository: repository.name });
        }
      }
    }
    // Workloads (ECS and Lambda, as fixtures declared them) are plain JSON records: written as they are.
    let workloads = 0;
    for (const state of registry.workloads.all()) {
      workloads++;
      out.line({ ...state, k: 'workloads' });
    }
    // Roles and the organization (as fixtures declared them), one plain JSON record when there are any.
    const identity = registry.identity.record();
    if (identity) out.line({ ...identity, k: 'identity' });
    // S3's buckets, each followed by its objects in key order (bodies as base64).
    let s3Buckets = 0;
    let s3Objects = 0;
    for (const bucket of registry.storage.all()) {
      s3Buckets++;
      out.line({ ...ObjectStorage.bucketRecord(bucket), k: 's3-bucket' });
      for (const key of bucket.keys) {
        const object = bucket.objects.get(key);
        if (!object) continue;
        s3Objects++;
        out.line({ ...ObjectStorage.objectRecord(bucket, object), k: 's3-object' });
      }
    }
    out.line({
      k: 'end',
      ...counts,
      publicRegistries,
      publicImages,
      workloads,
      identity: identity ? 1 : 0,
      s3Buckets,
      s3Objects,
    });
    out.flush();
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  syncDirectory(dirname(path));
}

/** Thrown for a snapshot that cannot be read back. */
export class SnapshotFileError extends Error {
  constructor(path: string, line: number, reason: string) {
    super(`The snapshot ${path} cannot be read at line ${line}: ${reason}`);
  }
}

const num = (record: JournalRecord, key: string): number => {
  const value = record[key];
  if (typeof value !== 'number') throw new Error(`no ${key}`);
  return value;
};
const optionalNum = (record: JournalRecord, key: string): number | undefined =>
  record[key] === undefined ? undefined : num(record, key);
const optionalStr = (record: JournalRecord, key: string): string | undefined => {
  const value = record[key];
  if (value !== undefined && typeof value !== 'string') throw new Error(`${key} is not a string`);
  return value;
};
const pairs = <V>(record: JournalRecord, key: string): [string, V][] => {
  const value = record[key];
  if (!Array.isArray(value)) throw new Error(`no ${key}`);
  return value as [string, V][];
};

/**
 * Restores the state a snapshot holds into an empty `registry`; undefined when there is no snapshot. Anything that
 * does not read back is `SnapshotFileError` (the snapshot is written whole or not at all, so this is not a kill).
 */
export function readSnapshot(path: string, registry: Registry): SnapshotHeader | undefined {
  let header: SnapshotHeader | undefined;
  let state: { state: RegistryState; repositorySeq: number } | undefined;
  let repository: { repository: RepositoryRecord; imageSeq: number } | undefined;
  let ended = false;
  const counts = {
    states: 0,
    repositories: 0,
    images: 0,
    publicRegistries: 0,
    publicImages: 0,
    workloads: 0,
    identity: 0,
    s3Buckets: 0,
    s3Objects: 0,
  };
  let publicState: { state: PublicRegistryState; imageSeq: Map<string, number> } | undefined;
  const finishPublic = () => {
    if (!publicState) return;
    for (const [name, seq] of publicState.imageSeq)
      publicState.state.repositories.get(name)?.content.images.resumeSeq(seq);
    publicState = undefined;
  };
  // Records get back their own seq (images come in seq order); the next seq to give is restored once they are in.
  const finishRepository = () => {
    if (!state || !repository) return;
    repository.repository.images.resumeSeq(repository.imageSeq);
    state.state.repositories.set(repository.repository.name, repository.repository);
    repository = undefined;
  };
  const finishState = () => {
    finishRepository();
    state?.state.resumeRepositorySeq(state.repositorySeq);
    state = undefined;
  };
  let line = 0;
  try {
    for (const entry of journalRecords(path, (torn) => {
      throw new SnapshotFileError(path, torn, 'the file ends in the middle of a line');
    })) {
      line = entry.line;
      const record = entry.record;
      if (ended) throw new Error('records after the end');
      if (header === undefined && record.k !== 'snapshot') throw new Error('no snapshot header');
      switch (record.k) {
        case 'snapshot':
          if (header !== undefined || record.v !== 1) throw new Error('not a version 1 snapshot header');
          header = { generation: num(record, 'g'), clockOffset: num(record, 'clockOffset') };
          break;
        case 'state': {
          finishState();
          counts.states++;
          const restored = registry.state(String(record.a), String(record.r));
          state = { state: restored, repositorySeq: num(record, 'repositorySeq') };
          restored.scanning = record.scanning as RegistryState['scanning'];
          restored.replication = record.replication as RegistryState['replication'];
          for (const [key, value] of pairs<StoredPullThroughCacheRule>(record, 'pullThroughCacheRules')) {
            restored.pullThroughCacheRules.set(key, value);
          }
          for (const [key, value] of pairs<StoredCreationTemplate>(record, 'creationTemplates')) {
            restored.creationTemplates.set(key, value);
          }
          restored.registryPolicyText = optionalStr(record, 'registryPolicyText');
          for (const [key, value] of pairs<number>(record, 'scansPerDay')) restored.scansPerDay.set(key, value);
          for (const [key, value] of pairs<FindingsSet>(record, 'pendingFindings')) {
            restored.pendingFindings.set(key, value);
          }
          for (const [key, value] of pairs<number>(record, 'pullTimeExclusions')) {
            restored.pullTimeExclusions.set(key, value);
          }
          break;
        }
        case 'repository': {
          if (!state) throw new Error('a repository before its state');
          finishRepository();
          counts.repositories++;
          const restored: RepositoryRecord = {
            ...newRepository(state.state, String(record.name), num(record, 'createdAt'), {
              imageTagMutability: record.imageTagMutability as RepositoryRecord['imageTagMutability'],
              imageTagMutabilityExclusionFilters:
                record.imageTagMutabilityExclusionFilters as RepositoryRecord['imageTagMutabilityExclusionFilters'],
              scanOnPush: record.scanOnPush === true,
              encryption: record.encryption as RepositoryRecord['encryption'],
              tags: pairs<string>(record, 'tags'),
            }),
            seq: num(record, 'seq'),
          };
          const policyText = optionalStr(record, 'policyText');
          if (policyText !== undefined) restored.policyText = policyText;
          const lifecyclePolicyText = optionalStr(record, 'lifecyclePolicyText');
          if (lifecyclePolicyText !== undefined) restored.lifecyclePolicyText = lifecyclePolicyText;
          const lifecyclePolicyUpdatedAt = optionalNum(record, 'lifecyclePolicyUpdatedAt');
          if (lifecyclePolicyUpdatedAt !== undefined) restored.lifecyclePolicyUpdatedAt = lifecyclePolicyUpdatedAt;
          const lifecyclePolicyEvaluatedAt = optionalNum(record, 'lifecyclePolicyEvaluatedAt');
          if (lifecyclePolicyEvaluatedAt !== undefined) {
            restored.lifecyclePolicyEvaluatedAt = lifecyclePolicyEvaluatedAt;
          }
          if (record.lifecyclePreview !== undefined) {
            restored.lifecyclePreview = record.lifecyclePreview as unknown as LifecyclePreviewRecord;
          }
          for (const [digest, size] of pairs<number>(record, 'layers')) restored.layers.set(digest, size);
          repository = { repository: restored, imageSeq: num(record, 'imageSeq') };
          break;
        }
        case 'image': {
          if (!repository) throw new Error('an image before its repository');
          counts.images++;
          restoreImage(repository.repository, record);
          break;
        }
        case 'public-image': {
          const owner = publicState?.state.repositories.get(String(record.repository));
          if (!owner) throw new Error('a public image before its public repository');
          counts.publicImages++;
          restoreImage(owner.content, record);
          break;
        }
        case 'public':
          finishState();
          finishPublic();
          publicState = restorePublic(registry, record);
          counts.publicRegistries++;
          break;
        case 'workloads': {
          finishState();
          finishPublic();
          const { k: _k, ...state } = record;
          if (
            typeof state.account !== 'string' ||
            typeof state.region !== 'string' ||
            !Array.isArray(state.clusters) ||
            !Array.isArray(state.taskDefinitions) ||
            !Array.isArray(state.functions)
          ) {
            throw new Error('a workloads record without its account, region, clusters, task definitions or functions');
          }
          registry.workloads.restore(state as unknown as WorkloadState);
          counts.workloads++;
          break;
        }
        case 'identity': {
          finishState();
          finishPublic();
          const { k: _k, ...identity } = record;
          if (!Array.isArray(identity.roles)) throw new Error('an identity record without its roles');
          registry.identity.restore(identity as unknown as IdentityRecord);
          counts.identity++;
          break;
        }
        case 's3-bucket': {
          finishState();
          finishPublic();
          const { k: _k, ...bucket } = record;
          registry.storage.restoreBucket(bucket as unknown as BucketRecord);
          counts.s3Buckets++;
          break;
        }
        case 's3-object': {
          const { k: _k, ...object } = record;
          registry.storage.restoreObject(object as unknown as ObjectRecord);
          counts.s3Objects++;
          break;
        }
        case 'end':
          finishState();
          finishPublic();
          if ((record.s3Buckets ?? 0) !== counts.s3Buckets || (record.s3Objects ?? 0) !== counts.s3Objects) {
            throw new Error('the counts at its end do not match its records');
          }
          if ((record.workloads ?? 0) !== counts.workloads || (record.identity ?? 0) !== counts.identity) {
            throw new Error('the counts at its end do not match its records');
          }
          if (
            (record.publicRegistries ?? 0) !== counts.publicRegistries ||
            (record.publicImages ?? 0) !== counts.publicImages
          ) {
            throw new Error('the counts at its end do not match its records');
          }
          if (record.states !== counts.states || record.repositories !== counts.repositories) {
            throw new Error('the counts at its end do not match its records');
          }
          if (record.images !== counts.images) throw new Error('the counts at its end do not match its records');
          ended = true;
          break;
        default:
          throw new Error(`unknown record kind '${record.k}'`);
      }
    }
  } catch (error) {
    if (error instanceof SnapshotFileError) throw error;
    throw new SnapshotFileError(path, line, error instanceof Error ? error.message : String(error));
  }
  if (header === undefined) return undefined;
  if (!ended) throw new SnapshotFileError(path, line, 'no end record');
  return header;
}
