import type middy from '@middy/core';

/** An incoming event that does not match the handler's schema. Never retried with any hope: the event is wrong. */
export class InvalidEventError extends Error {
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'InvalidEventError';
  }
}

interface ZodLikeIssue {
  path: readonly PropertyKey[];
  message: string;
}

const issuesOf = (error: unknown): ZodLikeIssue[] | undefined => {
  // Powertools puts the schema's issue list itself in `cause` (Standard Schema); zod errors carry `issues`.
  let cause: unknown = error;
  for (let depth = 0; depth < 5 && cause && typeof cause === 'object'; depth++) {
    if (Array.isArray(cause)) return cause as ZodLikeIssue[];
    const issues = (cause as { issues?: unknown }).issues;
    if (Array.isArray(issues)) return issues as ZodLikeIssue[];
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
};

/**
 * Powertools' parser rejects a bad event with "Failed to parse schema", the field-level detail buried in `cause`.
 * This middleware (used before `parser`) rethrows it as an `InvalidEventError` whose message names each bad field.
 */
export function clearParseErrors(): middy.MiddlewareObj {
  return {
    onError: async (request) => {
      const error = request.error;
      if (!(error instanceof Error) || error.name !== 'ParseError') return;
      const issues = (issuesOf(error) ?? []).map((issue) => ({
        path: issue.path.length === 0 ? '(event)' : issue.path.map(String).join('.'),
        message: issue.message,
      }));
      request.error = new InvalidEventError(
        `Invalid event: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ') || error.message}`,
        issues,
        { cause: error },
      );
    },
  };
}
