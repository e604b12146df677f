import type { PublicCatalogField, PublicCatalogValues } from '../../domain/settings.ts';
import type { PublicCompliancePolicy } from './policy.ts';
import { publicWriteFindings } from './repository-policy.ts';

/**
 * The compliance of one ECR Public repository: its catalog data against the fields the rule requires and the values
 * it fills in, and its repository policy against writes granted to everyone. Pure: the workflow reads the facts and
 * carries out the fix.
 *
 * PutRepositoryCatalogData replaces the whole catalog data, so the fix is the full catalog to put: every field the
 * repository has, kept, with the config's values in the fields it fixes. A logo is the exception: ECR Public gives it
 * back only as a URL, never as bytes, so a put could not keep it. When the repository has a logo, its catalog is not
 * fixed (a `logo-would-be-dropped` finding says so) and a person fills in the missing fields.
 */

/** A public repository's catalog data as read (GetRepositoryCatalogData). */
export interface PublicCatalogFacts {
  description?: string | undefined;
  aboutText?: string | undefined;
  usageText?: string | undefined;
  architectures?: readonly string[] | undefined;
  operatingSystems?: readonly string[] | undefined;
  /** Present when the repository has a logo: its bytes cannot be read back. */
  logoUrl?: string | undefined;
}

/** What compliance knows of a public repository; a field is undefined when the rule does not check it (not read). */
export interface PublicRepositoryFacts {
  name: string;
  /** null: the repository has no catalog data. */
  catalog?: PublicCatalogFacts | null;
  /** null: the repository has no policy. */
  repositoryPolicy?: string | null;
}

export type PublicComplianceCheck = 'catalog-data' | 'repository-policy';

/** The whole catalog data to put; the logo as base64 (a PNG the config's schema checked). */
export interface PublicCatalogPut {
  description?: string;
  aboutText?: string;
  usageText?: string;
  architectures?: string[];
  operatingSystems?: string[];
  logoBase64?: string;
}

export interface PublicCatalogFix {
  kind: 'put-catalog-data';
  catalog: PublicCatalogPut;
}

export interface PublicComplianceFinding {
  check: PublicComplianceCheck;
  /** Machine-readable: `description-missing`, `architectures-differs`, `logo-would-be-dropped`, `public-write`, ... */
  reason: string;
  repository: string;
  detail: string;
  /** Whether the judgement's fix sets it right. */
  fixable: boolean;
}

export interface PublicJudgement {
  findings: PublicComplianceFinding[];
  /** The one PutRepositoryCatalogData that fixes every fixable finding; absent when nothing can be fixed. */
  fix?: PublicCatalogFix;
}

/** Every catalog field once, in the catalog's order (the type makes a field left out a compile error). */
const CATALOG_FIELDS = Object.keys({
  description: true,
  aboutText: true,
  usageText: true,
  architectures: true,
  operatingSystems: true,
  logo: true,
} satisfies Record<PublicCatalogField, true>) as PublicCatalogField[];

/** `aboutText` → `about-text`: the field's part of a reason. */
const reasonPart = (field: PublicCatalogField) => field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** Whether the repository has the field: an empty (or blank) text, an empty list and no logo count as missing. */
export function hasCatalogField(catalog: PublicCatalogFacts | null | undefined, field: PublicCatalogField): boolean {
  if (!catalog) return false;
  switch (field) {
    case 'description':
    case 'aboutText':
    case 'usageText':
      return (catalog[field] ?? '').trim() !== '';
    case 'architectures':
    case 'operatingSystems':
      return (catalog[field] ?? []).some((entry) => entry.trim() !== '');
    case 'logo':
      return (catalog.logoUrl ?? '') !== '';
  }
}

const sameSet = (a: readonly string[], b: readonly string[]) => {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((value) => right.has(value));
};

/** Whether a field the repository has differs from the config's value (a logo cannot be compared: never). */
function differs(catalog: PublicCatalogFacts, values: PublicCatalogValues, field: PublicCatalogField): boolean {
  switch (field) {
    case 'description':
    case 'aboutText':
    case 'usageText':
      return values[field] !== undefined && values[field] !== catalog[field];
    case 'architectures':
    case 'operatingSystems': {
      const wanted = values[field];
      return wanted !== undefined && !sameSet(catalog[field] ?? [], wanted);
    }
    case 'logo':
      return false;
  }
}

