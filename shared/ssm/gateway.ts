import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { countedSending } from '../ecr/calls.ts';
import { toServiceGatewayError } from '../ecr/errors.ts';

/**
 * The read-only SSM gateway: the only importer of `@aws-sdk/client-ssm`. It reads one parameter's value
 * (GetParameter, without decryption: a `String` parameter, so no `kms:Decrypt` is needed) and maps every error
 * into the ECR gateway's error tree.
 */
export interface SsmGateway {
  callCounts(): Record<string, number>;
  /** The parameter's value (at most 4 KB, or 8 KB for an advanced parameter). */
  getParameter(name: string): Promise<string>;
}

export function createSsmGateway(sdkClient: SSMClient): SsmGateway {
  const { client, call, callCounts } = countedSending<string, SSMClient>(sdkClient, (operation, error, resource) =>
    toServiceGatewayError('SSM', operation, error, resource),
  );
  return {
    callCounts,
    getParameter: (name) =>
      call('GetParameter', name, async () => {
        const out = await client.send(new GetParameterCommand({ Name: name, WithDecryption: false }));
        return typeof out.Parameter?.Value === 'string' ? out.Parameter.Value : '';
      }),
  };
}
