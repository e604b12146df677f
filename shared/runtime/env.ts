import { z } from 'zod';
import { DEFAULT_PUBLIC_REGISTRY_URL } from '../ecr-public/limits.ts';

/**
 * The environment of the service's functions: one zod schema per variable, and one object schema per function picking
 * only the variables that function reads (the keys are the function names of the service manifest, `service/manifest.ts`). A function's real
 * dependencies parse its schema on first use, so a malformed or missing variable fails the first invocation of a cold
 * container with a message naming the variable, not a later call with a stray `NaN` or a wrong bus.
 *
 * The README's "Environment variables" table lists them; the manifest sets every variable a schema requires.
 */

/** An issue's message: what the variable should hold and what it held. */
const expected = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `is not set (expected ${what})` : `expected ${what}, got ${JSON.stringify(issue.input)}`;

/** Unset, or set to the empty string (as an unset CloudFormation value leaves it): both mean "use the default". */
const blankIsUnset = (value: unknown) => (value === '' ? undefined : value);

/** `EventBusName` of PutEvents: a bus name or ARN, 1–1600 characters (docs/ecr-limits.md#putevents). */
const EVENT_BUS_NAME_PATTERN = /^(?:arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[A-Za-z0-9._\-/]+$/;
const EVENT_BUS_EXPECTED = 'an EventBridge event bus name or ARN (letters, digits, . _ - /; at most 1600 characters)';

/** The cleanup worker's hand-over reserve: a second at least, and at most 10 of the worker's 15 minutes. */
export const CLEANUP_RESERVE_MS_BOUNDS = { min: 1_000, max: 600_000, default: 60_000 } as const;
const RESERVE_EXPECTED = `a whole number of milliseconds between ${CLEANUP_RESERVE_MS_BOUNDS.min} and ${CLEANUP_RESERVE_MS_BOUNDS.max}`;

/** An IAM role or user ARN, as ECR's pull-time update exclusions take it. */
const PRINCIPAL_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:(?:role|user)\/[\w+=,.@/-]{1,512}$/;
const PRINCIPAL_EXPECTED = 'an IAM role or user ARN (arn:aws:iam::<12-digit account>:role/<name>)';

const ATTEMPTS_EXPECTED = 'a whole number of attempts between 1 and 100';

const REGISTRY_URL_EXPECTED = 'an http(s) URL of a registry, such as https://public.ecr.aws';
const isRegistryUrl = (text: string) => {
  if (text.length > 2048 || !URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.search === '' && url.hash === '';
};

/** An SNS topic ARN, a FIFO topic's name ending in `.fifo`. */
const TOPIC_ARN_PATTERN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,251}(?:\.fifo)?$/;
const TOPIC_EXPECTED = 'an SNS topic ARN (arn:aws:sns:<region>:<12-digit account>:<name>)';

const wholeNumberIn = (text: string, min: number, max: number) =>
  /^\d{1,9}$/.test(text) && Number(text) >= min && Number(text) <= max;

/** Every variable a function reads, with what it holds. */
export const ENV_VARIABLES = {
  /** The service's bus: work items, reports and verdicts are published on it. */
  EVENT_BUS_NAME: z
    .string({ error: expected(EVENT_BUS_EXPECTED) })
    .max(1600, { error: expected(EVENT_BUS_EXPECTED) })
    .regex(EVENT_BUS_NAME_PATTERN, { error: expected(EVENT_BUS_EXPECTED) }),
  /** Another config file than the bundled one, or comma-separated files (one per team); unset: the bundled file. */
  CONFIG_FILE: z.preprocess(
    blankIsUnset,
    z
      .string()
      .refine((text) => text.split(',').some((part) => part.trim() !== ''), {
        error: expected('a config file path, or comma-separated paths'),
      })
      .optional(),
  ),
  /** Milliseconds the cleanup worker keeps before its deadline for the report and the hand-over to a follow-up. */
  CLEANUP_RESERVE_MS: z.preprocess(
    blankIsUnset,
    z
      .string()
      .refine((text) => wholeNumberIn(text, CLEANUP_RESERVE_MS_BOUNDS.min, CLEANUP_RESERVE_MS_BOUNDS.max), {
        error: expected(RESERVE_EXPECTED),
      })
      .optional()
      .transform((text) => (text === undefined ? CLEANUP_RESERVE_MS_BOUNDS.default : Number(text))),
  ),
  /** The cleanup workers' role, registered as a pull-time update exclusion; unset: none is registered. */
  WORKER_PRINCIPAL_ARN: z.preprocess(
    blankIsUnset,
    z
      .string()
      .regex(PRINCIPAL_ARN_PATTERN, { error: expected(PRINCIPAL_EXPECTED) })
      .optional(),
  ),
  /**
   * The registry API (`/token/`, `/v2/`) of ECR Public, where the cleanup reads public manifests; unset: public.ecr.aws.
   */
  ECR_PUBLIC_REGISTRY_URL: z.preprocess(
    blankIsUnset,
    z
      .string()
      .refine(isRegistryUrl, { error: expected(REGISTRY_URL_EXPECTED) })
      .optional()
      .transform((text) => text ?? DEFAULT_PUBLIC_REGISTRY_URL),
  ),
  /**
   * The bucket where a cleanup run's reports meet for its organisation report (`cleanup-runs/<runId>/`); unset: no
   * run report is stored or made.
   */
  REPORTS_BUCKET: z.preprocess(
    blankIsUnset,
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: expected('an S3 bucket name (3–63 of a-z 0-9 . -)') })
      .optional(),
  ),
  /** The SNS topic the notify function publishes to (the config's `notifications`: the service's topic or its own). */
  NOTIFICATIONS_TOPIC_ARN: z
    .string({ error: expected(TOPIC_EXPECTED) })
    .max(256, { error: expected(TOPIC_EXPECTED) })
    .regex(TOPIC_ARN_PATTERN, { error: expected(TOPIC_EXPECTED) }),
  /**
   * Attempts per ECR request (the AWS SDK's own variable, which `createEcrClient` defers to when set); unset: the
   * client's ECR_CLIENT_MAX_ATTEMPTS.
   */
  AWS_MAX_ATTEMPTS: z.preprocess(
    blankIsUnset,
    z
      .string()
      .refine((text) => wholeNumberIn(text, 1, 100), { error: expected(ATTEMPTS_EXPECTED) })
      .optional()
      .transform((text) => (text === undefined ? undefined : Number(text))),
  ),
} as const;

