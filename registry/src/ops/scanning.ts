import { imageStatus } from '../model/image-store.ts';
import { MEDIA_TYPES } from '../model/manifests.ts';
import type {
  FindingsSet,
  ImageScan,
  RegistryState,
  RepositoryRecord,
  StoredImage,
  StoredScanningRule,
} from '../model/state.ts';
import { wildcardMatches } from '../model/wildcard.ts';
import { constraintMessage, EcrException, formatImageId, invalidParameter, validationError } from '../wire/errors.ts';
import { Input, type ListRule, MAX_RESULTS, REPOSITORY_NAME, type StringRule } from '../wire/validate.ts';
import { decodeToken, encodeToken, requireRepository, stateFor, toEpochSeconds } from './common.ts';
import type { OpContext, OperationTable } from './context.ts';
import { answerImageId, findImage, type ImageId, readImageId, repositoryState } from './image-ids.ts';

/** Basic scans of one image: one per 24 h, scan on push included ([M-ECR] StartImageScan doc, [UG-QUOTA]). */
export const SCAN_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** Basic scans per account and region per 24 h ([UG-QUOTA]); counted per UTC day here. */
export const MAX_BASIC_SCANS_PER_DAY = 100_000;
/** DescribeImageScanFindings page when `maxResults` is omitted ([M-ECR] member doc: "up to 100 results"). */
const DEFAULT_FINDINGS_PAGE = 100;

const SCAN_TYPES = ['BASIC', 'ENHANCED'] as const;
const SCAN_FREQUENCIES = ['SCAN_ON_PUSH', 'CONTINUOUS_SCAN', 'MANUAL'] as const;
/** Frequencies each scan type supports ([M-ECR] `RegistryScanningRule.scanFrequency` doc). */
const SUPPORTED_FREQUENCIES: Record<ScanType, readonly ScanFrequency[]> = {
  BASIC: ['SCAN_ON_PUSH'],
  ENHANCED: ['SCAN_ON_PUSH', 'CONTINUOUS_SCAN'],
};
const SCANNING_RULES: ListRule = { min: 0, max: 2 };
const SCANNING_FILTERS: ListRule = { min: 0, max: 100 };
export const SCANNING_FILTER_VALUE: StringRule = {
  min: 1,
  max: 255,
  // The language of ECR's pattern (patternText), written so that it cannot backtrack: ECR's form can split a run of
  // a-z 0-9 * in exponentially many ways (a 29-character filter took minutes to refuse).
  pattern: /^[a-z0-9*]+(?:[._\-/][a-z0-9*]+)*$/,
  patternText: '^[a-z0-9*](?:[._\\-/a-z0-9*]?[a-z0-9*]+)*$',
};
const SCANNING_REPOSITORY_NAMES: ListRule = { min: 1, max: 25 };

/** `FindingSeverity`, in the order ECR's event sample lists the counts. */
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'] as const;
/** Image configs that mark a manifest as a container image (anything else is an artifact). */
const IMAGE_CONFIG_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig]);
/** UNCONFIRMED: basic scanning is documented for Docker v2 and OCI image manifests only, so schema 1 is refused. */
const SCANNABLE_MANIFEST_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);

const IN_PROGRESS_DESCRIPTION = 'The scan is in progress.';
const COMPLETE_DESCRIPTION = 'The scan was completed successfully.';

type ScanType = (typeof SCAN_TYPES)[number];
type ScanFrequency = (typeof SCAN_FREQUENCIES)[number];
type ScanningFilter = StoredScanningRule['repositoryFilters'][number];

// Errors with ECR's messages

const perImageQuota = () =>
  new EcrException('LimitExceededException', 'The scan quota per image has been exceeded. Wait and then try again.');

const registryQuota = (registryId: string) =>
  new EcrException(
    'LimitExceededException',
    `The basic scan quota of ${MAX_BASIC_SCANS_PER_DAY} scans per day for the registry with id '${registryId}' has been exceeded. Wait and then try again.`,
  );

