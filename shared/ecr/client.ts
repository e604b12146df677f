import { ECRClient, type ECRClientConfig } from '@aws-sdk/client-ecr';
import { countsResends } from './calls.ts';
import { UnretriedError } from './errors.ts';
import { ECR_CLIENT_MAX_ATTEMPTS } from './limits.ts';

export interface EcrClientOptions {
  /** A custom endpoint (the local registry). Without it the SDK honours `AWS_ENDPOINT_URL_ECR`, then `AWS_ENDPOINT_URL`. */
  endpoint?: string;
  /** Without it the SDK reads `AWS_REGION` (set by Lambda) or the shared config. */
  region?: string;
  /** Without it the SDK's default credential chain runs (the Lambda role, env, profile). */
  credentials?: ECRClientConfig['credentials'];
  /** Attempts per request, first try included. Default: `AWS_MAX_ATTEMPTS` when set, else ECR_CLIENT_MAX_ATTEMPTS. */
  maxAttempts?: number;
}

/**
 * The one ECR client of a Lambda container or CLI run: create it once, outside the handler, and hand it to
 * `createEcrGateway`. Retries are the SDK's adaptive mode: throttling, 5xx and transient network errors are retried
 * with jittered exponential back-off, and a client that sees throttling also slows its own send rate.
 *
 * @example
 * ```ts
 * const gateway = createEcrGateway(createEcrClient(), { readOnly: config.cleanup.dryRun });
 * ```
 */
export function createEcrClient(options: EcrClientOptions = {}): ECRClient {
  const fromEnvironment = process.env.AWS_MAX_ATTEMPTS !== undefined && process.env.AWS_MAX_ATTEMPTS !== '';
  const client = new ECRClient({
    // The middleware stack is resolved once per command class instead of on every send. Middleware added to the
    // client after its first send of a class does not apply to that class: everything is added here, before the
    // client is handed out, and by whoever wraps it right after (`boundConcurrency`, the tracer), before any send.
    cacheMiddleware: true,
    retryMode: 'adaptive',
    // Left undefined, the SDK reads AWS_MAX_ATTEMPTS itself (and validates it).
    maxAttempts: options.maxAttempts ?? (fromEnvironment ? undefined : ECR_CLIENT_MAX_ATTEMPTS),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  withQuotaNotRetried(client);
  // The SDK's logger middleware filters every response for its log even when no logger is set (a walk of each
  // DescribeImages page); the service logs through Powertools, so it goes.
  client.middlewareStack.remove('loggerMiddleware');
  // The gateways' count of re-sends (`countingResends`), in the stack before the first send caches it.
  return countsResends(client);
}

/**
 * The retry settings every AWS client of the product takes (ECR's, and the read-only ECS, Lambda, S3 and SSM clients
 * of the in-use providers): the SDK's adaptive mode, `maxAttempts` when given, else `AWS_MAX_ATTEMPTS` when set (the
 * SDK reads it itself), else ECR_CLIENT_MAX_ATTEMPTS.
 */
export function adaptiveRetries(maxAttempts?: number): { retryMode: 'adaptive'; maxAttempts: number | undefined } {
  const fromEnvironment = process.env.AWS_MAX_ATTEMPTS !== undefined && process.env.AWS_MAX_ATTEMPTS !== '';
  return { retryMode: 'adaptive', maxAttempts: maxAttempts ?? (fromEnvironment ? undefined : ECR_CLIENT_MAX_ATTEMPTS) };
}

/**
 * Hands ECR's quota errors to the client's retry layer wrapped, so that they are not re-sent as throttling (see
 * `isQuotaError`). The ECR Public client takes it too: ECR Public's `LimitExceededException` is a quota as well.
 */
export function withQuotaNotRetried<C extends { middlewareStack: ECRClient['middlewareStack'] }>(client: C): C {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw isQuotaError(error) ? new UnretriedError(error) : error;
      }
    },
    // Inside the retry loop (which runs in finalizeRequest), around the deserializer that throws ECR's exceptions.
    { step: 'deserialize', priority: 'high', name: 'ecrQuotaIsNotThrottling', override: true },
  );
  return client;
}

/**
 * ECR's `LimitExceededException` is a quota (one basic scan per image per 24 h, 100,000 scans a day, images per
 * repository, ...), not a request rate, but the SDK's retry classification lists the name among its throttling
 * codes. Left alone, the SDK would re-send a StartImageScan of an image already scanned today up to maxAttempts − 1
 * times, with throttling back-off (seconds each), and the adaptive rate limiter would slow every later call of the
 * client. So the client hands such errors to the retry layer wrapped, which it does not retry; `toGatewayError`
 * unwraps them.
 */
const isQuotaError = (error: unknown): boolean => error instanceof Error && error.name === 'LimitExceededException';
