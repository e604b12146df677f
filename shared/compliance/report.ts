import type { ComplianceCheck, ComplianceFix } from '../policy/compliance/check.ts';

/** Lists in the report event are capped so the event stays well under EventBridge's 256 KB. */
export const REPORT_LIST_LIMIT = 200;

/** One repository's result; also the detail of its "Compliance Drift" event when the run changed it. */
export interface RepositoryCompliance {
  runId: string;
  repositoryName: string;
  mode: 'report' | 'enforce';
  ruleIndex: number;
  compliant: boolean;
  findings: { check: ComplianceCheck; reason: string; detail: string; fixable: boolean }[];
  /** Fixes ECR accepted (enforce mode, not dry run). */
  fixed: ComplianceFix['kind'][];
  /** Fixes ECR refused, with the error. */
  fixFailures: { fix: ComplianceFix['kind']; error: string }[];
}

/** The "Compliance Report" event's detail: one per run. */
export interface ComplianceReport {
  runId: string;
  dryRun: boolean;
  counts: {
    repositories: number;
    checked: number;
    compliant: number;
    nonCompliant: number;
    /** Repositories the run changed (enforce mode). */
    changed: number;
    fixFailures: number;
    /** Repositories deleted while the run was reading them. */
    gone: number;
  };
  /** Failing findings per check. */
  byCheck: Record<ComplianceCheck, number>;
  nonCompliant: RepositoryCompliance[];
  apiCalls: Record<string, number>;
  truncated: boolean;
}
