import { createHash } from 'node:crypto';
import { type LambdaFunction, type LambdaVersion, partitionOf, type WorkloadState } from './state.ts';

/** Lambda's REST-JSON paths start here. */
export const LAMBDA_PATH_PREFIX = '/2015-03-31/functions';

/**
 * A Lambda error: `x-amzn-ErrorType` names it (the SDKs read the header first), and the body carries `Type` (User or
 * Service) and `Message`, as Lambda sends them.
 */
export class LambdaError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
    readonly kind: 'User' | 'Service' = status >= 500 ? 'Service' : 'User',
  ) {
    super(message);
  }
}

const invalidValue = (message: string) => new LambdaError('InvalidParameterValueException', message, 400);
/** The front door's model-constraint failure (not one of Lambda's modelled errors). */
const validation = (member: string, value: string, constraint: string) =>
  new LambdaError(
    'ValidationException',
    `1 validation error detected: Value '${value.slice(0, 256)}' at '${member}' failed to satisfy constraint: ${constraint}`,
    400,
  );

export interface LambdaRequest {
  method: string;
  /** The path after the prefix, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  account: string;
  region: string;
  state: WorkloadState | undefined;
}

/** The Lambda operation a request is (for call counts and faults), or undefined when none is served there. */
export function lambdaOperation(method: string, path: string): string | undefined {
  if (method !== 'GET') return undefined;
  if (path === '' || path === '/') return 'ListFunctions';
  const parts = path.replace(/^\//, '').replace(/\/$/, '').split('/');
  if (parts.length === 1) return 'GetFunction';
  if (parts.length === 2 && parts[1] === 'aliases') return 'ListAliases';
  if (parts.length === 2 && parts[1] === 'versions') return 'ListVersionsByFunction';
  return undefined;
}

const FUNCTION_NAME =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;

/** Lambda's timestamps: ISO 8601 with milliseconds and a `+0000` offset. */
const lambdaTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

const functionArn = (request: LambdaRequest, name: string) =>
  `arn:${partitionOf(request.region)}:lambda:${request.region}:${request.account}:function:${name}`;

/** The function a path segment names (a name, a partial or a full ARN), and the qualifier an ARN carries. */
function findFunction(request: LambdaRequest, segment: string): { fn: LambdaFunction; qualifier?: string } {
  let reference: string;
  try {
    reference = decodeURIComponent(segment);
  } catch {
    throw validation('functionName', segment, 'Member must satisfy regular expression pattern');
  }
  if (reference.length < 1 || reference.length > 170) {
    throw validation('functionName', reference, 'Member must have length less than or equal to 170');
  }
  const match = FUNCTION_NAME.exec(reference);
  if (!match) {
    throw validation(
      'functionName',
      reference,
      `Member must satisfy regular expression pattern: ${FUNCTION_NAME.source}`,
    );
  }
  const name = match[7] as string;
  const account = match[5]?.slice(0, -1);
  const region = match[3]?.slice(0, -1);
  const fn =
    (account === undefined || account === request.account) && (region === undefined || region === request.region)
      ? request.state?.functions.find((entry) => entry.name === name)
      : undefined;
  if (!fn) {
    throw new LambdaError('ResourceNotFoundException', `Function not found: ${functionArn(request, name)}`, 404);
  }
  return { fn, qualifier: match[9] };
}

/** `MaxItems` (1..10000) and `Marker`: a page of `items` (after the marker's key) and the next marker. */
function page<T>(request: LambdaRequest, items: T[], key: (item: T) => string, defaultSize: number) {
  const maxItems = request.query.get('MaxItems');
  let size = defaultSize;
  if (maxItems !== null) {
    const value = Number(maxItems);
    if (!/^-?\d+$/.test(maxItems) || !Number.isSafeInteger(value)) {
      throw validation('maxItems', maxItems, 'Member must be an integer');
    }
    if (value < 1) throw validation('maxItems', maxItems, 'Member must have value greater than or equal to 1');
    if (value > 10000) throw validation('maxItems', maxItems, 'Member must have value less than or equal to 10000');
    size = value;
  }
  const marker = request.query.get('Marker');
  let start = 0;
  if (marker !== null) {
    let after: unknown;
    try {
      after = (JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as { a?: unknown }).a;
    } catch {
      after = undefined;
    }
    const index = typeof after === 'string' ? items.findIndex((item) => key(item) === after) : -1;
    if (index < 0) throw invalidValue('Invalid marker');
    start = index + 1;
  }
  const slice = items.slice(start, start + size);
  const last = slice.at(-1);
  const next =
    start + size < items.length && last !== undefined
      ? Buffer.from(JSON.stringify({ a: key(last) })).toString('base64url')
      : undefined;
  return { slice, next };
}

/** A version's configuration; `$LATEST`'s ARN is qualified in a listing of versions, unqualified otherwise. */
function configuration(request: LambdaRequest, fn: LambdaFunction, version: LambdaVersion, qualifyLatest = false) {
  const arn = functionArn(request, fn.name);
  return {
    FunctionName: fn.name,
    FunctionArn: version.version === '$LATEST' && !qualifyLatest ? arn : `${arn}:${version.version}`,
    Role: `arn:${partitionOf(request.region)}:iam::${request.account}:role/${fn.name}-role`,
    CodeSize: 0,
    Description: '',
    Timeout: 3,
    MemorySize: 128,
    LastModified: lambdaTime(version.lastModified),
    CodeSha256: version.resolvedImageUri.split('@sha256:')[1] ?? '',
    Version: version.version,
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: revisionId(fn.name, version),
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Image',
    Architectures: ['x86_64'],
    EphemeralStorage: { Size: 512 },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${fn.name}` },
  };
}

/** A stable UUID-shaped revision id of a version or alias. */
function revisionId(name: string, version: { version: string; resolvedImageUri?: string }): string {
  const text = createHash('sha256')
    .update(`${name}/${version.version}/${version.resolvedImageUri ?? ''}`)
    .digest('hex');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20, 32)}`;
}

/** The version a qualifier names: `$LATEST`, a number or an alias (undefined: none). */
function qualified(fn: LambdaFunction, qualifier: string): LambdaVersion | undefined {
  const alias = fn.aliases.find((entry) => entry.name === qualifier);
  const version = alias ? alias.version : qualifier;
  return fn.versions.find((entry) => entry.version === version);
}

/** Serves one Lambda request: the answer's body (status 200), or a `LambdaError`. */
export function serveLambda(request: LambdaRequest): unknown {
  const operation = lambdaOperation(request.method, request.path);
  const parts = request.path.replace(/^\//, '').replace(/\/$/, '').split('/');
  switch (operation) {
    case 'ListFunctions': {
      const all = request.query.get('FunctionVersion');
      if (all !== null && all !== 'ALL') {
        throw validation('functionVersion', all, 'Member must satisfy enum value set: [ALL]');
      }
      const master = request.query.get('MasterRegion');
      if (master !== null && !/^ALL$|^[a-z]{2}(-gov)?-[a-z]+-\d{1}$/.test(master)) {
        throw validation('masterRegion', master, 'Member must satisfy regular expression pattern');
      }
      const entries: { fn: LambdaFunction; version: LambdaVersion }[] = [];
      for (const fn of request.state?.functions ?? []) {
        for (const version of fn.versions) {
          if (all === 'ALL' || version.version === '$LATEST') entries.push({ fn, version });
        }
      }
      const { slice, next } = page(request, entries, (entry) => `${entry.fn.name}:${entry.version.version}`, 50);
      return {
        Functions: slice.map((entry) => configuration(request, entry.fn, entry.version, all === 'ALL')),
        NextMarker: next,
      };
    }
    case 'GetFunction': {
      const { fn, qualifier: inArn } = findFunction(request, parts[0] as string);
      const qualifier = request.query.get('Qualifier') ?? undefined;
      if (qualifier !== undefined && !/^(|[a-zA-Z0-9$_-]+)$/.test(qualifier)) {
        throw validation('qualifier', qualifier, 'Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)');
      }
      if (qualifier !== undefined && inArn !== undefined && qualifier !== inArn) {
        throw invalidValue('The derived qualifier from the function name does not match the specified qualifier.');
      }
      const wanted = qualifier || inArn || '$LATEST';
      const version = qualified(fn, wanted);
      if (!version) {
        throw new LambdaError(
          'ResourceNotFoundException',
          `Function not found: ${functionArn(request, fn.name)}:${wanted}`,
          404,
        );
      }
      return {
        Configuration: configuration(request, fn, version),
        Code: { RepositoryType: 'ECR', ImageUri: version.imageUri, ResolvedImageUri: version.resolvedImageUri },
        Tags: {},
      };
    }
    case 'ListAliases': {
      const { fn } = findFunction(request, parts[0] as string);
      const functionVersion = request.query.get('FunctionVersion');
      if (functionVersion !== null && !/^(\$LATEST|[0-9]+)$/.test(functionVersion)) {
        throw validation(
          'functionVersion',
          functionVersion,
          'Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)',
        );
      }
      const aliases = fn.aliases.filter((alias) => functionVersion === null || alias.version === functionVersion);
      const { slice, next } = page(request, aliases, (alias) => alias.name, 10000);
      return {
        Aliases: slice.map((alias) => ({
          AliasArn: `${functionArn(request, fn.name)}:${alias.name}`,
          Name: alias.name,
          FunctionVersion: alias.version,
          Description: alias.description,
          RevisionId: revisionId(fn.name, { version: `alias/${alias.name}/${alias.version}` }),
        })),
        NextMarker: next,
      };
    }
    case 'ListVersionsByFunction': {
      const { fn } = findFunction(request, parts[0] as string);
      const { slice, next } = page(request, fn.versions, (version) => version.version, 50);
      return { Versions: slice.map((version) => configuration(request, fn, version, true)), NextMarker: next };
    }
    default:
      throw new LambdaError(
        'UnknownOperationException',
        `The local registry does not implement ${request.method} ${LAMBDA_PATH_PREFIX}${request.path}`,
        404,
      );
  }
}
