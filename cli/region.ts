import { loadConfig, NODE_REGION_CONFIG_FILE_OPTIONS, NODE_REGION_CONFIG_OPTIONS } from '@smithy/core/config';

/**
 * The AWS region of a CLI run, for the three CLIs (cleanup, scan-gate, registry:reconcile), in the order the AWS CLI
 * looks: `--region`, then `AWS_REGION`, then `AWS_DEFAULT_REGION` (what the AWS CLI reads), then the `region` of the
 * profile (`AWS_PROFILE`, else `default`) in the shared config and credentials files, read by the SDK's own loader.
 * The instance metadata service is not asked: off EC2 it costs a timeout, and a CLI can be told.
 */
export interface ResolvedRegion {
  region: string;
  /** Where it came from, for messages: `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION` or `profile <name>`. */
  source: string;
}

export const NO_REGION_MESSAGE = 'No AWS region: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION)';
export const NO_REGION_HINT = 'A region in the shared config file for the profile (AWS_PROFILE) is read too.';

/** No region anywhere, or one that is not a region name. Each CLI exits with its code for a usage error. */
export class RegionError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'RegionError';
  }
}

const REGION = /^[a-z]{2,}(?:-[a-z0-9]+)+$/;
/** Longer than any region name (the longest today has 14 characters). */
const MAX_REGION_LENGTH = 64;
const nonEmpty = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value.trim());

/** A region name as ECR's endpoints spell it (`us-east-1`); anything else is a `RegionError` naming its source. */
export function checkedRegion(region: string, source: string): string {
  if (region.length > MAX_REGION_LENGTH || !REGION.test(region)) {
    const shown =
      region.length > MAX_REGION_LENGTH
        ? `${JSON.stringify(region.slice(0, 32))}… (${region.length} characters)`
        : JSON.stringify(region);
    throw new RegionError(`${source} ${shown} is not a region name`, 'For example us-east-1');
  }
  return region;
}

/** The region of the profile in the shared files, as the SDK reads it (undefined when there is none). */
async function profileRegion(env: NodeJS.ProcessEnv): Promise<ResolvedRegion | undefined> {
  const profile = nonEmpty(env.AWS_PROFILE) ?? 'default';
  const configFilepath = nonEmpty(env.AWS_CONFIG_FILE);
  const filepath = nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE);
  const load = loadConfig<string | undefined>(
    {
      // The environment was read above, from the CLI's env; here only the files.
      environmentVariableSelector: () => undefined,
      configFileSelector: NODE_REGION_CONFIG_OPTIONS.configFileSelector,
      default: () => undefined,
    },
    {
      ...NODE_REGION_CONFIG_FILE_OPTIONS,
      profile,
      ignoreCache: true,
      ...(configFilepath === undefined ? {} : { configFilepath }),
      ...(filepath === undefined ? {} : { filepath }),
    },
  );
  let region: string | undefined;
  try {
    region = nonEmpty(await load());
  } catch {
    // An unreadable or malformed shared file holds no region for us; the message below says what to set.
    region = undefined;
  }
  return region === undefined ? undefined : { region, source: `profile ${profile}` };
}

/** The run's region: see the module comment for the order. Throws `RegionError` when there is none or it is bad. */
export async function resolveRegion(flag: string | undefined, env: NodeJS.ProcessEnv): Promise<ResolvedRegion> {
  const found: ResolvedRegion | undefined =
    flag !== undefined
      ? { region: flag, source: '--region' }
      : (['AWS_REGION', 'AWS_DEFAULT_REGION']
          .map((name) => ({ region: nonEmpty(env[name]) ?? '', source: name }))
          .find((candidate) => candidate.region !== '') ?? (await profileRegion(env)));
  if (found === undefined) throw new RegionError(NO_REGION_MESSAGE, NO_REGION_HINT);
  return { region: checkedRegion(found.region, found.source), source: found.source };
}
