import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PUBLIC_COMPLIANCE_POLICY,
  type PublicCompliancePolicy,
} from '../../../shared/policy/compliance/policy.ts';
import {
  checkedCatalogFields,
  hasCatalogField,
  judgePublicRepository,
  type PublicCatalogFacts,
  type PublicRepositoryFacts,
  publicReadsFor,
} from '../../../shared/policy/compliance/public-catalog.ts';
import {
  actionPatternMatches,
  grantedWriteActions,
  PUBLIC_WRITE_ACTIONS,
  publicWriteFindings,
} from '../../../shared/policy/compliance/repository-policy.ts';

/** A PNG signature and a few bytes, base64. */
const LOGO = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('IHDR'),
]).toString('base64');
const FULL: PublicCatalogFacts = {
  description: 'A web server',
  aboutText: '# About',
  usageText: '`docker run`',
  architectures: ['x86-64', 'ARM 64'],
  operatingSystems: ['Linux'],
};
const policy = (overrides: Partial<PublicCompliancePolicy> = {}): PublicCompliancePolicy => ({
  ...DEFAULT_PUBLIC_COMPLIANCE_POLICY,
  forbidPublicWrite: false,
  ...overrides,
});
const facts = (
  catalog: PublicCatalogFacts | null,
  extra: Partial<PublicRepositoryFacts> = {},
): PublicRepositoryFacts => ({
  name: 'team/web',
  catalog,
  ...extra,
});
const reasons = (judgement: { findings: { reason: string }[] }) => judgement.findings.map((f) => f.reason);
const ALL_REQUIRED = [
  'description',
  'aboutText',
  'usageText',
  'architectures',
  'operatingSystems',
  'logo',
] as PublicCompliancePolicy['requiredCatalog'];