type VariableName = keyof typeof ENV_VARIABLES;
const pick = <const K extends VariableName>(...names: K[]) =>
  z.object(Object.fromEntries(names.map((name) => [name, ENV_VARIABLES[name]])) as Pick<typeof ENV_VARIABLES, K>);

/** Each function's variables: every function publishes on the bus and reads the config; most call ECR. */
export const FUNCTION_ENV = {
  scheduledCleanup: pick(
    'EVENT_BUS_NAME',
    'CONFIG_FILE',
    'AWS_MAX_ATTEMPTS',
    'WORKER_PRINCIPAL_ARN',
    'ECR_PUBLIC_REGISTRY_URL',
    'REPORTS_BUCKET',
  ),
  cleanupRepository: pick(
    'EVENT_BUS_NAME',
    'CONFIG_FILE',
    'AWS_MAX_ATTEMPTS',
    'CLEANUP_RESERVE_MS',
    'ECR_PUBLIC_REGISTRY_URL',
    'REPORTS_BUCKET',
  ),
  cleanupRunReport: pick('EVENT_BUS_NAME', 'AWS_MAX_ATTEMPTS', 'REPORTS_BUCKET'),
  onImagePush: pick('EVENT_BUS_NAME', 'CONFIG_FILE', 'AWS_MAX_ATTEMPTS'),
  onScanResult: pick('EVENT_BUS_NAME', 'CONFIG_FILE', 'AWS_MAX_ATTEMPTS'),
  allowListReport: pick('EVENT_BUS_NAME', 'CONFIG_FILE'),
  scheduledCompliance: pick('EVENT_BUS_NAME', 'CONFIG_FILE', 'AWS_MAX_ATTEMPTS'),
  reconcileRegistry: pick('EVENT_BUS_NAME', 'CONFIG_FILE', 'AWS_MAX_ATTEMPTS'),
} as const;

export type FunctionName = keyof typeof FUNCTION_ENV;

/**
 * The functions a config section adds to the manifest, and their variables: `notify` (the `notifications` section)
 * reads its topic, the reports bucket it links to, and the SDK's attempts.
 */
export const OPTIONAL_FUNCTION_ENV = {
  notify: pick('NOTIFICATIONS_TOPIC_ARN', 'REPORTS_BUCKET', 'AWS_MAX_ATTEMPTS'),
} as const;

const EVERY_FUNCTION_ENV = { ...FUNCTION_ENV, ...OPTIONAL_FUNCTION_ENV };
/** A function of the manifest, whichever sections the config has. */
export type AnyFunctionName = keyof typeof EVERY_FUNCTION_ENV;
export type FunctionEnv<F extends AnyFunctionName> = z.output<(typeof EVERY_FUNCTION_ENV)[F]>;

/** Thrown when a function's environment does not parse; the message names every bad variable. */
export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}

/** The variables a function's schema requires (no default, so the manifest must set them). */
export function requiredVariables(fn: AnyFunctionName): string[] {
  const shape = EVERY_FUNCTION_ENV[fn].shape as Record<string, z.ZodType>;
  return Object.keys(shape).filter((name) => !shape[name]?.safeParse(undefined).success);
}

/**
 * Parses the variables of `fn` from `env` (other variables are ignored), or throws an EnvironmentError such as
 * `CLEANUP_RESERVE_MS: expected a whole number of milliseconds between 1000 and 600000, got "abc"`.
 */
export function parseFunctionEnv<F extends AnyFunctionName>(fn: F, env: NodeJS.ProcessEnv): FunctionEnv<F> {
  const result = EVERY_FUNCTION_ENV[fn].safeParse(env);
  if (result.success) return result.data as FunctionEnv<F>;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new EnvironmentError(`Environment of ${fn}: ${problems.join('; ')}`);
}
