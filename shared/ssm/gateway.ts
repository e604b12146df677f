import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { countingResends } from '../ecr/calls.ts';
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
  const counts: Record<string, number> = {};
  const count = (operation: string) => {
    counts[operation] = (counts[operation] ?? 0) + 1;
  };
  const client = countingResends(sdkClient, count);
  return {
    callCounts: () => ({ ...counts }),
    async getParameter(name) {
      count('GetParameter');
      try {
        const out = await client.send(new GetParameterCommand({ Name: name, WithDecryption: false }));
        return typeof out.Parameter?.Value === 'string' ? out.Parameter.Value : '';
      } catch (error) {
        throw toServiceGatewayError('SSM', 'GetParameter', error, name);
      }
    },
  };
}
