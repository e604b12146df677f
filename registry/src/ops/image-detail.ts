import type { RepositoryRecord, StoredImage } from '../model/state.ts';
import { JsonTextList } from '../wire/json-response.ts';
import { toEpochSeconds } from './common.ts';

/** DescribeImages' `ImageDetail`: as an object, and as its JSON text written straight from the stored record. */

/** Severity → count over a scan's findings, with only the severities found ([UG-EB], [M-ECR]). */
function severityCounts(image: StoredImage): Record<string, number> {
  const counts: Record<string, number> = {};
  const findings = [...(image.scan?.findings.findings ?? []), ...(image.scan?.findings.enhancedFindings ?? [])];
  for (const finding of findings) {
    const severity = finding.severity;
    if (typeof severity === 'string') counts[severity] = (counts[severity] ?? 0) + 1;
  }
  return counts;
}

/**
 * The `ImageDetail` shape, with only present members, in a fixed member order. The scan members: the status of the
 * last scan, and a summary once one has completed; the vulnerability database of the local scanner is as new as the
 * scan (`vulnerabilitySourceUpdatedAt`, UNCONFIRMED).
 */
export function toImageDetail(repository: RepositoryRecord, image: StoredImage): Record<string, unknown> {
  const detail: Record<string, unknown> = {
    registryId: repository.registryId,
    repositoryName: repository.name,
    imageDigest: image.digest,
  };
  if (image.tags.length > 0) detail.imageTags = image.tags.slice();
  detail.imageSizeInBytes = image.sizeInBytes;
  detail.imagePushedAt = image.pushedAt / 1000;
  const scan = image.scan;
  if (scan) {
    detail.imageScanStatus = { status: scan.status, description: scan.description };
    if (scan.status === 'COMPLETE' && scan.completedAt !== undefined) {
      detail.imageScanFindingsSummary = {
        imageScanCompletedAt: toEpochSeconds(scan.completedAt),
        vulnerabilitySourceUpdatedAt: toEpochSeconds(scan.completedAt),
        findingSeverityCounts: severityCounts(image),
      };
    }
  }
  detail.imageManifestMediaType = image.manifestMediaType;
  if (image.artifactMediaType !== undefined) detail.artifactMediaType = image.artifactMediaType;
  if (image.lastPulledAt !== undefined) detail.lastRecordedPullTime = image.lastPulledAt / 1000;
  if (image.subjectDigest !== undefined) detail.subjectManifestDigest = image.subjectDigest;
  detail.imageStatus = image.status;
  if (image.lastArchivedAt !== undefined) detail.lastArchivedAt = image.lastArchivedAt / 1000;
  if (image.lastActivatedAt !== undefined) detail.lastActivatedAt = image.lastActivatedAt / 1000;
  return detail;
}

/** A string JSON.stringify would write as is between quotes: no quote, backslash, control character or surrogate. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what JSON escapes.
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;
const quote = (text: string) => (PLAIN.test(text) ? `"${text}"` : JSON.stringify(text));
/** JSON.stringify of a number. */
const number = (value: number) => (Number.isFinite(value) ? String(value) : 'null');
/** `.5`, `.001`, ...: the fraction of a second each count of ms writes (String of 0.5 is `0.5`: no trailing zero). */
const FRACTIONS = Array.from({ length: 1000 }, (_, ms) => (ms === 0 ? '' : String(ms / 1000).slice(1)));
/**
 * JSON.stringify(ms / 1000) of a time in epoch ms, from its digits: String of a fraction goes through V8's number
 * string cache, which a page of a thousand distinct times only churns. Below 2^51 ms the seconds are below 2^42, where
 * doubles are less than 0.001 apart: the double nearest `ms / 1000` is nearer to that decimal than any other decimal of
 * as few digits, so the shortest text that reads back as it (what String and JSON write) is that decimal.
 */
export function secondsJson(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 2 ** 51) return number(ms / 1000);
  const whole = Math.floor(ms / 1000);
  return `${whole}${FRACTIONS[ms - whole * 1000]}`;
}

/**
 * `JSON.stringify(toImageDetail(repository, image))`, character for character, without building the object: a
 * DescribeImages page writes a thousand of these. `prefix` is the text of the repository's members. Images with a
 * scan (a few) and records of unexpected types take the object's way.
 */
export function imageDetailJson(repository: RepositoryRecord, prefix: string, image: StoredImage): string {
  const { digest, sizeInBytes, pushedAt, manifestMediaType, status, tags } = image;
  if (
    image.scan !== undefined ||
    image.lastArchivedAt !== undefined ||
    image.lastActivatedAt !== undefined ||
    typeof digest !== 'string' ||
    typeof sizeInBytes !== 'number' ||
    typeof pushedAt !== 'number' ||
    typeof manifestMediaType !== 'string' ||
    typeof status !== 'string' ||
    !Array.isArray(tags)
  ) {
    return JSON.stringify(toImageDetail(repository, image));
  }
  let text = `${prefix}${quote(digest)}`;
  if (tags.length > 0) {
    text += ',"imageTags":[';
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i];
      text += `${i === 0 ? '' : ','}${typeof tag === 'string' ? quote(tag) : (JSON.stringify(tag) ?? 'null')}`;
    }
    text += ']';
  }
  text += `,"imageSizeInBytes":${number(sizeInBytes)},"imagePushedAt":${secondsJson(pushedAt)}`;
  text += `,"imageManifestMediaType":${quote(manifestMediaType)}`;
  const { artifactMediaType, lastPulledAt, subjectDigest } = image;
  if (artifactMediaType !== undefined) text += `,"artifactMediaType":${JSON.stringify(artifactMediaType)}`;
  if (lastPulledAt !== undefined) text += `,"lastRecordedPullTime":${secondsJson(lastPulledAt)}`;
  if (subjectDigest !== undefined) text += `,"subjectManifestDigest":${JSON.stringify(subjectDigest)}`;
  return `${text},"imageStatus":${quote(status)}}`;
}

/** The `imageDetails` of a DescribeImages answer, as the JSON texts of its elements. */
export function imageDetailList(repository: RepositoryRecord, images: StoredImage[]): JsonTextList {
  const prefix = `{"registryId":${JSON.stringify(repository.registryId)},"repositoryName":${JSON.stringify(repository.name)},"imageDigest":`;
  const texts = new Array<string>(images.length);
  for (let i = 0; i < images.length; i++) texts[i] = imageDetailJson(repository, prefix, images[i] as StoredImage);
  return new JsonTextList(texts);
}
