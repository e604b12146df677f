import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every source a comment cites must be in the repository (a page of docs/, with its #anchor) or a public page: no path
 * into a folder beside the checkout, and every short name such as [M-ECR] listed in docs/ecr-limits.md#sources.
 */
const ROOT = resolve(import.meta.dirname, '../../..');
const LIMITS = 'docs/ecr-limits.md';

/** The repository's files: tracked or new, less what .gitignore leaves out (node_modules, build output, reports). */
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
  cwd: ROOT,
  encoding: 'utf8',
})
  .split('\0')
  .filter((file) => file !== '' && existsSync(resolve(ROOT, file)) && statSync(resolve(ROOT, file)).isFile())
  .map((file) => ({ file, text: readFileSync(resolve(ROOT, file), 'utf8') }))
  .filter(({ text }) => !text.includes('\0'));

/** Spelled in pieces, so that this file does not match itself. */
const OUTSIDE_NOTES = [['shared', 'docs/'].join('/'), ['ecr', 'facts'].join('-')];
const PARENT_SHARED = /(?:\.\.\/)+shared\/[\w.\-/]*/g;
const DOC_CITATION = /(?<![\w/.-])docs\/[\w.\-/]+\.md(?:#[\w-]+)?/g;
const SHORT_NAME = /\[(?:M|UG|EB|OCI)-[A-Z0-9-]+\]/g;

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
const anchorsOf = (markdown: string) =>
  new Set(
    markdown
      .split('\n')
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) => anchorOf(line.replace(/^#+ /, ''))),
  );

describe('cited sources are in the repository', () => {
  it('finds the source files to check', () => {
    // Assess
    expect(files.map(({ file }) => file)).toEqual(expect.arrayContaining(['serverless.ts', LIMITS, 'README.md']));
    expect(files.some(({ file }) => file.startsWith('node_modules/'))).toBe(false);
  });

  it('never points at notes outside the repository', () => {
    // Act
    const found = files.flatMap(({ file, text }) =>
      OUTSIDE_NOTES.flatMap((needle) => {
        const hits: string[] = [];
        for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
          hits.push(`${file}:${lineOf(text, at)}: ${needle}`);
        }
        return hits;
      }),
    );
    // Assess
    expect(found).toEqual([]);
  });

  it('resolves every relative path into shared/ to a file of the repository', () => {
    // Act
    const broken = files.flatMap(({ file, text }) =>
      [...text.matchAll(PARENT_SHARED)]
        .filter((match) => {
          const target = resolve(ROOT, dirname(file), match[0]);
          return relative(ROOT, target).startsWith(`..${sep}`) || !existsSync(target);
        })
        .map((match) => `${file}:${lineOf(text, match.index)}: ${match[0]}`),
    );
    // Assess
    expect(broken).toEqual([]);
  });

  it('cites only docs pages and headings that exist', () => {
    // Act
    const citations = files.flatMap(({ file, text }) =>
      [...text.matchAll(DOC_CITATION)].map((match) => ({
        where: `${file}:${lineOf(text, match.index)}`,
        cited: match[0],
      })),
    );
    const broken = citations.filter(({ cited }) => {
      const [path = '', anchor] = cited.split('#');
      const target = resolve(ROOT, path);
      if (!existsSync(target)) return true;
      return anchor !== undefined && !anchorsOf(readFileSync(target, 'utf8')).has(anchor);
    });
    // Assess
    expect(citations.length).toBeGreaterThan(20);
    expect(broken).toEqual([]);
  });

  it('lists every short name a comment cites, with a public URL', () => {
    // Arrange
    const limits = readFileSync(resolve(ROOT, LIMITS), 'utf8');
    const sources = limits.slice(
      limits.indexOf('## Sources'),
      limits.indexOf('\n## ', limits.indexOf('## Sources') + 1),
    );
    const listed = new Map(
      sources
        .split('\n')
        .filter((line) => line.startsWith('| ['))
        .map((line) => [line.slice(2, line.indexOf(']') + 1), line] as const),
    );
    // Act
    const cited = new Set(files.flatMap(({ text }) => [...text.matchAll(SHORT_NAME)].map((match) => match[0])));
    // Assess
    expect(cited.size).toBeGreaterThan(5);
    expect([...cited].filter((name) => !listed.has(name))).toEqual([]);
    for (const [name, line] of listed) expect(line, name).toMatch(/https:\/\/(?:docs\.aws\.amazon\.com|github\.com)\//);
  });

  it('reads anchors as GitHub does', () => {
    // Assess
    expect(anchorOf('OCI manifests, digests and referrers')).toBe('oci-manifests-digests-and-referrers');
    expect(anchorOf('PutEvents')).toBe('putevents');
    expect(anchorsOf(readFileSync(resolve(ROOT, LIMITS), 'utf8'))).toContain('service-quotas');
  });
});
