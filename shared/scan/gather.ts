import type { EcrGateway } from '../ecr/index.ts';
import type { InspectorFindingDetail } from '../events/schemas.ts';
import {
  type EnhancedFindingInput,
  fromBasicFinding,
  fromEnhancedFinding,
  type ScanFinding,
} from '../policy/scan/findings.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const HUMAN_TIME = /^([A-Z][a-z]{2}) (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2}) ?(AM|PM)$/;

/**
 * An Inspector event timestamp, as epoch ms. The documented example has human strings ("Dec 3, 2021, 6:02:30 PM",
 * docs/ecr-limits.md#inspector-events); ISO strings are accepted too. UNCONFIRMED: the human form names no zone; it
 * is read as UTC.
 */
export function parseInspectorTime(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const human = HUMAN_TIME.exec(text.trim());
  if (human) {
    const [, month, day, year, hour, minute, second, half] = human;
    const monthIndex = MONTHS.indexOf(month as string);
    if (monthIndex < 0) return undefined;
    const hours = (Number(hour) % 12) + (half === 'PM' ? 12 : 0);
    return Date.UTC(Number(year), monthIndex, Number(day), hours, Number(minute), Number(second));
  }
  const parsed = Date.parse(text);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** `arn:aws:ecr:<region>:<account>:repository/<name>` → `<name>`; a plain name is returned as it is. */
export function repositoryNameOf(nameOrArn: string): string {
  const match = /^arn:[^:]+:ecr:[^:]*:[^:]*:repository\/(.+)$/.exec(nameOrArn);
  return match ? (match[1] as string) : nameOrArn;
}

/** The ECR image an "Inspector2 Finding" is about, or undefined when it is about something else (an EC2, a Lambda). */
export function imageOfFinding(
  detail: InspectorFindingDetail,
): { repositoryName: string; digest: string; tags: string[] } | undefined {
  for (const resource of detail.resources) {
    const image = resource.details?.awsEcrContainerImage;
    if (resource.type === 'AWS_ECR_CONTAINER_IMAGE' && image) {
      return { repositoryName: image.repositoryName, digest: image.imageHash, tags: image.imageTags ?? [] };
    }
  }
  return undefined;
}

/** The event's finding in the gateway's enhanced-finding shape, with `firstObservedAt` for telling a new one. */
export function findingOfEvent(detail: InspectorFindingDetail): EnhancedFindingInput & { firstObservedAt?: number } {
  const updatedAt = parseInspectorTime(detail.updatedAt);
  const firstObservedAt = parseInspectorTime(detail.firstObservedAt);
  const details = detail.packageVulnerabilityDetails;
  return {
    findingArn: detail.findingArn,
    severity: detail.severity,
    status: detail.status,
    ...(detail.title === undefined ? {} : { title: detail.title }),
    ...(detail.inspectorScore === undefined ? {} : { score: detail.inspectorScore }),
    ...(details === undefined ? {} : { vulnerabilityId: details.vulnerabilityId }),
    packages: (details?.vulnerablePackages ?? []).map((p) => ({
      name: p.name,
      ...(p.version === undefined ? {} : { version: p.version }),
      ...(p.fixedInVersion === undefined ? {} : { fixedInVersion: p.fixedInVersion }),
    })),
    ...(detail.fixAvailable === undefined ? {} : { fixAvailable: detail.fixAvailable }),
    ...(detail.exploitAvailable === undefined ? {} : { exploitAvailable: detail.exploitAvailable }),
    ...(updatedAt === undefined ? {} : { updatedAt }),
    ...(firstObservedAt === undefined ? {} : { firstObservedAt }),
  };
}

/** What ECR reports about an image's latest scan, every page read. */
export interface GatheredScan {
  status: string;
  description?: string;
  completedAt?: number;
  findings: ScanFinding[];
  enhanced: boolean;
}

/**
 * Reads every page of an image's scan findings (DescribeImageScanFindings, basic and enhanced lists). Throws the
 * gateway's errors (`ScanNotFoundError` when never scanned, `ImageNotFoundError`, `RepositoryNotFoundError`).
 */
export async function gatherScan(gateway: EcrGateway, repositoryName: string, digest: string): Promise<GatheredScan> {
  const findings: ScanFinding[] = [];
  let status = 'UNKNOWN';
  let description: string | undefined;
  let completedAt: number | undefined;
  let enhanced = false;
  for await (const page of gateway.getScanFindings(repositoryName, digest)) {
    status = page.status;
    description = page.statusDescription;
    completedAt = page.completedAt;
    for (const finding of page.findings) findings.push(fromBasicFinding(finding));
    for (const finding of page.enhancedFindings) findings.push(fromEnhancedFinding(finding));
    if (page.enhancedFindings.length > 0) enhanced = true;
  }
  return {
    status,
    ...(description === undefined ? {} : { description }),
    ...(completedAt === undefined ? {} : { completedAt }),
    findings,
    enhanced,
  };
}
