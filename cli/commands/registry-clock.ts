import type { Clock } from '../../shared/runtime/clock.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The clock of the registry at `endpoint`: the local registry's clock can be moved (`POST /_local/clock`), and a run
 * against it must age images by that clock, as the handlers under `npm start` do. Only a loopback endpoint is asked
 * (`GET /_local/clock`); anything else, or a registry that does not answer, keeps `fallback`.
 */
export async function registryClock(endpoint: string | undefined, fallback: Clock): Promise<Clock> {
  if (endpoint === undefined) return fallback;
  let url: URL;
  try {
    url = new URL('/_local/clock', endpoint);
  } catch {
    return fallback;
  }
  if (!LOOPBACK.has(url.hostname)) return fallback;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return fallback;
    const body = (await response.json()) as { epochMs?: unknown };
    if (typeof body.epochMs !== 'number' || !Number.isFinite(body.epochMs)) return fallback;
    const offset = body.epochMs - fallback();
    return () => fallback() + offset;
  } catch {
    return fallback;
  }
}