describe('judgePublicRepository: catalog data', () => {
  it('finds nothing when every required field is there', () => {
    // Act
    const judgement = judgePublicRepository(
      facts({ ...FULL, logoUrl: 'https://cdn/logo.png' }),
      policy({ requiredCatalog: ALL_REQUIRED }),
    );
    // Assess
    expect(judgement).toStrictEqual({ findings: [] });
  });

  it('names each missing field by its own reason, reported only when the config gives no value', () => {
    // Act
    const judgement = judgePublicRepository(facts({}), policy({ requiredCatalog: ALL_REQUIRED }));
    // Assess
    expect(judgement.findings).toEqual(
      [
        ['description-missing', 'description'],
        ['about-text-missing', 'aboutText'],
        ['usage-text-missing', 'usageText'],
        ['architectures-missing', 'architectures'],
        ['operating-systems-missing', 'operatingSystems'],
        ['logo-missing', 'logo'],
      ].map(([reason, field]) => ({
        check: 'catalog-data',
        reason,
        repository: 'team/web',
        detail: `the catalog data has no ${field}`,
        fixable: false,
      })),
    );
    expect(judgement.fix).toBeUndefined();
  });

  it('says when the repository has no catalog data at all', () => {
    // Act
    const judgement = judgePublicRepository(facts(null), policy({ requiredCatalog: ['description'] }));
    // Assess
    expect(judgement.findings).toEqual([
      {
        check: 'catalog-data',
        reason: 'description-missing',
        repository: 'team/web',
        detail: 'the repository has no catalog data, so no description',
        fixable: false,
      },
    ]);
  });

  it('counts empty and blank texts, empty lists and lists of blanks as missing', () => {
    // Prepare
    const blank: PublicCatalogFacts = {
      description: '',
      aboutText: '   ',
      usageText: '\n',
      architectures: [],
      operatingSystems: [''],
      logoUrl: '',
    };
    // Act
    const judgement = judgePublicRepository(facts(blank), policy({ requiredCatalog: ALL_REQUIRED }));
    // Assess
    expect(reasons(judgement)).toEqual([
      'description-missing',
      'about-text-missing',
      'usage-text-missing',
      'architectures-missing',
      'operating-systems-missing',
      'logo-missing',
    ]);
  });

  it('treats a field the config gives a value for as required, and checks nothing else', () => {
    // Act
    const judgement = judgePublicRepository(
      facts({}),
      policy({ requiredCatalog: ['usageText'], catalog: { description: 'd' } }),
    );
    // Assess
    expect(reasons(judgement)).toEqual(['description-missing', 'usage-text-missing']);
    expect(judgement.findings.map((f) => f.fixable)).toEqual([true, false]);
  });

  it('fills in only what is missing, keeping every field the repository has', () => {
    // Prepare
    const existing: PublicCatalogFacts = { description: 'written by a person', architectures: ['ARM'] };
    const rule = policy({
      mode: 'enforce',
      requiredCatalog: ['description', 'usageText', 'architectures', 'operatingSystems'],
      catalog: { description: 'from config', usageText: 'use it', architectures: ['x86'], operatingSystems: ['Linux'] },
    });
    // Act
    const judgement = judgePublicRepository(facts(existing), rule);
    // Assess
    expect(reasons(judgement)).toEqual(['usage-text-missing', 'operating-systems-missing']);
    expect(judgement.fix).toEqual({
      kind: 'put-catalog-data',
      catalog: {
        description: 'written by a person',
        usageText: 'use it',
        architectures: ['ARM'],
        operatingSystems: ['Linux'],
      },
    });
  });

  it('keeps every existing text and list in the put, also those no rule checks', () => {
    // Act
    const judgement = judgePublicRepository(
      facts({ ...FULL, description: undefined }),
      policy({ catalog: { description: 'new' } }),
    );
    // Assess
    expect(judgement.fix?.catalog).toEqual({ ...FULL, description: 'new' });
  });

  it('fills every field from the config when the repository has no catalog data, the logo as base64', () => {
    // Act
    const judgement = judgePublicRepository(
      facts(null),
      policy({
        catalog: {
          description: 'd',
          aboutText: 'a',
          usageText: 'u',
          architectures: ['x86-64'],
          operatingSystems: ['Linux', 'Windows'],
          logo: LOGO,
        },
      }),
    );
    // Assess
    expect(judgement.findings.every((f) => f.fixable)).toBe(true);
    expect(judgement.fix).toEqual({
      kind: 'put-catalog-data',
      catalog: {
        description: 'd',
        aboutText: 'a',
        usageText: 'u',
        architectures: ['x86-64'],
        operatingSystems: ['Linux', 'Windows'],
        logoBase64: LOGO,
      },
    });
  });

  it('returns the fix in report mode too (the workflow decides whether to put it)', () => {
    // Act
    const judgement = judgePublicRepository(facts(null), policy({ mode: 'report', catalog: { description: 'd' } }));
    // Assess
    expect(judgement.fix).toEqual({ kind: 'put-catalog-data', catalog: { description: 'd' } });
  });

  it('replaces a different value only with overwrite, lists compared as sets', () => {
    // Prepare
    const values = {
      description: 'new',
      aboutText: FULL.aboutText,
      usageText: 'new usage',
      architectures: ['ARM 64', 'x86-64'],
      operatingSystems: ['Windows'],
    };
    // Act
    const kept = judgePublicRepository(facts(FULL), policy({ catalog: values }));
    const replaced = judgePublicRepository(facts(FULL), policy({ catalog: values, overwrite: true }));
    // Assess
    expect(kept).toStrictEqual({ findings: [] });
    expect(replaced.findings).toEqual(
      [
        ['description-differs', 'description'],
        ['usage-text-differs', 'usageText'],
        ['operating-systems-differs', 'operatingSystems'],
      ].map(([reason, field]) => ({
        check: 'catalog-data',
        reason,
        repository: 'team/web',
        detail: `the catalog data's ${field} differs from the config's, which overwrite replaces it with`,
        fixable: true,
      })),
    );
    expect(replaced.fix?.catalog).toEqual({
      ...FULL,
      description: 'new',
      usageText: 'new usage',
      operatingSystems: ['Windows'],
    });
  });

  it('compares lists by their values, not only their lengths', () => {
    // Act
    const judgement = judgePublicRepository(
      facts({ architectures: ['ARM', 'ARM'] }),
      policy({ overwrite: true, catalog: { architectures: ['ARM', 'x86'] } }),
    );
    // Assess
    expect(reasons(judgement)).toEqual(['architectures-differs']);
  });

  it('with overwrite, leaves alone a field the config gives no value for', () => {
    // Act
    const judgement = judgePublicRepository(
      facts(FULL),
      policy({ overwrite: true, requiredCatalog: ['description', 'architectures'] }),
    );
    // Assess
    expect(judgement).toStrictEqual({ findings: [] });
  });

  it('never puts over an existing logo: the fix would drop it, so it is reported and not fixed', () => {
    // Prepare
    const withLogo: PublicCatalogFacts = { description: 'kept', logoUrl: 'https://cdn/logo.png' };
    // Act
    const judgement = judgePublicRepository(
      facts(withLogo),
      policy({ mode: 'enforce', overwrite: true, catalog: { usageText: 'u', logo: LOGO } }),
    );
    // Assess
    expect(judgement.fix).toBeUndefined();
    expect(judgement.findings).toEqual([
      {
        check: 'catalog-data',
        reason: 'usage-text-missing',
        repository: 'team/web',
        detail: 'the catalog data has no usageText',
        fixable: false,
      },
      {
        check: 'catalog-data',
        reason: 'logo-would-be-dropped',
        repository: 'team/web',
        detail:
          "not fixed: PutRepositoryCatalogData replaces the whole catalog data, and the repository's logo cannot be " +
          'read back to be put again; fill in the fields by hand',
        fixable: false,
      },
    ]);
  });

  it('reports a missing logo, and puts the configured one only when the repository has none', () => {
    // Act
    const missing = judgePublicRepository(facts({ description: 'x' }), policy({ catalog: { logo: LOGO } }));
    const present = judgePublicRepository(facts({ logoUrl: 'https://cdn/l.png' }), policy({ catalog: { logo: LOGO } }));
    // Assess
    expect(missing.fix?.catalog).toEqual({ description: 'x', logoBase64: LOGO });
    expect(present).toStrictEqual({ findings: [] });
  });

  it('does not put the configured logo when only another field is fixed', () => {
    // Act
    const judgement = judgePublicRepository(
      facts({ logoUrl: undefined }),
      policy({ requiredCatalog: ['logo'], catalog: { description: 'd' } }),
    );
    // Assess
    expect(reasons(judgement)).toEqual(['description-missing', 'logo-missing']);
    expect(judgement.fix?.catalog).toEqual({ description: 'd' });
  });

  it('puts no field the repository and the config both lack', () => {
    // Act
    const judgement = judgePublicRepository(facts({}), policy({ catalog: { architectures: ['ARM'] } }));
    // Assess
    expect(judgement.fix).toStrictEqual({ kind: 'put-catalog-data', catalog: { architectures: ['ARM'] } });
  });

  it('counts a list of blanks as missing, and a list with one value as present', () => {
    // Act
    const blanks = judgePublicRepository(
      facts({ architectures: [' ', '\t'] }),
      policy({ requiredCatalog: ['architectures'] }),
    );
    // Assess
    expect(reasons(blanks)).toEqual(['architectures-missing']);
  });

  it('with overwrite, finds a different about text, and lists of the same size with other values', () => {
    // Act
    const judgement = judgePublicRepository(
      facts({ aboutText: 'old', architectures: ['ARM', 'x86'] }),
      policy({ overwrite: true, catalog: { aboutText: 'new', architectures: ['ARM', 'ARM 64'] } }),
    );
    // Assess
    expect(reasons(judgement)).toEqual(['about-text-differs', 'architectures-differs']);
    expect(judgement.fix?.catalog).toStrictEqual({ aboutText: 'new', architectures: ['ARM', 'ARM 64'] });
  });

  it('checks no catalog data that was not read', () => {
    // Act
    const judgement = judgePublicRepository(
      { name: 'team/web' },
      policy({ requiredCatalog: ['description'], forbidPublicWrite: true }),
    );
    // Assess
    expect(judgement).toStrictEqual({ findings: [] });
  });
});

