import type { RegistryServer } from '@ecr-automation/local-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boto3, requireRealClients } from '../../helpers/real-clients.ts';
import { startTestRegistry } from '../../helpers/registry.ts';

/** Debian's boto3 against the local registry: its paginators, its retries and its error parsing. */
// Child processes (node with tsx, the AWS CLI, Python) start slowly on a loaded machine: a generous limit per test.
describe('boto3 against the local registry', { timeout: 120_000 }, () => {
  let server: RegistryServer;

  beforeAll(async () => {
    requireRealClients();
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('creates, pushes, pages, deletes and reads errors the way it does against ECR', async () => {
    // Prepare
    const program = `
import json, hashlib
import boto3
from botocore.exceptions import ClientError
ecr = boto3.client('ecr', endpoint_url=ENDPOINT, region_name='us-east-1',
                   aws_access_key_id='210987654321', aws_secret_access_key='x')
out = {}
repo = ecr.create_repository(repositoryName='py/app', imageScanningConfiguration={'scanOnPush': False})['repository']
out['registryId'] = repo['registryId']
out['createdAtType'] = type(repo['createdAt']).__name__
# Each manifest's config is uploaded first through the layer API, as a client pushing an image does.
def upload(content):
    upload_id = ecr.initiate_layer_upload(repositoryName='py/app')['uploadId']
    ecr.upload_layer_part(repositoryName='py/app', uploadId=upload_id, partFirstByte=0,
                          partLastByte=len(content) - 1, layerPartBlob=content)
    return ecr.complete_layer_upload(repositoryName='py/app', uploadId=upload_id,
                                     layerDigests=['sha256:' + hashlib.sha256(content).hexdigest()])['layerDigest']
digests = []
for i in range(45):
    config = json.dumps({'architecture': 'amd64', 'os': 'linux', 'build': i}).encode()
    manifest = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
        'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': upload(config), 'size': len(config)},
        'layers': []})
    kwargs = {'imageTag': 'v%d' % i} if i % 3 == 0 else {}
    image = ecr.put_image(repositoryName='py/app', imageManifest=manifest, **kwargs)['image']
    assert image['imageId']['imageDigest'] == 'sha256:' + hashlib.sha256(manifest.encode()).hexdigest()
    digests.append(image['imageId']['imageDigest'])
pages = list(ecr.get_paginator('describe_images').paginate(repositoryName='py/app',
             filter={'tagStatus': 'UNTAGGED'}, PaginationConfig={'PageSize': 7}))
out['untaggedPages'] = len(pages)
out['untaggedMaxPage'] = max(len(p['imageDetails']) for p in pages)
out['untagged'] = len({d['imageDigest'] for p in pages for d in p['imageDetails']})
listed = [i for p in ecr.get_paginator('list_images').paginate(repositoryName='py/app', PaginationConfig={'PageSize': 10}) for i in p['imageIds']]
out['listed'] = len(listed)
deleted = ecr.batch_delete_image(repositoryName='py/app', imageIds=[{'imageDigest': d} for d in digests[:20]])
out['deleted'] = len(deleted['imageIds'])
out['failures'] = len(deleted['failures'])
try:
    ecr.describe_images(repositoryName='py/missing')
except ClientError as error:
    out['errorCode'] = error.response['Error']['Code']
    out['errorStatus'] = error.response['ResponseMetadata']['HTTPStatusCode']
try:
    ecr.put_image(repositoryName='py/app', imageManifest='{"schemaVersion": 2}', imageManifestMediaType='application/vnd.oci.image.manifest.v1+json', imageDigest='sha256:' + '1' * 64)
except ClientError as error:
    out['digestError'] = error.response['Error']['Code']
print(json.dumps(out))
`;
    // Act
    const result = await boto3(server.url, program);
    // Assess
    expect(result.stderr).not.toMatch(/Traceback/);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      registryId: '210987654321',
      createdAtType: 'datetime',
      untaggedPages: 5,
      untaggedMaxPage: 7,
      untagged: 30,
      listed: 45,
      deleted: 20,
      failures: 0,
      errorCode: 'RepositoryNotFoundException',
      errorStatus: 400,
      digestError: 'ImageDigestDoesNotMatchException',
    });
  });
});
