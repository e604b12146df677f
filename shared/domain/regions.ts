/**
 * The regions Amazon ECR serves, by partition: every commercial region, the two China regions (partition `aws-cn`)
 * and the two AWS GovCloud (US) regions (partition `aws-us-gov`). A deployment's `targets.regions` must name regions
 * of this list. AWS opens regions from time to time: a new one is one line here. Regions outside these three
 * partitions (the European Sovereign Cloud, the isolated regions) are left out: their STS and IAM cannot be reached
 * from a role in these partitions.
 */
export const ECR_REGIONS = {
  aws: [
    'us-east-1',
    'us-east-2',
    'us-west-1',
    'us-west-2',
    'af-south-1',
    'ap-east-1',
    'ap-east-2',
    'ap-south-1',
    'ap-south-2',
    'ap-northeast-1',
    'ap-northeast-2',
    'ap-northeast-3',
    'ap-southeast-1',
    'ap-southeast-2',
    'ap-southeast-3',
    'ap-southeast-4',
    'ap-southeast-5',
    'ap-southeast-6',
    'ap-southeast-7',
    'ca-central-1',
    'ca-west-1',
    'eu-central-1',
    'eu-central-2',
    'eu-north-1',
    'eu-south-1',
    'eu-south-2',
    'eu-west-1',
    'eu-west-2',
    'eu-west-3',
    'il-central-1',
    'me-central-1',
    'me-south-1',
    'mx-central-1',
    'sa-east-1',
  ],
  'aws-cn': ['cn-north-1', 'cn-northwest-1'],
  'aws-us-gov': ['us-gov-east-1', 'us-gov-west-1'],
} as const satisfies Record<string, readonly string[]>;

/** An AWS partition: the first part of every ARN (`arn:<partition>:...`). */
export type Partition = keyof typeof ECR_REGIONS;
export type EcrRegion = (typeof ECR_REGIONS)[Partition][number];

const PARTITION_OF: ReadonlyMap<string, Partition> = new Map(
  (Object.entries(ECR_REGIONS) as [Partition, readonly string[]][]).flatMap(([partition, regions]) =>
    regions.map((region) => [region, partition] as const),
  ),
);

/** Whether ECR serves `region` (a name of `ECR_REGIONS`). */
export const isEcrRegion = (region: string): region is EcrRegion => PARTITION_OF.has(region);

/**
 * The partition of a region: `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`, else `aws`. A region not in
 * `ECR_REGIONS` (one AWS opened later) is placed by its prefix.
 */
export function partitionOf(region: string): Partition {
  const listed = PARTITION_OF.get(region);
  if (listed !== undefined) return listed;
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}
