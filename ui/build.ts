import { gzipSync } from 'node:zlib';

/**
 * The UI's bundler, for server-side code (CLI, local dashboard): bundles a UI entry (TypeScript/TSX with preact)
 * with esbuild into one script and one style sheet, in memory, when a page is rendered, so nothing is loaded from
 * the network and no build step is needed after `npm ci`. Nothing here runs in a browser, and nothing of `ui/` may
 * be imported by Lambda code (`functions/`, `shared/`).
 *
 * API (kept small on purpose):
 * - `bundleUi(entry)`: `{ js, css }` of an entry such as `ui/report/main.tsx` (cached per entry in the process);
 * - `scriptSafeJson(value)`: JSON that may stand inside `<script>` (no `</script>`, `<!--`, U+2028/U+2029 break it);
 * - `embedData(id, value)`: a `<script>` element carrying data for the page (`readEmbedded(id)` in `ui/embedded.ts`
 *   reads it back); large data is gzipped and base64-encoded, which also makes it inert;
 * - `htmlPage({ title, bundle, body })`: a self-contained HTML document whose Content-Security-Policy allows no
 *   network request at all.
 */

export interface UiBundle {
  js: string;
  css: string;
}

/** Entries of this folder, by name: `uiEntry('report/main.tsx')`. */
export const uiEntry = (path: string): string => new URL(path, import.meta.url).pathname;

const cache = new Map<string, Promise<UiBundle>>();

/** Bundles a UI entry (minified, for current browsers) into one script and one style sheet. */
export function bundleUi(entry: string): Promise<UiBundle> {
  let bundled = cache.get(entry);
  if (bundled === undefined) {
    bundled = bundle(entry);
    bundled.catch(() => cache.delete(entry));
    cache.set(entry, bundled);
  }
  return bundled;
}

async function bundle(entry: string): Promise<UiBundle> {
  // Loaded on first use: a command that writes no page does not load esbuild.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: 'ui-bundle',
    legalComments: 'none',
    logLevel: 'silent',
    charset: 'utf8',
  });
  const text = (extension: string) =>
    result.outputFiles
      .filter((file) => file.path.endsWith(extension))
      .map((file) => file.text)
      .join('\n');
  return { js: text('.js'), css: text('.css') };
}

/** JSON safe inside a `<script>` element: `<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes (still the same JSON). */
export const scriptSafeJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/** Data up to this size is embedded as JSON; beyond, gzipped and base64-encoded (a report of 100,000 images). */
export const EMBED_JSON_LIMIT = 512 * 1024;

/** A `<script>` element with `value` for `readEmbedded(id)`; `id` is a plain identifier chosen by the caller. */
export function embedData(id: string, value: unknown): string {
  if (!/^[a-z][a-z0-9-]*$/.test(id)) throw new Error(`embedData: ${JSON.stringify(id)} is not a plain id`);
  const json = scriptSafeJson(value);
  if (json.length <= EMBED_JSON_LIMIT) return `<script type="application/json" id="${id}">${json}</script>`;
  const packed = gzipSync(Buffer.from(json, 'utf8'), { level: 6 }).toString('base64');
  return `<script type="application/gzip-base64" id="${id}">${packed}</script>`;
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** No request may leave the page: scripts and styles are inline, images data: URLs only. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/** A whole HTML document: the bundle inlined, `body` (trusted markup such as `embedData`'s) before the script. */
export function htmlPage(options: { title: string; bundle: UiBundle; body: string }): string {
  // `</script` cannot appear in esbuild's minified output except inside a string, where it is escaped here too.
  const js = options.bundle.js.replace(/<\/script/gi, '<\\/script');
  const css = options.bundle.css.replace(/<\/style/gi, '<\\/style');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(options.title)}</title>`,
    `<style>${css}</style>`,
    '</head>',
    '<body>',
    '<div id="app"><p>Loading…</p></div>',
    options.body,
    `<script>${js}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
