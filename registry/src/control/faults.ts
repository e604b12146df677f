/**
 * Fault injection for tests, demos and benchmarks (control API `/_local/faults`). Rates are applied
 * deterministically: with rate r, call n of an operation fails when floor(n·r) > floor((n−1)·r), so a rate of 0.5
 * fails every second call and a run is reproducible.
 */
export interface OperationFault {
  /** Share of calls answered with `ThrottlingException` (HTTP 400). */
  throttleRate?: number;
  /** Share of calls answered with `ServerException` (HTTP 500). */
  serverErrorRate?: number;
  /** Added latency before the call is handled, ms. */
  latencyMs?: number;
}

export interface VanishingRepository {
  account?: string;
  region?: string;
  repositoryName: string;
  /** The repository is deleted (with its images) once this many ECR calls have been served after the fault is set. */
  afterCalls: number;
}

const crosses = (n: number, rate: number | undefined) =>
  rate !== undefined && rate > 0 && Math.floor(n * rate) > Math.floor((n - 1) * rate);

export class Faults {
  private readonly byOperation = new Map<string, OperationFault & { calls: number }>();
  private vanishing: (VanishingRepository & { seen: number })[] = [];

  set(operation: string, fault: OperationFault): void {
    this.byOperation.set(operation, { ...fault, calls: 0 });
  }

  vanish(spec: VanishingRepository): void {
    this.vanishing.push({ ...spec, seen: 0 });
  }

  clear(): void {
    this.byOperation.clear();
    this.vanishing = [];
  }

  describe() {
    return {
      operations: Object.fromEntries([...this.byOperation].map(([op, { calls: _calls, ...fault }]) => [op, fault])),
      vanishingRepositories: this.vanishing.map(({ seen: _seen, ...spec }) => spec),
    };
  }

  /** Decides what happens to this call of `operation`. */
  next(operation: string): { latencyMs: number; fail?: 'throttle' | 'server' } {
    const fault = this.byOperation.get(operation);
    if (!fault) return { latencyMs: 0 };
    fault.calls++;
    const latencyMs = fault.latencyMs ?? 0;
    if (crosses(fault.calls, fault.throttleRate)) return { latencyMs, fail: 'throttle' };
    if (crosses(fault.calls, fault.serverErrorRate)) return { latencyMs, fail: 'server' };
    return { latencyMs };
  }

  /** Counts one ECR call and returns the repositories whose time has come to disappear. */
  dueRepositories(): VanishingRepository[] {
    const due: VanishingRepository[] = [];
    for (const spec of this.vanishing) {
      spec.seen++;
      if (spec.seen === spec.afterCalls + 1) due.push(spec);
    }
    return due;
  }
}
