import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load.ts';
import { type InUseGateways, inUseProvidersFor } from '../../../shared/in-use/index.ts';
import { serviceDeps } from '../../../shared/runtime/service-deps.ts';

const inUseOf = (inUse: unknown) => parseConfig({ cleanup: { inUse } }).cleanup.inUse;

/** Gateways that record which were made; a provider's gather is not run here, so none is called. */
const recordingGateways = () => {
  const made: string[] = [];
  const make = (name: string) => () => {
    made.push(name);
    return {};
  };
  const gateways = {
    ecs: make('ecs'),
    lambda: make('lambda'),
    s3: make('s3'),
    ssm: make('ssm'),
  } as unknown as InUseGateways;
  return { made, gateways };
};

describe('inUseProvidersFor', () => {
  it('makes the configured providers with their coverage, and only the gateways they need', () => {
    // Prepare
    const { made, gateways } = recordingGateways();
    // Act
    const providers = inUseProvidersFor(
      inUseOf({
        ecs: { exclude: ['tmp/**'] },
        kubernetes: { ssm: { parameter: '/eks/images' }, repositories: ['k8s/**'] },
      }),
      gateways,
    );
    // Assess
    expect(providers.map((p) => [p.name, p.repositories, p.exclude])).toEqual([
      ['ecs', undefined, ['tmp/**']],
      ['k8s', ['k8s/**'], undefined],
    ]);
    expect(made).toEqual(['ecs', 'ssm']);
  });

  it('makes none without the section', () => {
    // Prepare
    const { made, gateways } = recordingGateways();
    // Act / Assess
    expect(inUseProvidersFor(undefined, gateways)).toEqual([]);
    expect(made).toEqual([]);
  });

  it('is read by serviceDeps through the configured providers and their own clients', async () => {
    // Prepare
    const ecs = mockClient(ECSClient);
    ecs.on(ListClustersCommand).resolves({ clusterArns: [] });
    const lambda = mockClient(LambdaClient);
    lambda.on(GetFunctionCommand).rejects(Object.assign(new Error('no api'), { name: 'AccessDeniedException' }));
    const inUse = inUseOf({ ecs: {}, lambda: { functions: ['api'] } });
    // Act
    const snapshot = await serviceDeps({ EVENT_BUS_NAME: 'bus' }).inUse?.(inUse as NonNullable<typeof inUse>);
    // Assess: ECS answered (nothing runs), Lambda failed and is reported, not thrown
    expect(snapshot?.images).toEqual([]);
    expect(snapshot?.failures.map((failure) => failure.provider)).toEqual(['lambda']);
    expect(ecs.commandCalls(ListClustersCommand)).toHaveLength(1);
    ecs.restore();
    lambda.restore();
  });
});
