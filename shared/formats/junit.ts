import type { ScanVerdict } from '../scan/report.ts';

/**
 * The scan gate's verdict as JUnit XML (`scan-gate --junit FILE`), the report format CI systems show as tests: one
 * `testsuite` per image, one `testcase` per finding the verdict lists (a blocking one fails, an allowed one passes
 * and names its allow-list entry), a failing `scan` case when the scan itself failed, a skipped one when nothing was
 * judged. Every text is escaped, and characters XML 1.0 cannot carry are dropped. Pure: no AWS, no clock, no I/O.
 */

/** Text from a finding is bounded: a package name or a reason can be long. */
const MAX_TEXT = 2_000;

/**
 * Characters XML 1.0 allows (https://www.w3.org/TR/xml/#charsets): tab, line feed, carriage return, U+0020 to
 * U+D7FF, U+E000 to U+FFFD and the supplementary planes. Anything else (other control characters, lone surrogates,
 * U+FFFE, U+FFFF) cannot be written, even escaped, and is replaced by U+FFFD.
 */
const NOT_XML_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** Text for an attribute value (tabs and line breaks kept as character references) or element content. */
export function xmlEscape(text: string, where: 'attribute' | 'content' = 'attribute'): string {
  const cut = text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
  const pattern = where === 'attribute' ? /[&<>"'\t\n\r]/g : /[&<>]/g;
  return cut.replace(NOT_XML_CHARACTER, '\uFFFD').replace(pattern, (character) => ESCAPES[character] ?? character);
}

const attributes = (values: Record<string, string | number | undefined>) =>
  Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${xmlEscape(String(value))}"`)
    .join('');

interface Case {
  name: string;
  classname: string;
  failure?: { message: string; type: string; text: string };
  skipped?: string;
  out?: string;
}

function renderCase(testCase: Case): string[] {
  const open = `    <testcase${attributes({ name: testCase.name, classname: testCase.classname, time: 0 })}`;
  const body: string[] = [];
  if (testCase.failure) {
    body.push(
      `      <failure${attributes({ message: testCase.failure.message, type: testCase.failure.type })}>${xmlEscape(testCase.failure.text, 'content')}</failure>`,
    );
  }
  if (testCase.skipped !== undefined) body.push(`      <skipped${attributes({ message: testCase.skipped })}/>`);
  if (testCase.out !== undefined) body.push(`      <system-out>${xmlEscape(testCase.out, 'content')}</system-out>`);
  return body.length === 0 ? [`${open}/>`] : [`${open}>`, ...body, '    </testcase>'];
}

/** A field cut before it is put into longer texts, so that a huge one costs no more than a bounded one. */
const clip = (text: string | undefined) =>
  text === undefined || text.length <= MAX_TEXT ? text : text.slice(0, MAX_TEXT);

export function scanVerdictJunit(verdict: ScanVerdict, tool: { name: string; version: string }): string {
  // Each finding's fields cut first (the verdict itself is not changed: this is a copy).
  verdict = {
    ...verdict,
    blocking: verdict.blocking?.map((f) => ({
      ...f,
      id: clip(f.id) ?? '',
      package: clip(f.package),
      fixedInVersion: clip(f.fixedInVersion),
    })),
    allowed: verdict.allowed?.map((f) => ({
      ...f,
      id: clip(f.id) ?? '',
      package: clip(f.package),
      reason: clip(f.reason) ?? '',
      owner: clip(f.owner) ?? '',
    })),
  };
  const image = `${verdict.repositoryName}@${verdict.digest}`;
  const classname = verdict.repositoryName;
  const cases: Case[] = [];
  for (const finding of verdict.blocking ?? []) {
    const fix = finding.fixedInVersion === undefined ? 'no fixed version known' : `fixed in ${finding.fixedInVersion}`;
    cases.push({
      name: `${finding.id} ${finding.package ?? ''}`.trim(),
      classname,
      failure: {
        message: `${finding.severity} ${finding.id} blocks ${image}`,
        type: finding.severity,
        text: [
          `${finding.severity} ${finding.id} in ${finding.package ?? 'a package'} (${fix})`,
          finding.cvss === undefined ? undefined : `CVSS ${finding.cvss}`,
          `blocks because of: ${finding.because.join(', ')}`,
        ]
          .filter((line) => line !== undefined)
          .join('\n'),
      },
    });
  }
  for (const finding of verdict.allowed ?? []) {
    cases.push({
      name: `${finding.id} ${finding.package ?? ''}`.trim(),
      classname,
      out: `${finding.severity} ${finding.id} allowed until ${finding.allowedUntil} (owner ${finding.owner}): ${finding.reason}`,
    });
  }
  if (verdict.reason !== undefined) {
    cases.push({
      name: 'scan',
      classname,
      failure: { message: verdict.reason.message, type: verdict.reason.code, text: verdict.reason.message },
    });
  }
  if (verdict.skipped !== undefined) {
    cases.push({ name: 'scan', classname, skipped: `${verdict.skipped.code}: ${verdict.skipped.message}` });
  }
  if (cases.length === 0) cases.push({ name: 'scan verdict', classname, out: `${verdict.verdict}: no finding blocks` });
  const failures = cases.filter((testCase) => testCase.failure !== undefined).length;
  const skipped = cases.filter((testCase) => testCase.skipped !== undefined).length;
  const suite = attributes({
    name: image,
    tests: cases.length,
    failures,
    errors: 0,
    skipped,
    time: 0,
    timestamp: verdict.judgedAt.replace(/\.\d+Z$/, 'Z').replace(/Z$/, ''),
  });
  const properties = [
    ['verdict', verdict.verdict],
    ['repository', verdict.repositoryName],
    ['digest', verdict.digest],
    ['tags', verdict.tags.join(',')],
    ['blockingTotal', String(verdict.blockingTotal ?? verdict.blocking?.length ?? 0)],
    ['tool', `${tool.name} ${tool.version}`],
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: `${tool.name} scan-gate`, tests: cases.length, failures, errors: 0, skipped, time: 0 })}>`,
    `  <testsuite${suite}>`,
    '    <properties>',
    ...properties.map(([name, value]) => `      <property${attributes({ name, value })}/>`),
    '    </properties>',
    ...cases.flatMap(renderCase),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