describe('judgePublicRepository: repository policy', () => {
  const policyText = (statement: Record<string, unknown>) =>
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'S', Effect: 'Allow', ...statement }] });

  it('reports a write granted to everyone when forbidPublicWrite is on, and nothing when off', () => {
    // Prepare
    const text = policyText({ Principal: '*', Action: 'ecr-public:PutImage' });
    // Act
    const on = judgePublicRepository(facts(null, { repositoryPolicy: text }), policy({ forbidPublicWrite: true }));
    const off = judgePublicRepository(facts(null, { repositoryPolicy: text }), policy({ forbidPublicWrite: false }));
    // Assess
    expect(on.findings).toEqual([
      {
        check: 'repository-policy',
        reason: 'public-write',
        repository: 'team/web',
        detail: 'statement S lets everyone write: ecr-public:PutImage',
        fixable: false,
      },
    ]);
    expect(off.findings).toEqual([]);
  });

  it('finds nothing for a repository without a policy', () => {
    // Act
    const judgement = judgePublicRepository(
      facts(null, { repositoryPolicy: null }),
      policy({ forbidPublicWrite: true }),
    );
    // Assess
    expect(judgement.findings).toEqual([]);
  });
});

describe('publicWriteFindings', () => {
  const document = (...statements: Record<string, unknown>[]) =>
    JSON.stringify({ Version: '2012-10-17', Statement: statements });
  const allow = (extra: Record<string, unknown>) => ({ Effect: 'Allow', ...extra });

  it('flags "*", {"AWS": "*"} and {"AWS": [..., "*"]} granted a write action', () => {
    // Act
    const findings = publicWriteFindings(
      document(
        allow({ Sid: 'Star', Principal: '*', Action: 'ecr-public:PutImage' }),
        allow({ Sid: 'Aws', Principal: { AWS: '*' }, Action: ['ecr-public:UploadLayerPart'] }),
        allow({ Sid: 'List', Principal: { AWS: ['arn:aws:iam::111111111111:root', '*'] }, Action: 'ecr-public:*' }),
        allow({ Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: '*' }),
        allow({ Principal: { Service: '*' }, Action: '*' }),
      ),
    );
    // Assess
    expect(findings.map((f) => [f.reason, f.statement])).toEqual([
      ['public-write', 'Star'],
      ['public-write', 'Aws'],
      ['public-write', 'List'],
    ]);
    expect(findings[2]?.detail).toBe(
      'statement List lets everyone write: ecr-public:BatchDeleteImage, ecr-public:CompleteLayerUpload, ecr-public:CreateRepository and 10 more',
    );
  });

  it('does not flag reads for everyone: a public repository is read by everyone', () => {
    // Act
    const findings = publicWriteFindings(
      document(
        allow({ Principal: '*', Action: ['ecr-public:DescribeImages', 'ecr-public:Describe*', 'ecr-public:Get*'] }),
      ),
    );
    // Assess
    expect(findings).toEqual([]);
  });

  it('ignores Deny statements, conditioned grants and statements that are not objects', () => {
    // Act
    const findings = publicWriteFindings(
      document(
        { Effect: 'Deny', Principal: '*', Action: '*' },
        allow({ Principal: '*', Action: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } } }),
        'not a statement' as never,
        null as never,
      ),
    );
    // Assess
    expect(findings).toEqual([]);
  });

  it('flags an empty Condition as no condition, and names an unnamed statement by its index', () => {
    // Act
    const findings = publicWriteFindings(
      document(
        allow({ Principal: '*', Action: 'ecr-public:DescribeImages' }),
        allow({ Principal: '*', Action: 'ecr-public:PutImage', Condition: {} }),
      ),
    );
    // Assess
    expect(findings).toEqual([
      { reason: 'public-write', statement: '#1', detail: 'statement #1 lets everyone write: ecr-public:PutImage' },
    ]);
  });

  it('lists up to three write actions in full, and names a statement with an empty or odd Sid by its index', () => {
    // Act
    const findings = publicWriteFindings(
      document(
        allow({
          Sid: '',
          Principal: '*',
          Action: ['ecr-public:UploadLayerPart', 'ecr-public:PutImage', 'ecr-public:TagResource'],
        }),
        allow({ Sid: 7, Principal: '*', Action: 'ecr-public:PutImage' }),
      ),
    );
    // Assess
    expect(findings.map((f) => f.detail)).toEqual([
      'statement #0 lets everyone write: ecr-public:PutImage, ecr-public:TagResource, ecr-public:UploadLayerPart',
      'statement #1 lets everyone write: ecr-public:PutImage',
    ]);
  });

  it('reads a null Condition as none, and a null or named principal as not everyone', () => {
    // Act
    const findings = publicWriteFindings(
      document(
        allow({ Sid: 'NullCondition', Principal: '*', Action: '*', Condition: null }),
        allow({ Sid: 'NullPrincipal', Principal: null, Action: '*' }),
        allow({ Sid: 'Named', Principal: 'arn:aws:iam::111111111111:root', Action: '*' }),
      ),
    );
    // Assess
    expect(findings.map((f) => f.statement)).toEqual(['NullCondition']);
  });

  it('reads NotAction as every action it does not exclude', () => {
    // Act
    const excludesWrites = publicWriteFindings(document(allow({ Principal: '*', NotAction: 'ecr-public:*' })));
    const excludesSome = publicWriteFindings(
      document(allow({ Principal: '*', NotAction: ['ecr-public:Put*', 'ecr-public:*Layer*'] })),
    );
    // Assess
    expect(excludesWrites).toEqual([]);
    expect(excludesSome.map((f) => f.detail)).toEqual([
      'statement #0 lets everyone write: ecr-public:BatchDeleteImage, ecr-public:CreateRepository, ecr-public:DeleteRepository and 4 more',
    ]);
  });

  it('takes a single statement object as well as a list, and reports a policy that is not JSON', () => {
    // Act
    const single = publicWriteFindings(
      JSON.stringify({ Statement: { Sid: 'One', Effect: 'Allow', Principal: '*', Action: 'ecr-public:PutImage' } }),
    );
    const unreadable = publicWriteFindings('{not json');
    const empty = publicWriteFindings('null');
    // Assess
    expect(single.map((f) => f.statement)).toEqual(['One']);
    expect(unreadable).toEqual([
      { reason: 'unreadable-policy', statement: '-', detail: 'the repository policy is not JSON' },
    ]);
    expect(empty).toEqual([]);
  });
});

