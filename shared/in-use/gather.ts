import { mapAtMost } from '../domain/at-most.ts';
import type { InUseFailure, InUseImage, InUseSnapshot } from '../domain/in-use.ts';
import type { InUseProvider } from './provider.ts';

/** Providers read at once, by default. */
export const PROVIDERS_AT_ONCE = 16;

/** The longest message a failure carries into the report. */
const MAX_FAILURE_MESSAGE = 500;

/**
 * Runs every provider, `atOnce` at a time (16 by default), all within `timeoutMs`, and returns what they found. A provider that throws or
 * does not finish within `timeoutMs` is a failure (fail closed): its images are left out, and the failure, with the
 * repositories that provider covers, tells the planner to delete nothing there in this run. Its signal is aborted
 * at the timeout, so a provider still paging stops at its next call. Never throws.
 */
export async function gatherInUse(
  providers: readonly InUseProvider[],
  options: { timeoutMs: number; atOnce?: number },
): Promise<InUseSnapshot> {
  // Across an organisation there are two providers per target account and region: at most `atOnce` read at a time,
  // all within `timeoutMs` of the start (one that starts late has what is left; one with nothing left fails).
  const deadline = Date.now() + options.timeoutMs;
  const results = await mapAtMost(providers, options.atOnce ?? PROVIDERS_AT_ONCE, (provider) =>
    runOne(provider, Math.max(0, deadline - Date.now()), options.timeoutMs),
  );
  const images: InUseImage[] = [];
  const failures: InUseFailure[] = [];
  for (const result of results) {
    if ('images' in result) images.push(...result.images);
    else failures.push(result.failure);
  }
  return { images, failures };
}

async function runOne(
  provider: InUseProvider,
  timeoutMs: number,
  configuredMs: number,
): Promise<{ images: InUseImage[] } | { failure: InUseFailure }> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`timed out after ${configuredMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    const found = await Promise.race([provider.gather(controller.signal), timedOut]);
    return { images: found };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      failure: {
        provider: provider.name,
        message: message.slice(0, MAX_FAILURE_MESSAGE),
        ...(provider.repositories === undefined ? {} : { repositories: provider.repositories }),
        ...(provider.exclude === undefined ? {} : { exclude: provider.exclude }),
      },
    };
  } finally {
    clearTimeout(timer);
    // A provider that lost the race may still reject later: nobody awaits it, so keep that from being unhandled.
    timedOut.catch(() => undefined);
  }
}
