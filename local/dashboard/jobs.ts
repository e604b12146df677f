import type { RegistryServer } from '@ecr-automation/local-registry';

/**
 * The scheduled jobs the dashboard may fire, and only in dry run. The server decides everything: the job is one of
 * this table, its Scheduled Event's detail is `{ dryRun: true }` (which turns dry run on whatever the config says,
 * and which no request can turn off: shared/config/dry-run.ts), and nothing of the request reaches the handler.
 */
export interface DashboardJob {
  /** The local rule name (`POST /_local/bus/fire` takes the same). */
  rule: string;
  title: string;
  /** Why it changes nothing: the detail it gets, or that it reads no registry at all. */
  dryRun: string;
}

/**
 * The manifest's scheduled functions the dashboard offers. `cleanupRunReport` is left out: it takes no dry run and
 * writes each finished run's report to the reports bucket once.
 */
export const DASHBOARD_JOBS: readonly DashboardJob[] = [
  {
    rule: 'scheduled-cleanup',
    title: 'Cleanup (plan only)',
    dryRun: 'detail { dryRun: true }: work items and reports in dry run, nothing deleted or archived',
  },
  {
    rule: 'scheduled-compliance',
    title: 'Compliance scan',
    dryRun: 'detail { dryRun: true }: findings reported, nothing fixed',
  },
  {
    rule: 'reconcile-registry',
    title: 'Registry reconcile',
    dryRun: 'detail { dryRun: true }: the plan reported, nothing applied',
  },
  {
    rule: 'allow-list-report',
    title: 'Allow-list report',
    dryRun: 'reads only the config: no registry call',
  },
];

/** What firing a job answers: its delivery, and the handler's result (bounded). */
export interface JobRun {
  job: string;
  dryRun: true;
  ok: boolean;
  attempts: number;
  error?: string;
  result?: unknown;
}

/** A result larger than this is answered without it. */
const MAX_RESULT_BYTES = 64 * 1024;

/** Runs of each job in flight: one at a time per job. */
export class JobRunner {
  private readonly running = new Set<string>();

  constructor(private readonly server: RegistryServer) {}

  /** The job of a rule name, or undefined (unknown names are not fired). */
  find(rule: string): DashboardJob | undefined {
    return DASHBOARD_JOBS.find((job) => job.rule === rule);
  }

  isRunning(rule: string): boolean {
    return this.running.has(rule);
  }

  /** Fires the job's rule now, in dry run, and resolves with its delivery once the handler has finished. */
  async run(job: DashboardJob): Promise<JobRun> {
    this.running.add(job.rule);
    try {
      const [delivery] = await this.server.bus.fireSchedule(job.rule, undefined, { dryRun: true });
      const resultText = delivery?.ok ? JSON.stringify(delivery.result) : undefined;
      return {
        job: job.rule,
        dryRun: true,
        ok: delivery?.ok ?? false,
        attempts: delivery?.attempts ?? 0,
        ...(delivery?.error ? { error: delivery.error } : {}),
        ...(resultText !== undefined && resultText.length <= MAX_RESULT_BYTES
          ? { result: JSON.parse(resultText) }
          : {}),
      };
    } finally {
      this.running.delete(job.rule);
    }
  }
}
