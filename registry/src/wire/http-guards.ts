/**
 * Request checks the server applies before anything else: the registry answers only requests addressed to a
 * loopback name and coming from no foreign web page (DNS rebinding, cross-site requests), and refuses JSON nested
 * deeper than its code is written for.
 */

/** `127.0.0.1`, `localhost` or `[::1]`, each with an optional port: the names a local client addresses the registry by. */
const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;

/** Whether a `Host` header names the loopback interface (a missing header does not). */
export function loopbackHost(host: string | undefined): boolean {
  return typeof host === 'string' && LOOPBACK_HOST.test(host);
}

/** Whether an `Origin` header is a page served from loopback (`http(s)://127.0.0.1:8080`); `null` is not. */
export function loopbackOrigin(origin: string): boolean {
  const match = /^https?:\/\/([^/]+)$/i.exec(origin);
  return match !== null && LOOPBACK_HOST.test(match[1] as string);
}

/**
 * Whether JSON text nests objects and arrays deeper than `maxDepth`. One linear pass that skips strings; it says
 * nothing about validity (JSON.parse decides that).
 */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
