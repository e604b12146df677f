import { checkLifecyclePolicy, MAX_LIFECYCLE_RULES } from '@ecr-automation/lifecycle';
import { describe, expect, it } from 'vitest';

type Json = Record<string, unknown>;

const rule = (rulePriority: number, selection: Json, action: Json = { type: 'expire' }, extra: Json = {}): Json => ({
  rulePriority,
  selection,
  action,
  ...extra,
});

const untaggedOlderThan = (days: number): Json => ({
  tagStatus: 'untagged',
  countType: 'sinceImagePushed',
  countUnit: 'days',
  countNumber: days,
});

const keepLast = (count: number, tagStatus = 'any'): Json => ({
  tagStatus,
  countType: 'imageCountMoreThan',
  countNumber: count,
});

const check = (rules: unknown, extra: Json = {}) => checkLifecyclePolicy(JSON.stringify({ rules, ...extra }));

/** The reason an invalid policy gives; fails the test when the policy is accepted. */
const reasonFor = (rules: unknown, extra: Json = {}): string => {
  const result = check(rules, extra);
  if (result.valid) throw new Error(`expected ${JSON.stringify(rules)} to be rejected`);
  return result.reason;
};

describe('checkLifecyclePolicy', () => {
  it('accepts the user guide template and fills in the default storage class', () => {
    // Act
    const result = check([
      rule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'], countType: 'imageCountMoreThan', countNumber: 10 }),
      rule(2, untaggedOlderThan(14), { type: 'expire' }, { description: 'drop untagged after two weeks' }),
      rule(3, keepLast(100)),
    ]);
    // Assess
    expect(result).toEqual({
      valid: true,
      policy: {
        rules: [
          {
            rulePriority: 1,
            selection: {
              tagStatus: 'tagged',
              tagPatternList: ['prod*'],
              countType: 'imageCountMoreThan',
              countNumber: 10,
              storageClass: 'standard',
            },
            action: { type: 'expire' },
          },
          {
            rulePriority: 2,
            description: 'drop untagged after two weeks',
            selection: {
              tagStatus: 'untagged',
              countType: 'sinceImagePushed',
              countUnit: 'days',
              countNumber: 14,
              storageClass: 'standard',
            },
            action: { type: 'expire' },
          },
          {
            rulePriority: 3,
            selection: {
              tagStatus: 'any',
              countType: 'imageCountMoreThan',
              countNumber: 100,
              storageClass: 'standard',
            },
            action: { type: 'expire' },
          },
        ],
      },
    });
  });

  it('accepts an archive policy: transition on pull age, expire from the archive after transition', () => {
    // Act
    const result = check([
      rule(
        1,
        { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 },
        { type: 'transition', targetStorageClass: 'archive' },
      ),
      rule(2, {
        tagStatus: 'any',
        storageClass: 'archive',
        countType: 'sinceImageTransitioned',
        countUnit: 'days',
        countNumber: 90,
      }),
    ]);
    // Assess
    expect(result.valid).toBe(true);
  });

  it('accepts priorities that are not contiguous and a tag prefix list', () => {
    // Act
    const result = check([
      rule(10, {
        tagStatus: 'tagged',
        tagPrefixList: ['v1', 'release'],
        countType: 'imageCountMoreThan',
        countNumber: 3,
      }),
      rule(250, untaggedOlderThan(1)),
    ]);
    // Assess
    expect(result.valid).toBe(true);
  });

  it.each([
    ['text that is not JSON', '{"rules": [', 'not valid JSON'],
    ['a JSON array', '[]', 'must be a JSON object'],
    [
      'an unknown top-level property',
      JSON.stringify({ rules: [rule(1, keepLast(1))], version: 1 }),
      "unknown property 'version'",
    ],
  ])('rejects %s', (_name, text, reason) => {
    // Act
    const result = checkLifecyclePolicy(text);
    // Assess
    expect(result).toEqual({ valid: false, reason: expect.stringContaining(reason) });
  });

  it('rejects a missing or empty rule list', () => {
    // Assess
    expect(reasonFor(undefined)).toContain("'rules' must be a non-empty list");
    expect(reasonFor([])).toContain("'rules' must be a non-empty list");
  });

  it(`accepts ${MAX_LIFECYCLE_RULES} rules and rejects ${MAX_LIFECYCLE_RULES + 1}`, () => {
    // Prepare
    const rules = (count: number) =>
      Array.from({ length: count }, (_, index) =>
        rule(index + 1, {
          tagStatus: 'tagged',
          tagPrefixList: [`t${index}`],
          countType: 'imageCountMoreThan',
          countNumber: 1,
        }),
      );
    // Act
    const atLimit = check(rules(MAX_LIFECYCLE_RULES));
    const overLimit = check(rules(MAX_LIFECYCLE_RULES + 1));
    // Assess
    expect(atLimit.valid).toBe(true);
    expect(overLimit).toEqual({ valid: false, reason: expect.stringContaining('at most 50 rules') });
  });

  it.each([
    ['zero', 0],
    ['a negative number', -1],
    ['a fraction', 1.5],
    ['a string', '1'],
  ])('rejects a rulePriority that is %s', (_name, rulePriority) => {
    // Assess
    expect(reasonFor([{ rulePriority, selection: keepLast(1), action: { type: 'expire' } }])).toContain(
      'rules[0].rulePriority must be a positive integer',
    );
  });

  it('rejects a rule without rulePriority, selection or action', () => {
    // Assess
    expect(reasonFor([{ selection: keepLast(1), action: { type: 'expire' } }])).toContain(
      "missing the required property 'rulePriority'",
    );
    expect(reasonFor([{ rulePriority: 1, action: { type: 'expire' } }])).toContain(
      "missing the required property 'selection'",
    );
    expect(reasonFor([{ rulePriority: 1, selection: keepLast(1) }])).toContain(
      "missing the required property 'action'",
    );
  });

  it('rejects two rules with the same priority', () => {
    // Assess
    expect(reasonFor([rule(1, untaggedOlderThan(1)), rule(1, keepLast(5))])).toContain(
      'rulePriority 1 is used by more than one rule',
    );
  });

  it('rejects a description that is not a string', () => {
    // Assess
    expect(reasonFor([rule(1, keepLast(1), { type: 'expire' }, { description: 7 })])).toContain(
      'description must be a string',
    );
  });

  it('rejects unknown properties in a rule, a selection and an action', () => {
    // Assess
    expect(reasonFor([rule(1, keepLast(1), { type: 'expire' }, { name: 'x' })])).toContain(
      "rules[0] has an unknown property 'name'",
    );
    expect(reasonFor([rule(1, { ...keepLast(1), tagStatuses: 'any' })])).toContain("unknown property 'tagStatuses'");
    expect(reasonFor([rule(1, keepLast(1), { type: 'expire', when: 'now' })])).toContain("unknown property 'when'");
  });

  it('rejects a tagStatus outside tagged, untagged and any (compared exactly)', () => {
    // Assess
    expect(reasonFor([rule(1, keepLast(1, 'TAGGED'))])).toContain('tagStatus must be one of [tagged, untagged, any]');
    expect(reasonFor([rule(1, { countType: 'imageCountMoreThan', countNumber: 1 })])).toContain(
      "missing the required property 'tagStatus'",
    );
  });

  it('requires exactly one tag list for tagged rules', () => {
    // Prepare
    const tagged = { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 1 };
    // Assess
    expect(reasonFor([rule(1, tagged)])).toContain('requires exactly one of tagPatternList and tagPrefixList');
    expect(reasonFor([rule(1, { ...tagged, tagPatternList: ['a*'], tagPrefixList: ['a'] })])).toContain(
      'requires exactly one of tagPatternList and tagPrefixList',
    );
    expect(reasonFor([rule(1, { ...tagged, tagPrefixList: [] })])).toContain('tagPrefixList must be a non-empty list');
    expect(reasonFor([rule(1, { ...tagged, tagPatternList: [''] })])).toContain(
      'tagPatternList[0] must be a non-empty string',
    );
  });

  it('rejects tag lists on untagged and any rules', () => {
    // Assess
    expect(reasonFor([rule(1, { ...untaggedOlderThan(1), tagPrefixList: ['a'] })])).toContain(
      "only allowed with tagStatus 'tagged'",
    );
    expect(reasonFor([rule(1, { ...keepLast(1), tagPatternList: ['a*'] })])).toContain(
      "only allowed with tagStatus 'tagged'",
    );
  });

  it('allows four wildcards in a tag pattern and rejects five', () => {
    // Prepare
    const tagged = (pattern: string) => [
      rule(1, { tagStatus: 'tagged', tagPatternList: [pattern], countType: 'imageCountMoreThan', countNumber: 1 }),
    ];
    // Act
    const four = check(tagged('*test*1*2*3'));
    const five = check(tagged('test*1*2*3*4*5'));
    // Assess
    expect(four.valid).toBe(true);
    expect(five).toEqual({ valid: false, reason: expect.stringContaining('has 5 wildcards; at most 4') });
  });

  it('requires countUnit days with the since* count types and rejects it with imageCountMoreThan', () => {
    // Assess
    expect(reasonFor([rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 1 })])).toContain(
      "missing the required property 'countUnit'",
    );
    expect(reasonFor([rule(1, { ...untaggedOlderThan(1), countUnit: 'hours' })])).toContain(
      'countUnit must be one of [days]',
    );
    expect(reasonFor([rule(1, { ...keepLast(1), countUnit: 'days' })])).toContain(
      "countUnit is not allowed with countType 'imageCountMoreThan'",
    );
  });

  it('rejects an unknown countType and a countNumber that is not a positive integer', () => {
    // Assess
    expect(reasonFor([rule(1, { ...keepLast(1), countType: 'imageCountLessThan' })])).toContain(
      'countType must be one of',
    );
    expect(reasonFor([rule(1, keepLast(0))])).toContain('countNumber must be a positive integer');
    expect(reasonFor([rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan' })])).toContain(
      "missing the required property 'countNumber'",
    );
  });

  it('ties the archive storage class to sinceImageTransitioned', () => {
    // Prepare
    const transitioned = { tagStatus: 'any', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 90 };
    // Assess
    expect(reasonFor([rule(1, transitioned)])).toContain("requires storageClass 'archive'");
    expect(reasonFor([rule(1, { ...keepLast(1), storageClass: 'archive' })])).toContain(
      "storageClass 'archive' is only allowed with countType 'sinceImageTransitioned'",
    );
    expect(reasonFor([rule(1, { ...transitioned, storageClass: 'glacier' })])).toContain(
      'storageClass must be one of [standard, archive]',
    );
  });

  it('checks actions: type, transition target and what each count type allows', () => {
    // Assess
    expect(reasonFor([rule(1, keepLast(1), { type: 'delete' })])).toContain('type must be one of [expire, transition]');
    expect(reasonFor([rule(1, keepLast(1), { type: 'transition' })])).toContain(
      "missing the required property 'targetStorageClass'",
    );
    expect(reasonFor([rule(1, keepLast(1), { type: 'transition', targetStorageClass: 'standard' })])).toContain(
      'targetStorageClass must be one of [archive]',
    );
    expect(reasonFor([rule(1, keepLast(1), { type: 'expire', targetStorageClass: 'archive' })])).toContain(
      "targetStorageClass is only allowed with type 'transition'",
    );
    expect(
      reasonFor([rule(1, { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 1 })]),
    ).toContain("countType 'sinceImagePulled' requires type 'transition'");
    expect(
      reasonFor([
        rule(
          1,
          {
            tagStatus: 'any',
            storageClass: 'archive',
            countType: 'sinceImageTransitioned',
            countUnit: 'days',
            countNumber: 1,
          },
          { type: 'transition', targetStorageClass: 'archive' },
        ),
      ]),
    ).toContain("storageClass 'archive' can only be expired");
  });

  it('requires a rule selecting any to have the highest priority', () => {
    // Assess
    expect(reasonFor([rule(1, keepLast(5)), rule(2, untaggedOlderThan(1))])).toContain(
      "the rule with tagStatus 'any' (rulePriority 1) must have the highest rulePriority",
    );
  });

  it('allows one untagged rule per storage class', () => {
    // Assess
    expect(reasonFor([rule(1, untaggedOlderThan(1)), rule(2, { ...untaggedOlderThan(1), countNumber: 5 })])).toContain(
      'only one rule per storage class may select untagged images',
    );
  });

  it('prefixes every reason with "Lifecycle policy validation failure"', () => {
    // Assess
    expect(reasonFor([])).toMatch(/^Lifecycle policy validation failure: /);
  });
});
