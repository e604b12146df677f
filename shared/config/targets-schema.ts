import { z } from 'zod';
import { ECR_REGIONS, type EcrRegion } from '../domain/regions.ts';

/**
 * The config's `targets` section: the accounts and regions one deployment covers across an AWS Organization, and
 * the role it assumes in each account. Accounts are named (`accounts`) or discovered from AWS Organizations by
 * organisational unit (`organizationalUnits`), less `exclude`. Absent, the service works in its own account and
 * region only.
 *
 * An account both listed in `accounts` and in `exclude` is an error, not a warning: the config says two opposite
 * things about one account, and a run must not guess which one was meant.
 */

/** An AWS account id: 12 digits. */
export const AccountId = z.string().regex(/^\d{12}$/, 'an AWS account id: 12 digits');

/** An organisational unit id (`ou-xxxx-xxxxxxxx`) or the organisation's root id (`r-xxxx`). */
export const OrganizationalUnitId = z
  .string()
  .regex(
    /^(?:ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/,
    'an organisational unit id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)',
  );

const SERVED_REGIONS = Object.values(ECR_REGIONS).flat() as [EcrRegion, ...EcrRegion[]];

/** A region ECR serves (`ECR_REGIONS`, listed in the JSON Schema); an unknown one is refused by name. */
export const TargetRegion = z.enum(SERVED_REGIONS, {
  error: (issue) => `${JSON.stringify(issue.input)} is not a region ECR serves (one of ${SERVED_REGIONS.join(', ')})`,
});

/**
 * An IAM role name, optionally behind its path: `EcrAutomation` or `/platform/ecr/EcrAutomation`. The path's
 * segments take the role name's characters (so no `*` or `?`, which would be wildcards in the IAM resource).
 */
export const RoleName = z
  .string()
  .max(512)
  .regex(
    // IAM's role-name characters, 1–64 of them; each path segment ends with `/`, which the name cannot hold.
    /^(?:\/(?:[\w+=,.@-]+\/)+)?[\w+=,.@-]{1,64}$/,
    'an IAM role name (1–64 of letters, digits and + = , . @ _ -), optionally behind a path /path/',
  );

/** STS's external id: 2–1224 characters of letters, digits and `+ = , . @ : / _ -`. */
export const ExternalId = z
  .string()
  .regex(/^[\w+=,.@:/-]{2,1224}$/, 'an external id: 2–1224 of letters, digits and + = , . @ : / _ -');

export const TargetsConfigSchema = z
  .strictObject({
    accounts: z
      .array(AccountId)
      .min(1)
      .optional()
      .describe('Accounts named by id (12 digits). At least one of accounts and organizationalUnits.'),
    organizationalUnits: z
      .array(OrganizationalUnitId)
      .min(1)
      .optional()
      .describe(
        'Organisational units (ou-…) or the root (r-…) whose active accounts are discovered from AWS Organizations.',
      ),
    exclude: z
      .array(AccountId)
      .optional()
      .describe('Accounts left out of the discovered ones; an account may not be both here and in accounts.'),
    regions: z
      .array(TargetRegion)
      .min(1)
      .describe('The regions worked in, in every target account: regions ECR serves.'),
    roleName: RoleName.describe(
      'The role assumed in each target account (optionally with its path: /path/name); it must trust the service’s functions’ roles.',
    ),
    externalId: ExternalId.optional().describe(
      'The external id passed to AssumeRole, when the target roles’ trust policies require one (sts:ExternalId).',
    ),
    sessionDurationSeconds: z
      .number()
      .int()
      .min(900)
      .max(43_200)
      .default(3600)
      .describe(
        'How long each assumed-role session lasts (900–43200; above 3600 the role’s maximum session duration must allow it).',
      ),
    maxConcurrencyPerTarget: z
      .number()
      .int()
      .min(1)
      .max(50)
      .optional()
      .describe('At most this many ECR requests at once in each account and region.'),
  })
  .superRefine((targets, context) => {
    if (targets.accounts === undefined && targets.organizationalUnits === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['accounts'],
        message: 'name at least one of accounts and organizationalUnits',
      });
    }
    const excluded = new Set(targets.exclude ?? []);
    targets.accounts?.forEach((account, index) => {
      if (excluded.has(account)) {
        context.addIssue({
          code: 'custom',
          path: ['accounts', index],
          message: `account ${account} is both listed and excluded: remove it from one of accounts and exclude`,
        });
      }
    });
  })
  .describe(
    'The accounts (named, or discovered by organisational unit) and regions of an AWS Organization the service works in, and the role it assumes in each.',
  );
export type TargetsConfig = z.infer<typeof TargetsConfigSchema>;

/**
 * The role's ARN path as IAM writes it after `role/`: the path without its leading `/`, then the name
 * (`/platform/ecr/EcrAutomation` → `platform/ecr/EcrAutomation`).
 */
export const roleResourceName = (roleName: string): string => roleName.replace(/^\//, '');