/**
 * Manual scans do not exist under ENHANCED scanning ([UG-ENH]). The model lists `ValidationException` for
 * StartImageScan (added with enhanced scanning), which fits a request the registry's configuration rules out.
 */
const manualScanUnderEnhanced = (registryId: string) =>
  validationError(
    `Manual scans are not supported for the registry with id '${registryId}': its scanning configuration uses scan type ENHANCED`,
  );

const unsupportedImage = (image: StoredImage, repository: RepositoryRecord) =>
  new EcrException(
    'UnsupportedImageTypeException',
    `The image with digest '${image.digest}' in the repository with name '${repository.name}' in the registry with id '${repository.registryId}' is of a type that cannot be scanned (${image.artifactMediaType ?? image.manifestMediaType})`,
  );

const imageArchived = (id: ImageId, repository: RepositoryRecord) =>
  new EcrException(
    'ImageArchivedException',
    `The image with imageId ${formatImageId(id)} in the repository with name '${repository.name}' in the registry with id '${repository.registryId}' is archived and cannot be scanned`,
  );

const scanNotFound = (id: ImageId, repository: RepositoryRecord) =>
  new EcrException(
    'ScanNotFoundException',
    `Image scan does not exist for the image with '${formatImageId(id)}' in the repository with name '${repository.name}' in the registry with id '${repository.registryId}'`,
  );

// Scanning rules

/** A WILDCARD filter: without `*` it matches names that contain it; `*` matches any run of characters ([UG-ENH]). */
export function filterMatches(filter: string, repositoryName: string): boolean {
  if (!filter.includes('*')) return repositoryName.includes(filter);
  return wildcardMatches(filter.split('*'), repositoryName);
}

function matchingFilters(state: RegistryState, frequency: ScanFrequency, repositoryName: string): ScanningFilter[] {
  return state.scanning.rules
    .filter((rule) => rule.scanFrequency === frequency)
    .flatMap((rule) => rule.repositoryFilters.filter((filter) => filterMatches(filter.filter, repositoryName)));
}

interface EffectiveScanning {
  scanFrequency: ScanFrequency;
  appliedScanFilters: ScanningFilter[];
}

/**
 * How a repository is scanned: under BASIC, on push when the repository asks for it or a SCAN_ON_PUSH rule
 * matches, else manually; under ENHANCED, by the matching rule (continuous first) and the repository flag is
 * ignored, as the registry configuration supersedes it ([M-ECR] CreateRepository `imageScanningConfiguration` doc).
 */
function effectiveScanning(state: RegistryState, repository: RepositoryRecord): EffectiveScanning {
  if (state.scanning.scanType === 'ENHANCED') {
    const continuous = matchingFilters(state, 'CONTINUOUS_SCAN', repository.name);
    if (continuous.length > 0) return { scanFrequency: 'CONTINUOUS_SCAN', appliedScanFilters: continuous };
  }
  const onPush = matchingFilters(state, 'SCAN_ON_PUSH', repository.name);
  const repositoryFlag = state.scanning.scanType === 'BASIC' && repository.scanOnPush;
  if (onPush.length > 0 || repositoryFlag) return { scanFrequency: 'SCAN_ON_PUSH', appliedScanFilters: onPush };
  return { scanFrequency: 'MANUAL', appliedScanFilters: [] };
}

const scanningConfigurationShape = (state: RegistryState) => ({
  scanType: state.scanning.scanType,
  rules: state.scanning.rules.map((rule) => ({
    scanFrequency: rule.scanFrequency,
    repositoryFilters: rule.repositoryFilters.map((filter) => ({ ...filter })),
  })),
});

