import type { InUseConfig } from '../config/in-use-schema.ts';
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
