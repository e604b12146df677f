import type { InUseImage } from '../domain/in-use.ts';
import type { LambdaCodeRecord, LambdaGateway } from '../lambda/gateway.ts';
import { checkAborted, collect, type InUseProvider, inUseImage } from './provider.ts';

export interface LambdaProviderOptions {
  /** `all` (ListFunctions) or function names. */
  functions: 'all' | readonly string[];
  repositories?: readonly string[];
  exclude?: readonly string[];
}

/**
 * Lambda: for every container-image function (`PackageType: Image`), every version's image (GetFunction with the
 * version as qualifier): the digest it was resolved to (`Code.ResolvedImageUri`) and the tag it names
 * (`Code.ImageUri`); each alias keeps the images of the versions it routes to. `where` is `function:version` or
 * `function:alias`. Zip functions are skipped after ListFunctions, with no further call.
 */
export function lambdaProvider(gateway: LambdaGateway, options: LambdaProviderOptions): InUseProvider {
  return {
    name: 'lambda',
    ...(options.repositories === undefined ? {} : { repositories: options.repositories }),
    ...(options.exclude === undefined ? {} : { exclude: options.exclude }),
    async gather(signal) {
      const wanted = options.functions === 'all' ? undefined : new Set(options.functions);
      const functions = (await collect(gateway.listFunctions(), signal)).filter(
        (fn) => fn.packageType === 'Image' && (wanted === undefined || wanted.has(fn.functionName)),
      );
      const images: InUseImage[] = [];
      for (const fn of functions) {
        checkAborted(signal);
        const code = new Map<string, LambdaCodeRecord>();
        for (const version of await collect(gateway.listVersions(fn.functionName), signal)) {
          if (version.packageType !== 'Image') continue;
          checkAborted(signal);
          const record = await gateway.getFunction(fn.functionName, version.version);
          code.set(version.version, record);
          images.push(...imagesOf(record, `${fn.functionName}:${version.version}`));
        }
        for (const alias of await collect(gateway.listAliases(fn.functionName), signal)) {
          for (const version of [alias.functionVersion, ...alias.additionalVersions]) {
            let record = code.get(version);
            if (record === undefined) {
              checkAborted(signal);
              record = await gateway.getFunction(fn.functionName, alias.name);
              code.set(version, record);
            }
            images.push(...imagesOf(record, `${fn.functionName}:${alias.name}`));
          }
        }
      }
      return images;
    },
  };
}

function imagesOf(record: LambdaCodeRecord, where: string): InUseImage[] {
  const usedBy = { provider: 'lambda', where } as const;
  const resolved = record.resolvedImageUri === undefined ? undefined : inUseImage(record.resolvedImageUri, usedBy);
  const named = record.imageUri === undefined ? undefined : inUseImage(record.imageUri, usedBy, resolved?.digest);
  return [named ?? resolved].filter((image): image is InUseImage => image !== undefined);
}