describe('grantedWriteActions and actionPatternMatches', () => {
  it('matches action patterns case-insensitively with * and ?', () => {
    // Assess
    expect(actionPatternMatches('ecr-public:putimage', 'ecr-public:PutImage')).toBe(true);
    expect(actionPatternMatches('ECR-PUBLIC:*', 'ecr-public:PutImage')).toBe(true);
    expect(actionPatternMatches('*', 'ecr-public:PutImage')).toBe(true);
    expect(actionPatternMatches('ecr-public:Put?mage', 'ecr-public:PutImage')).toBe(true);
    expect(actionPatternMatches('ecr-public:*Image', 'ecr-public:PutImage')).toBe(true);
    expect(actionPatternMatches('ecr-public:*Im*e', 'ecr-public:PutImage')).toBe(true);
    expect(actionPatternMatches('ecr-public:Put', 'ecr-public:PutImage')).toBe(false);
    expect(actionPatternMatches('ecr-public:PutImages', 'ecr-public:PutImage')).toBe(false);
    expect(actionPatternMatches('ecr-public:Put?', 'ecr-public:PutImage')).toBe(false);
    expect(actionPatternMatches('ecr:*', 'ecr-public:PutImage')).toBe(false);
    expect(actionPatternMatches('*Layer', 'ecr-public:PutImage')).toBe(false);
    expect(actionPatternMatches('ecr-public:*x*', 'ecr-public:PutImage')).toBe(false);
    expect(actionPatternMatches('', 'ecr-public:PutImage')).toBe(false);
    expect(actionPatternMatches('ecr-public:PutImagX', 'ecr-public:PutImage')).toBe(false);
    expect(actionPatternMatches('xcr-public:PutImage', 'ecr-public:PutImage')).toBe(false);
    expect(actionPatternMatches('ecr-public:P*', 'ecr-public:PutImage')).toBe(true);
    expect(actionPatternMatches('*:PutImage', 'ecr-public:PutImage')).toBe(true);
    expect(actionPatternMatches('ecr-public:PutImage*', 'ecr-public:PutImage')).toBe(true);
    expect(actionPatternMatches('ecr-public:PutImage**', 'ecr-public:PutImage')).toBe(true);
    expect(actionPatternMatches('ecr-public:*Layer*', 'ecr-public:UploadLayerPart')).toBe(true);
    expect(actionPatternMatches('ecr-public:*Layer*', 'ecr-public:PutImage')).toBe(false);
    expect(actionPatternMatches('e?r-public:PutImage', 'ecr-public:PutImage')).toBe(true);
    expect(actionPatternMatches('ecr-public:*a*e', 'ecr-public:PutImage')).toBe(true);
    expect(actionPatternMatches('ecr-public:*e*a', 'ecr-public:PutImage')).toBe(false);
  });

  it('lists every write action for * and none for reads or other types', () => {
    // Assess
    expect(grantedWriteActions({ Action: '*' })).toEqual(PUBLIC_WRITE_ACTIONS);
    expect(grantedWriteActions({ Action: ['ecr-public:GetRepositoryPolicy', 42] })).toEqual([]);
    expect(grantedWriteActions({})).toEqual([]);
    expect(grantedWriteActions({ NotAction: [] })).toEqual(PUBLIC_WRITE_ACTIONS);
    expect(grantedWriteActions({ Action: 'ecr-public:SetRepositoryPolicy' })).toEqual([
      'ecr-public:SetRepositoryPolicy',
    ]);
  });
});

describe('what a public rule reads', () => {
  it('reads the catalog only when a field is checked, and the policy only when forbidPublicWrite is on', () => {
    // Assess
    expect(publicReadsFor(policy())).toEqual({ catalog: false, repositoryPolicy: false });
    expect(publicReadsFor(policy({ requiredCatalog: ['logo'], forbidPublicWrite: true }))).toEqual({
      catalog: true,
      repositoryPolicy: true,
    });
    expect(publicReadsFor(policy({ catalog: { aboutText: 'a' } })).catalog).toBe(true);
    expect(
      checkedCatalogFields(policy({ requiredCatalog: ['logo', 'description'], catalog: { usageText: 'u' } })),
    ).toEqual(['description', 'usageText', 'logo']);
  });

  it('has no field of absent catalog data', () => {
    // Assess
    expect(hasCatalogField(undefined, 'description')).toBe(false);
    expect(hasCatalogField(null, 'logo')).toBe(false);
    expect(hasCatalogField({ architectures: [' ', 'ARM'] }, 'architectures')).toBe(true);
  });
});
