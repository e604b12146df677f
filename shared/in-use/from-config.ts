import type { InUseConfig } from '../config/in-use-schema.ts';
import type { Target } from '../domain/target.ts';
import type { EcsGateway } from '../ecs/gateway.ts';
import type { LambdaGateway } from '../lambda/gateway.ts';
import type { S3Gateway } from '../s3/gateway.ts';
import type { SsmGateway } from '../ssm/gateway.ts';
import { ecsProvider } from './ecs.ts';
import { kubernetesProvider } from './kubernetes.ts';
import { lambdaProvider } from './lambda.ts';
import type { InUseProvider } from './provider.ts';

/** The gateways the providers read through, each made only when a configured provider needs it. */
export interface InUseGateways {
  ecs(): EcsGateway;
  lambda(): LambdaGateway;
  s3(): S3Gateway;
  ssm(): SsmGateway;
}

const coverageOf = (section: {
  repositories?: readonly string[] | undefined;
  exclude?: readonly string[] | undefined;
}) => ({
  ...(section.repositories === undefined ? {} : { repositories: section.repositories }),
  ...(section.exclude === undefined ? {} : { exclude: section.exclude }),
});

/** The providers `cleanup.inUse` configures, in a fixed order (ECS, Lambda, Kubernetes); none when it is absent. */
export function inUseProvidersFor(inUse: InUseConfig | undefined, gateways: InUseGateways): InUseProvider[] {
  if (inUse === undefined) return [];
  const providers: InUseProvider[] = [];
  if (inUse.ecs !== undefined) {
    providers.push(ecsProvider(gateways.ecs(), { clusters: inUse.ecs.clusters, ...coverageOf(inUse.ecs) }));
  }
  if (inUse.lambda !== undefined) {
    providers.push(
      lambdaProvider(gateways.lambda(), { functions: inUse.lambda.functions, ...coverageOf(inUse.lambda) }),
    );
  }
  const kubernetes = inUse.kubernetes;
  if (kubernetes !== undefined) {
    const source =
      's3' in kubernetes
        ? { s3: kubernetes.s3, gateway: gateways.s3() }
        : { ssm: kubernetes.ssm, gateway: gateways.ssm() };
    providers.push(kubernetesProvider(source, coverageOf(kubernetes)));
  }
  return providers;
}

/** An account and region whose workloads the providers read, through its own gateways (its role's credentials). */
export interface InUsePlace {
  target: Target;
  gateways: InUseGateways;
}

/**
 * A provider reading one target: what it finds says where (`111122223333/eu-west-1 prod/api`), and its failure
 * names the account and region, so that a report says which account's workloads could not be read.
 */
function inTarget(provider: InUseProvider, target: Target): InUseProvider {
  const place = `${target.account}/${target.region}`;
  return {
    name: provider.name,
    ...(provider.repositories === undefined ? {} : { repositories: provider.repositories }),
    ...(provider.exclude === undefined ? {} : { exclude: provider.exclude }),
    gather: async (signal) => {
      try {
        const images = await provider.gather(signal);
        return images.map((image) => ({
          ...image,
          usedBy: { ...image.usedBy, where: `${place} ${image.usedBy.where}` },
        }));
      } catch (error) {
        throw new Error(
          `account ${target.account} in ${target.region}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    },
  };
}

/**
 * The providers `cleanup.inUse` configures across an organisation: with `places` (the config's targets), the ECS
 * and Lambda providers read every target account and region, so that an image of a central registry is protected by
 * the workloads of every other account that runs it; the Kubernetes list, one object or parameter, is read once
 * through `own`. Without places, `inUseProvidersFor(inUse, own)`.
 */
export function inUseProvidersAcross(
  inUse: InUseConfig | undefined,
  own: InUseGateways,
  places: readonly InUsePlace[],
): InUseProvider[] {
  if (inUse === undefined) return [];
  if (places.length === 0) return inUseProvidersFor(inUse, own);
  const { kubernetes, ...workloads } = inUse;
  const { ecs: _ecs, lambda: _lambda, ...listsOnly } = inUse;
  return [
    ...places.flatMap(({ target, gateways }) =>
      inUseProvidersFor(workloads, gateways).map((provider) => inTarget(provider, target)),
    ),
    ...(kubernetes === undefined ? [] : inUseProvidersFor(listsOnly, own)),
  ];
}
