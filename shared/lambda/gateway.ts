import {
  GetFunctionCommand,
  type LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
} from '@aws-sdk/client-lambda';
import { countedSending } from '../ecr/calls.ts';
import { toServiceGatewayError } from '../ecr/errors.ts';

/**
 * Lambda returns up to 50 functions (ListFunctions) and 50 versions (ListVersionsByFunction) per call [M-LAMBDA]
 * (`MaxListItems` 1–10,000 in the model, capped by the service); aliases are asked 50 at a time too. Paging is by
 * `Marker` / `NextMarker`.
 */
export const LAMBDA_LIST_PAGE_SIZE = 50;

export interface LambdaFunctionRecord {
  functionName: string;
  functionArn?: string;
  /** `Image` for a container-image function, `Zip` otherwise. */
  packageType: string;
  version: string;
}

export interface LambdaAliasRecord {
  name: string;
  functionVersion: string;
  /** Versions a weighted alias also routes to (`RoutingConfig.AdditionalVersionWeights`). */
  additionalVersions: string[];
}

export interface LambdaCodeRecord {
  functionName: string;
  version: string;
  packageType: string;
  /** The image as the function was configured with it (a tag or a digest). */
  imageUri?: string;
  /** The image resolved to its digest when the version was created or updated (`Code.ResolvedImageUri`). */
  resolvedImageUri?: string;
}

/**
 * The read-only Lambda gateway of the in-use provider: the only importer of `@aws-sdk/client-lambda`. It pages every
 * list to the end, maps every error into the ECR gateway's error tree (`toServiceGatewayError`) and counts its
 * calls. It has no mutating method.
 */
export interface LambdaGateway {
  callCounts(): Record<string, number>;
  /** Every function's unpublished version (`$LATEST`) configuration (ListFunctions, pages of 50). */
  listFunctions(): AsyncIterable<LambdaFunctionRecord>;
  /** Every version of a function, `$LATEST` included (ListVersionsByFunction, pages of 50). */
  listVersions(functionName: string): AsyncIterable<LambdaFunctionRecord>;
  /** A function's aliases (ListAliases, pages of 50). */
  listAliases(functionName: string): AsyncIterable<LambdaAliasRecord>;
  /** One version's (or alias's) code location (GetFunction with `Qualifier`). */
  getFunction(functionName: string, qualifier?: string): Promise<LambdaCodeRecord>;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

const toFunction = (configuration: {
  FunctionName?: string;
  FunctionArn?: string;
  PackageType?: string;
  Version?: string;
}): LambdaFunctionRecord | undefined => {
  const functionName = str(configuration.FunctionName);
  if (functionName === undefined) return undefined;
  const functionArn = str(configuration.FunctionArn);
  return {
    functionName,
    ...(functionArn === undefined ? {} : { functionArn }),
    packageType: str(configuration.PackageType) ?? 'Zip',
    version: str(configuration.Version) ?? '$LATEST',
  };
};

export function createLambdaGateway(sdkClient: LambdaClient): LambdaGateway {
  const {
    client,
    call: send,
    callCounts,
  } = countedSending<string, typeof sdkClient>(sdkClient, (operation, error, resource) =>
    toServiceGatewayError('Lambda', operation, error, resource),
  );

  /** Follows `NextMarker` to the last page; a marker seen twice ends the listing rather than looping forever. */
  async function* pages<T>(
    operation: string,
    resource: string | undefined,
    page: (marker: string | undefined) => Promise<{ items: (T | undefined)[]; next?: string }>,
  ): AsyncIterable<T> {
    const seen = new Set<string>();
    let marker: string | undefined;
    do {
      const output = await send(operation, resource, () => page(marker));
      for (const item of output.items) if (item !== undefined) yield item;
      marker = str(output.next);
      if (marker !== undefined && seen.has(marker)) return;
      if (marker !== undefined) seen.add(marker);
    } while (marker !== undefined);
  }

  return {
    callCounts,

    listFunctions: () =>
      pages('ListFunctions', undefined, async (Marker) => {
        const out = await client.send(new ListFunctionsCommand({ Marker, MaxItems: LAMBDA_LIST_PAGE_SIZE }));
        return { items: (out.Functions ?? []).map(toFunction), next: out.NextMarker };
      }),

    listVersions: (FunctionName) =>
      pages('ListVersionsByFunction', FunctionName, async (Marker) => {
        const out = await client.send(
          new ListVersionsByFunctionCommand({ FunctionName, Marker, MaxItems: LAMBDA_LIST_PAGE_SIZE }),
        );
        return { items: (out.Versions ?? []).map(toFunction), next: out.NextMarker };
      }),

    listAliases: (FunctionName) =>
      pages('ListAliases', FunctionName, async (Marker) => {
        const out = await client.send(
          new ListAliasesCommand({ FunctionName, Marker, MaxItems: LAMBDA_LIST_PAGE_SIZE }),
        );
        const items = (out.Aliases ?? []).map((alias): LambdaAliasRecord | undefined => {
          const name = str(alias.Name);
          const functionVersion = str(alias.FunctionVersion);
          if (name === undefined || functionVersion === undefined) return undefined;
          const weights = alias.RoutingConfig?.AdditionalVersionWeights ?? {};
          return { name, functionVersion, additionalVersions: Object.keys(weights).filter((v) => v !== '') };
        });
        return { items, next: out.NextMarker };
      }),

    async getFunction(FunctionName, Qualifier) {
      const resource = Qualifier === undefined ? FunctionName : `${FunctionName}:${Qualifier}`;
      const out = await send('GetFunction', resource, () =>
        client.send(new GetFunctionCommand({ FunctionName, ...(Qualifier === undefined ? {} : { Qualifier }) })),
      );
      const imageUri = str(out.Code?.ImageUri);
      const resolvedImageUri = str(out.Code?.ResolvedImageUri);
      return {
        functionName: str(out.Configuration?.FunctionName) ?? FunctionName,
        version: str(out.Configuration?.Version) ?? Qualifier ?? '$LATEST',
        packageType: str(out.Configuration?.PackageType) ?? 'Zip',
        ...(imageUri === undefined ? {} : { imageUri }),
        ...(resolvedImageUri === undefined ? {} : { resolvedImageUri }),
      };
    },
  };
}