function readScanningRule(rule: Input, scanType: ScanType): StoredScanningRule {
  const scanFrequency = rule.str('scanFrequency', { required: true, enum: SCAN_FREQUENCIES }) as ScanFrequency;
  const repositoryFilters = rule.objList('repositoryFilters', { ...SCANNING_FILTERS, required: true }).map((item) => ({
    filter: item.str('filter', { ...SCANNING_FILTER_VALUE, required: true }),
    filterType: item.str('filterType', { required: true, enum: ['WILDCARD'] }) as 'WILDCARD',
  }));
  if (!SUPPORTED_FREQUENCIES[scanType].includes(scanFrequency)) {
    throw rule.fail(
      constraintMessage(
        `${rule.path}.scanFrequency`,
        `Scan frequency ${scanFrequency} is not supported with scan type ${scanType}; use ${SUPPORTED_FREQUENCIES[scanType].join(' or ')}`,
      ),
    );
  }
  return { scanFrequency, repositoryFilters };
}

function getRegistryScanningConfiguration(raw: Record<string, unknown>, ctx: OpContext) {
  Input.parse(raw, validationError);
  return { registryId: ctx.state.account, scanningConfiguration: scanningConfigurationShape(ctx.state) };
}

/**
 * Replaces the registry's scanning configuration. An omitted `scanType` means BASIC and omitted `rules` none
 * (UNCONFIRMED: the call is documented as "creates or updates"; BASIC is the documented default).
 */
function putRegistryScanningConfiguration(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const scanType = (input.str('scanType', { enum: SCAN_TYPES }) as ScanType | undefined) ?? 'BASIC';
  const rules = (input.objList('rules', SCANNING_RULES) ?? []).map((rule) => readScanningRule(rule, scanType));
  ctx.state.scanning = { scanType, rules };
  return { registryScanningConfiguration: scanningConfigurationShape(ctx.state) };
}

function batchGetRepositoryScanningConfiguration(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw, validationError);
  const names = input.strList('repositoryNames', { ...SCANNING_REPOSITORY_NAMES, required: true }, REPOSITORY_NAME);
  const state = ctx.state;
  const scanningConfigurations: Record<string, unknown>[] = [];
  const failures: Record<string, unknown>[] = [];
  for (const name of new Set(names)) {
    const repository = state.repositories.get(name);
    if (!repository) {
      failures.push({
        repositoryName: name,
        failureCode: 'REPOSITORY_NOT_FOUND',
        failureReason: `The repository with name '${name}' does not exist in the registry with id '${state.account}'`,
      });
      continue;
    }
    const { scanFrequency, appliedScanFilters } = effectiveScanning(state, repository);
    scanningConfigurations.push({
      repositoryArn: repository.arn,
      repositoryName: repository.name,
      scanOnPush: scanFrequency === 'SCAN_ON_PUSH',
      scanFrequency,
      appliedScanFilters: appliedScanFilters.map((filter) => ({ ...filter })),
    });
  }
  return { scanningConfigurations, failures };
}

// Scans

