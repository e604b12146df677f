/**
 * The CLI's own errors. Each one is expected (bad input, a plan that went stale) and is printed as its message
 * alone, never with a stack trace; the exit code says which kind it was.
 */

/** Exit codes: 0 done, 1 a runtime failure (ECR, a refused or failed apply), 2 bad usage, config or plan file. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The command line, a config file or a plan file is wrong: nothing was sent to ECR. Exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** A next step for the user, printed under the message. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The plan file cannot be read, is not a plan, or is of another version. Exit code 2. */
export class PlanFileError extends UsageError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'PlanFileError';
  }
}