/** The fields a rule checks: those it requires and those it gives a value for, in the catalog's order. */
export function checkedCatalogFields(policy: PublicCompliancePolicy): PublicCatalogField[] {
  return CATALOG_FIELDS.filter(
    (field) => policy.requiredCatalog.includes(field) || policy.catalog[field] !== undefined,
  );
}

/** What the gather step must read for a public rule (so that unchecked data costs no calls). */
export const publicReadsFor = (policy: PublicCompliancePolicy) => ({
  catalog: checkedCatalogFields(policy).length > 0,
  repositoryPolicy: policy.forbidPublicWrite,
});

/** The catalog to put: what the repository has, with the config's values in `fields`. */
function mergedCatalog(
  catalog: PublicCatalogFacts | null | undefined,
  values: PublicCatalogValues,
  fields: ReadonlySet<PublicCatalogField>,
): PublicCatalogPut {
  const put: PublicCatalogPut = {};
  const pick = <T>(field: PublicCatalogField, own: T | undefined, wanted: T | undefined): T | undefined =>
    fields.has(field) ? wanted : own;
  const description = pick('description', catalog?.description, values.description);
  const aboutText = pick('aboutText', catalog?.aboutText, values.aboutText);
  const usageText = pick('usageText', catalog?.usageText, values.usageText);
  const architectures = pick('architectures', catalog?.architectures, values.architectures);
  const operatingSystems = pick('operatingSystems', catalog?.operatingSystems, values.operatingSystems);
  if (description !== undefined) put.description = description;
  if (aboutText !== undefined) put.aboutText = aboutText;
  if (usageText !== undefined) put.usageText = usageText;
  if (architectures !== undefined) put.architectures = [...architectures];
  if (operatingSystems !== undefined) put.operatingSystems = [...operatingSystems];
  if (fields.has('logo') && values.logo !== undefined) put.logoBase64 = values.logo;
  return put;
}

/**
 * Judges one public repository against its rule: a finding per checked catalog field that is missing (or, with
 * `overwrite`, differs from the config's value), per policy statement granting a write to everyone, and the one
 * catalog put that fixes what the config gives values for. Report or enforce alike: the caller decides whether to
 * carry out the fix.
 */
export function judgePublicRepository(facts: PublicRepositoryFacts, policy: PublicCompliancePolicy): PublicJudgement {
  const findings: PublicComplianceFinding[] = [];
  const fixing = new Set<PublicCatalogField>();
  const catalog = facts.catalog;
  if (catalog !== undefined) {
    for (const field of checkedCatalogFields(policy)) {
      const fixable = policy.catalog[field] !== undefined;
      if (!hasCatalogField(catalog, field)) {
        findings.push({
          check: 'catalog-data',
          reason: `${reasonPart(field)}-missing`,
          repository: facts.name,
          detail:
            catalog === null
              ? `the repository has no catalog data, so no ${field}`
              : `the catalog data has no ${field}`,
          fixable,
        });
        if (fixable) fixing.add(field);
      } else if (policy.overwrite && catalog !== null && differs(catalog, policy.catalog, field)) {
        findings.push({
          check: 'catalog-data',
          reason: `${reasonPart(field)}-differs`,
          repository: facts.name,
          detail: `the catalog data's ${field} differs from the config's, which overwrite replaces it with`,
          fixable: true,
        });
        fixing.add(field);
      }
    }
  }
  let fix: PublicCatalogFix | undefined;
  if (fixing.size > 0) {
    if (hasCatalogField(catalog, 'logo')) {
      for (const finding of findings) finding.fixable = false;
      findings.push({
        check: 'catalog-data',
        reason: 'logo-would-be-dropped',
        repository: facts.name,
        detail:
          "not fixed: PutRepositoryCatalogData replaces the whole catalog data, and the repository's logo cannot be " +
          'read back to be put again; fill in the fields by hand',
        fixable: false,
      });
    } else {
      fix = { kind: 'put-catalog-data', catalog: mergedCatalog(catalog, policy.catalog, fixing) };
    }
  }
  if (policy.forbidPublicWrite && typeof facts.repositoryPolicy === 'string') {
    for (const finding of publicWriteFindings(facts.repositoryPolicy)) {
      findings.push({
        check: 'repository-policy',
        reason: finding.reason,
        repository: facts.name,
        detail: finding.detail,
        fixable: false,
      });
    }
  }
  return fix === undefined ? { findings } : { findings, fix };
}
