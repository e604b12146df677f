/**
 * Reads data a page carries in a `<script>` element written by `embedData` (`ui/build.ts`): JSON, or gzipped JSON in
 * base64 (decompressed with the browser's own DecompressionStream). Browser-side.
 */
export async function readEmbedded<T>(id: string): Promise<T> {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`no data element #${id}`);
  const text = element.textContent ?? '';
  if (element.getAttribute('type') === 'application/json') return JSON.parse(text) as T;
  const bytes = fromBase64(text.trim());
  performance.mark('embedded:unpacked');
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return JSON.parse(await new Response(stream).text()) as T;
}

/** Base64 to bytes: the browser's own `Uint8Array.fromBase64` where it has one (Chrome 140+, Firefox 133+). */
function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const native = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array<ArrayBuffer> }).fromBase64;
  if (native !== undefined) return native(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
