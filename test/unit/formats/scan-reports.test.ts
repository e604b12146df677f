import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { scanVerdictJunit } from '../../../shared/formats/junit.ts';
import { helpUriOf, imageLocationUri, scanVerdictSarif, securitySeverity } from '../../../shared/formats/sarif.ts';
import type { ScanVerdict } from '../../../shared/scan/report.ts';
import { sarifSchemaErrors } from './validate.ts';

const TOOL = { name: 'ecr-automation', version: '1.2.3' };
const DIGEST = `sha256:${'ab'.repeat(32)}`;

type Blocking = NonNullable<ScanVerdict['blocking']>[number];

const blocking = (id: string, severity: Blocking['severity'], extra: Partial<Blocking> = {}): Blocking => ({
  id,
  severity,
  source: 'basic',
  because: ['severity'],
  ...extra,
});

const verdictOf = (overrides: Partial<ScanVerdict> = {}): ScanVerdict => ({
  trigger: { eventId: 'scan-gate', eventTime: '2026-11-24T03:00:00.000Z', source: 'cli', detailType: 'scan-gate' },
  repositoryName: 'app',
  digest: DIGEST,
  tags: ['v1'],
  verdict: 'FAIL',
  dryRun: true,
  actions: [],
  judgedAt: '2026-11-24T03:00:00.123Z',
  ...overrides,
});

// Numeric character references (`&#9;`) are decoded as any XML parser does: `htmlEntities`.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  htmlEntities: true,
  isArray: (name) => name === 'testcase',
});
type Case = { name: string; failure?: { type: string; message: string }; skipped?: { message: string } };
const casesOf = (xml: string): Case[] => parser.parse(xml).testsuites.testsuite.testcase;

describe('SARIF of a scan verdict', () => {
  it('maps severities to levels and to GitHub security-severity bands', () => {
    // Act
    const sarif = scanVerdictSarif(
      verdictOf({
        blocking: [
          blocking('CVE-2024-0001', 'CRITICAL'),
          blocking('CVE-2024-0002', 'HIGH', { cvss: 7.5 }),
          blocking('CVE-2024-0003', 'MEDIUM', { because: ['cvss'], cvss: 0 }),
          blocking('CVE-2024-0004', 'LOW'),
          blocking('CVE-2024-0005', 'UNTRIAGED'),
        ],
      }),
      { tool: TOOL },
    ) as { runs: { results: { level: string }[]; tool: { driver: { rules: { properties: object }[] } } }[] };

    // Assess
    expect(sarifSchemaErrors(sarif)).toEqual([]);
    const [run] = sarif.runs;
    expect(run?.results.map((result) => result.level)).toEqual(['error', 'error', 'warning', 'note', 'note']);
    expect(
      run?.tool.driver.rules.map((rule) => (rule.properties as Record<string, string>)['security-severity']),
    ).toEqual(['9.5', '7.5', '5.5', '2.0', undefined]);
  });

  it('links a rule to its finding’s http(s) reference, else NVD for a CVE, GitHub for a GHSA, else nothing', () => {
    expect(helpUriOf('CVE-2024-1', { uri: 'https://example.org/a?b=c' })).toBe('https://example.org/a?b=c');
    expect(helpUriOf('CVE-2024-3094', { uri: 'javascript:alert(1)' })).toBe(
      'https://nvd.nist.gov/vuln/detail/CVE-2024-3094',
    );
    expect(helpUriOf('CVE-2024-3094', { uri: 'not a url' })).toBe('https://nvd.nist.gov/vuln/detail/CVE-2024-3094');
    expect(helpUriOf('GHSA-jfh8-c2jp-5v3q', undefined)).toBe('https://github.com/advisories/GHSA-jfh8-c2jp-5v3q');
    expect(helpUriOf('ALAS-2024-001', undefined)).toBeUndefined();
    expect(securitySeverity('HIGH', 11)).toBe('8.0');
  });

  it('locates the finding in the image with a URI reference the schema accepts, for any repository name', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/), { minLength: 1, maxLength: 4 }),
        (segments) => {
          // Prepare
          const repositoryName = segments.join('/');

          // Act
          const sarif = scanVerdictSarif(verdictOf({ repositoryName, blocking: [blocking('CVE-2024-1', 'HIGH')] }), {
            tool: TOOL,
          });

          // Assess
          expect(sarifSchemaErrors(sarif)).toEqual([]);
          expect(decodeURIComponent(imageLocationUri(repositoryName, DIGEST))).toBe(`${repositoryName}@${DIGEST}`);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('bounds a huge description and reports a failed scan as a notification, not a result', () => {
    // Act
    const huge = 'x'.repeat(5_000_000);
    const started = performance.now();
    const sarif = scanVerdictSarif(
      verdictOf({
        blocking: [blocking('CVE-2024-1111', 'HIGH', { package: huge })],
        reason: { code: 'scan-failed', scanStatus: 'FAILED', message: 'UnsupportedImageError' },
      }),
      // A reference URL too long to be one is not linked: NVD's page is.
      { tool: TOOL, details: new Map([['CVE-2024-1111', { description: huge, uri: `https://x.org/${huge}` }]]) },
    );
    const text = JSON.stringify(sarif);

    // Assess
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(text.length).toBeLessThan(20_000);
    expect(sarifSchemaErrors(sarif)).toEqual([]);
    expect(text).toContain('"helpUri":"https://nvd.nist.gov/vuln/detail/CVE-2024-1111"');
    expect(text).toContain('scan-failed: UnsupportedImageError');
  });

  it('writes a valid log with no result for a passing image', () => {
    const sarif = scanVerdictSarif(verdictOf({ verdict: 'PASS' }), { tool: TOOL }) as { runs: { results: [] }[] };
    expect(sarifSchemaErrors(sarif)).toEqual([]);
    expect(sarif.runs[0]?.results).toEqual([]);
  });
});

