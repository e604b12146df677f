import type { AWS, AwsIamPolicyStatements } from 'osls';

/**
 * Deployment of ecr-automation (osls, the open fork of the Serverless Framework).
 *
 * - Bundles are ESM, built by serverless-esbuild with the AWS SDK v3 bundled (not taken from the runtime), so that
 *   newer ECR members (exclusion filters, referrers, image status) are present and cold starts stay short.
 * - Every function gets its own IAM role (serverless-iam-roles-per-function) naming only the actions it calls.
 * - Resources use CloudFormation pseudo-parameters (`Fn::Sub`), never `${aws:...}` variables, so that packaging
 *   runs offline with no AWS account.
 * - The local registry (`registry/`) and the CLI (`cli/`) are never part of a bundle.
 */

// `iamRoleStatements` comes from serverless-iam-roles-per-function; osls's own types do not include it.
export type FunctionWithRole = NonNullable<AWS['functions']>[string] & { iamRoleStatements?: AwsIamPolicyStatements };

/** The service's own event bus: work items, reports and verdicts are published here. */
export const SERVICE_EVENT_SOURCE = 'ecr-automation';

const functions: Record<string, FunctionWithRole> = {};

const config: AWS = {
  service: 'ecr-automation',
  frameworkVersion: '4',
  // serverless-esbuild fails on a service with no functions, so the plugins join with the first one.
  plugins: Object.keys(functions).length > 0 ? ['serverless-esbuild', 'serverless-iam-roles-per-function'] : [],
  provider: {
    name: 'aws',
    runtime: 'nodejs22.x',
    architecture: 'arm64',
    region: 'us-east-1',
    stage: '${opt:stage, "dev"}',
    memorySize: 256,
    logRetentionInDays: 14,
    environment: {
      POWERTOOLS_SERVICE_NAME: 'ecr-automation',
    },
  },
  package: { individually: true },
  custom: {
    esbuild: {
      bundle: true,
      minify: true,
      sourcemap: false,
      target: 'node22',
      platform: 'node',
      format: 'esm',
      outputFileExtension: '.mjs',
      mainFields: ['module', 'main'],
      // Bundle @aws-sdk/* too: the runtime's SDK lags the service model.
      exclude: [],
    },
  },
  functions,
};

export default config;
