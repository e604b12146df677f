import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AllowListEntry } from '../shared/policy/scan/allow-list.ts';
import {
  type BasicFindingInput,
  type EnhancedFindingInput,
  fromBasicFinding,
  fromEnhancedFinding,
} from '../shared/policy/scan/findings.ts';
import { judgeScan } from '../shared/policy/scan/judge.ts';
import { DEFAULT_SCAN_POLICY } from '../shared/policy/scan/policy.ts';
import { emit, intEnv, progress, round } from './lib.ts';

/**
 * Judging one image with many findings: the work `on-scan-result` does between reading the last findings page and
 * publishing the verdict (normalising basic and enhanced findings, matching a 500-entry allow-list, thresholds,
 * sorting the blocking list). BENCH_SCAN_FINDINGS findings (default 10,000: half basic, half enhanced, every
 * severity), median of BENCH_SCAN_RUNS runs (default 21) after 5 warm-up runs; memory is the heap retained by the
 * findings and the judgement (after a full GC when node runs with --expose-gc).
 */
const FINDINGS = intEnv('BENCH_SCAN_FINDINGS', 10_000);
const RUNS = intEnv('BENCH_SCAN_RUNS', 21);
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'];
const NOW = Date.parse('2026-11-24T12:00:00Z');

const basic: BasicFindingInput[] = [];
const enhanced: EnhancedFindingInput[] = [];
for (let i = 0; i < FINDINGS; i++) {
  const severity = SEVERITIES[i % SEVERITIES.length] as string;
  const id = `CVE-2026-${10_000 + i}`;
  if (i % 2 === 0) {
    basic.push({
      name: id,
      severity,
      uri: `https://nvd.nist.gov/vuln/detail/${id}`,
      attributes: {
        package_name: `pkg-${i % 800}`,
        package_version: `1.${i % 7}.0`,
        CVSS3_SCORE: String((i % 100) / 10),
        ...(i % 3 === 0 ? { fixed_in_version: `1.${i % 7}.1` } : {}),
      },
    });
  } else {
    enhanced.push({
      findingArn: `arn:aws:inspector2:us-east-1:123456789012:finding/${i}`,
      severity,
      status: i % 50 === 1 ? 'CLOSED' : 'ACTIVE',
      score: (i % 100) / 10,
      vulnerabilityId: id,
      packages: [{ name: `pkg-${i % 800}`, version: `1.${i % 7}.0` }],
      fixAvailable: i % 3 === 0 ? 'YES' : 'NO',
      exploitAvailable: i % 11 === 0 ? 'YES' : 'NO',
      updatedAt: NOW - i * 1000,
    });
  }
}
const allowList: AllowListEntry[] = Array.from({ length: 500 }, (_, i) => ({
  id: `CVE-2026-${10_000 + i * 7}`,
  ...(i % 2 === 0 ? { package: `pkg-${(i * 7) % 800}` } : {}),
  ...(i % 5 === 0 ? { repositories: ['team/**'] } : {}),
  expires: i % 10 === 0 ? '2026-11-01' : '2027-01-31',
  owner: 'team',
  reason: 'bench',
}));
const policy = { ...DEFAULT_SCAN_POLICY, maxFindings: { CRITICAL: 0, HIGH: 0, MEDIUM: 10 }, cvssThreshold: 9 };

const judgeOnce = () =>
  judgeScan({
    findings: [...basic.map(fromBasicFinding), ...enhanced.map(fromEnhancedFinding)],
    policy,
    allowList,
    repositoryName: 'team/app',
    digest: `sha256:${'ab'.repeat(32)}`,
    now: NOW,
  });

// `npm run bench` starts node without --expose-gc: expose it here, so that the memory figure is live data only.
setFlagsFromString('--expose-gc');
const gc = (globalThis as { gc?: () => void }).gc ?? (runInNewContext('gc') as (() => void) | undefined);
progress(`scan-verdict: judging ${FINDINGS} findings, ${RUNS} runs`);
for (let i = 0; i < 5; i++) judgeOnce();
const times: number[] = [];
let last: ReturnType<typeof judgeOnce> | undefined;
for (let i = 0; i < RUNS; i++) {
  const started = performance.now();
  last = judgeOnce();
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)] as number;

gc?.();
const before = process.memoryUsage().heapUsed;
const kept = judgeOnce();
gc?.();
const retained = process.memoryUsage().heapUsed - before;

emit({
  name: 'scan_verdict_judge_ms',
  findings: FINDINGS,
  value: round(median, 2),
  unit: 'ms',
  goal: '< 100',
  p90: round(times[Math.floor(times.length * 0.9)] as number, 2),
  verdict: last?.verdict,
  blocking: last?.blocking.length,
  allowed: last?.allowed.length,
});
emit({
  name: 'scan_verdict_heap_retained_mb',
  findings: FINDINGS,
  value: round(retained / 1_048_576, 2),
  unit: 'MB',
  goal: 'report',
  gcExposed: gc !== undefined,
  counted: Object.values(kept.counts.counted).reduce((sum, n) => sum + n, 0),
});