/** An image manifest with config and at least one layer; indexes and artifacts (SBOMs, signatures) are not scanned. */
function isScannableImage(image: StoredImage): boolean {
  if (!SCANNABLE_MANIFEST_TYPES.has(image.manifestMediaType)) return false;
  if (image.artifactType !== undefined || !IMAGE_CONFIG_TYPES.has(image.artifactMediaType ?? '')) return false;
  try {
    const layers = (JSON.parse(image.manifest) as { layers?: unknown }).layers;
    return Array.isArray(layers) && layers.length > 0;
  } catch {
    return false;
  }
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Throws when the image or the registry has used up its basic scans. */
function checkScanQuotas(state: RegistryState, image: StoredImage, now: number): void {
  if (image.lastScanStartedAt !== undefined && now - image.lastScanStartedAt < SCAN_INTERVAL_MS) throw perImageQuota();
  if ((state.scansPerDay.get(utcDay(now)) ?? 0) >= MAX_BASIC_SCANS_PER_DAY) throw registryQuota(state.account);
}

function countScan(state: RegistryState, now: number): void {
  const day = utcDay(now);
  for (const key of state.scansPerDay.keys()) if (key !== day) state.scansPerDay.delete(key);
  state.scansPerDay.set(day, (state.scansPerDay.get(day) ?? 0) + 1);
}

const severityOf = (finding: Record<string, unknown>): (typeof SEVERITIES)[number] => {
  const severity = SEVERITIES.find((known) => known === finding.severity);
  // Enhanced (Inspector) severities include UNTRIAGED, which has no basic equivalent (UNCONFIRMED mapping).
  return severity ?? 'UNDEFINED';
};

/** `findingSeverityCounts`: basic and enhanced findings together, zero counts left out ([UG-EB], [M-ECR]). */
function severityCounts(findings: FindingsSet): Record<string, number> {
  const counts = new Map<string, number>();
  for (const finding of [...findings.findings, ...findings.enhancedFindings]) {
    const severity = severityOf(finding);
    counts.set(severity, (counts.get(severity) ?? 0) + 1);
  }
  return Object.fromEntries(SEVERITIES.filter((severity) => counts.has(severity)).map((s) => [s, counts.get(s) ?? 0]));
}

/** Completes a scan with the findings attached to the image; a scan whose image is gone (or rescanned) just ends. */
function completeScan(ctx: OpContext, repository: RepositoryRecord, image: StoredImage, scan: ImageScan): void {
  const state = repositoryState(ctx, repository);
  const stillStored = state.repositories.get(repository.name) === repository && repository.images.get(image.digest);
  if (!stillStored || image.scan !== scan) return;
  const attached = image.attachedFindings;
  scan.findings = {
    findings: [...(attached?.findings ?? [])],
    enhancedFindings: [...(attached?.enhancedFindings ?? [])],
  };
  scan.status = 'COMPLETE';
  scan.description = COMPLETE_DESCRIPTION;
  scan.completedAt = ctx.now();
  ctx.emit({
    detailType: 'ECR Image Scan',
    detail: {
      'scan-status': 'COMPLETE',
      'repository-name': repository.name,
      'finding-severity-counts': severityCounts(scan.findings),
      'image-digest': image.digest,
      'image-tags': [...image.tags],
    },
    resources: [repository.arn],
  });
}

/** Starts a basic scan (quotas already checked); it completes after `scanDurationMs`. */
function beginScan(ctx: OpContext, state: RegistryState, repository: RepositoryRecord, image: StoredImage): ImageScan {
  const now = ctx.now();
  const scan: ImageScan = {
    status: 'IN_PROGRESS',
    description: IN_PROGRESS_DESCRIPTION,
    startedAt: now,
    findings: { findings: [], enhancedFindings: [] },
  };
  image.scan = scan;
  image.lastScanStartedAt = now;
  countScan(state, now);
  ctx.later(ctx.settings.scanDurationMs, () => completeScan(ctx, repository, image, scan));
  return scan;
}

/**
 * Called by PutImage after a new image is stored: starts a basic scan when the repository scans on push or a
 * registry scanning rule with SCAN_ON_PUSH covers it. Indexes and artifacts are skipped; an exhausted quota skips
 * the scan silently, as the push itself succeeded. Under ENHANCED, Inspector scans (not emulated).
 */
export function scanOnPushIfConfigured(ctx: OpContext, repository: RepositoryRecord, image: StoredImage): void {
  const state = repositoryState(ctx, repository);
  if (state.scanning.scanType !== 'BASIC') return;
  if (effectiveScanning(state, repository).scanFrequency !== 'SCAN_ON_PUSH') return;
  if (!isScannableImage(image)) return;
  try {
    checkScanQuotas(state, image, ctx.now());
  } catch {
    return;
  }
  beginScan(ctx, state, repository, image);
}

const scanStatusShape = (scan: ImageScan) => ({ status: scan.status, description: scan.description });

function startImageScan(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = input.str('repositoryName', { ...REPOSITORY_NAME, required: true });
  const imageId = readImageId(input);
  const repository = requireRepository(state, name);
  const image = findImage(repository, imageId);
  if (imageStatus(image, ctx.now()) !== 'ACTIVE') throw imageArchived(imageId, repository);
  if (state.scanning.scanType === 'ENHANCED') throw manualScanUnderEnhanced(state.account);
  if (!isScannableImage(image)) throw unsupportedImage(image, repository);
  checkScanQuotas(state, image, ctx.now());
  const scan = beginScan(ctx, state, repository, image);
  return {
    registryId: state.account,
    repositoryName: name,
    imageId: answerImageId(image, imageId),
    // ECR answers a started scan with its status alone: no description (that comes with DescribeImageScanFindings).
    imageScanStatus: { status: scan.status },
  };
}

/**
 * One page of a completed scan's findings. Basic findings come first, then enhanced ones, and `maxResults` counts
 * items of both lists, so that a token is one position in the combined list. `findings` is present when the scan
 * has basic findings or none at all; `enhancedFindings` when it has enhanced ones.
 */
function findingsPage(scan: ImageScan, start: number, limit: number) {
  const { findings, enhancedFindings } = scan.findings;
  const end = Math.min(start + limit, findings.length + enhancedFindings.length);
  const basicPage = findings.slice(Math.min(start, findings.length), Math.min(end, findings.length));
  const enhancedPage = enhancedFindings.slice(Math.max(start - findings.length, 0), Math.max(end - findings.length, 0));
  const page = {
    imageScanCompletedAt: toEpochSeconds(scan.completedAt),
    // UNCONFIRMED: no vulnerability database is emulated; the scan's completion stands for its last update.
    vulnerabilitySourceUpdatedAt: toEpochSeconds(scan.completedAt),
    findingSeverityCounts: severityCounts(scan.findings),
    ...(findings.length > 0 || enhancedFindings.length === 0 ? { findings: basicPage } : {}),
    ...(enhancedFindings.length > 0 ? { enhancedFindings: enhancedPage } : {}),
  };
  return { page, end, more: end < findings.length + enhancedFindings.length };
}

function describeImageScanFindings(raw: Record<string, unknown>, ctx: OpContext) {
  const input = Input.parse(raw);
  const state = stateFor(ctx, input);
  const name = input.str('repositoryName', { ...REPOSITORY_NAME, required: true });
  const imageId = readImageId(input);
  const nextToken = input.str('nextToken');
  const maxResults = input.num('maxResults', MAX_RESULTS);
  const repository = requireRepository(state, name);
  const image = findImage(repository, imageId);
  const scan = image.scan;
  if (!scan) throw scanNotFound(imageId, repository);
  const answer = {
    registryId: state.account,
    repositoryName: name,
    imageId: answerImageId(image, imageId),
    imageScanStatus: scanStatusShape(scan),
  };
  if (scan.status !== 'COMPLETE') return answer;
  const listing = 'DescribeImageScanFindings';
  const fingerprint = `${state.account}/${state.region}/${name}/${image.digest}/${scan.startedAt}`;
  const start = nextToken === undefined ? 0 : decodeToken(nextToken, listing, fingerprint);
  if (typeof start !== 'number') throw invalidParameter(constraintMessage('nextToken', 'Invalid NextToken'));
  const { page, end, more } = findingsPage(scan, start, maxResults ?? DEFAULT_FINDINGS_PAGE);
  return {
    ...answer,
    imageScanFindings: page,
    ...(more ? { nextToken: encodeToken(listing, fingerprint, end) } : {}),
  };
}

export const scanningOperations: OperationTable = {
  GetRegistryScanningConfiguration: getRegistryScanningConfiguration,
  PutRegistryScanningConfiguration: putRegistryScanningConfiguration,
  BatchGetRepositoryScanningConfiguration: batchGetRepositoryScanningConfiguration,
  StartImageScan: startImageScan,
  DescribeImageScanFindings: describeImageScanFindings,
};