describe('JUnit XML of a scan verdict', () => {
  it('round-trips any finding text through a parser, the characters XML cannot carry replaced', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 50 }), (pkg, id) => {
        // Act
        const xml = scanVerdictJunit(verdictOf({ blocking: [blocking(id, 'HIGH', { package: pkg })] }), TOOL);

        // Assess
        expect(XMLValidator.validate(xml)).toBe(true);
        const [testCase] = casesOf(xml);
        const expected = `${id} ${pkg}`
          .trim()
          .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD');
        // A parser trims text; what matters is that nothing was lost or added inside it.
        expect(String(testCase?.name)).toBe(expected.trim());
        expect(testCase?.failure?.type).toBe('HIGH');
      }),
      { numRuns: 120 },
    );
  });

  it('names a skipped verdict and a failed scan as their own cases', () => {
    // Act
    const skipped = casesOf(
      scanVerdictJunit(
        verdictOf({ verdict: 'SKIPPED', skipped: { code: 'no-policy', message: 'No enabled scan rule' } }),
        TOOL,
      ),
    );
    const failed = casesOf(
      scanVerdictJunit(
        verdictOf({ reason: { code: 'scan-failed', scanStatus: 'FAILED', message: 'UnsupportedImageError' } }),
        TOOL,
      ),
    );
    const passed = casesOf(scanVerdictJunit(verdictOf({ verdict: 'PASS' }), TOOL));

    // Assess
    expect(skipped).toEqual([
      expect.objectContaining({ name: 'scan', skipped: { message: 'no-policy: No enabled scan rule' } }),
    ]);
    expect(failed).toEqual([
      expect.objectContaining({ name: 'scan', failure: expect.objectContaining({ type: 'scan-failed' }) }),
    ]);
    expect(passed).toHaveLength(1);
    expect(passed[0]?.failure).toBeUndefined();
  });

  it('stays small and quick for a hundred findings with megabyte texts', () => {
    // Prepare
    const huge = '<&>'.repeat(400_000);
    const verdict = verdictOf({
      blocking: Array.from({ length: 100 }, (_, i) => blocking(`CVE-2024-${i}`, 'CRITICAL', { package: huge })),
    });

    // Act
    const started = performance.now();
    const xml = scanVerdictJunit(verdict, TOOL);

    // Assess
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(xml.length).toBeLessThan(100 * 3 * 2_000 * 6);
    expect(casesOf(xml)).toHaveLength(100);
  });
});
