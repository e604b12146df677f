import { writeFileSync } from 'node:fs';
import type { Report } from '../../shared/pictures/model.ts';
import { encodeReport } from '../../shared/pictures/wire.ts';
import { bundleUi, embedData, htmlPage, uiEntry } from '../../ui/build.ts';
import { UsageError } from './errors.ts';

/**
 * `--html FILE`: one self-contained HTML file of a plan (summary, decisions table, image graphs), which opens from
 * disk and loads nothing from the network. The page's script is bundled from `ui/report/main.tsx` when the file is
 * written; the report (`shared/pictures/`) is embedded as data, never as markup.
 */
export async function renderHtmlReport(report: Report): Promise<string> {
  const bundle = await bundleUi(uiEntry('report/main.tsx'));
  return htmlPage({ title: report.title, bundle, body: embedData('report-data', encodeReport(report)) });
}

/** Writes the HTML report of `report` to `path`; an unwritable path is a usage error. */
export async function writeHtmlReport(path: string, report: Report): Promise<number> {
  const html = await renderHtmlReport(report);
  try {
    writeFileSync(path, html);
  } catch (error) {
    throw new UsageError(
      `Cannot write the HTML report ${path}: ${error instanceof Error ? error.message : String(error)}`,
      'Pass --html with a path in a writable folder.',
    );
  }
  return Buffer.byteLength(html);
}
