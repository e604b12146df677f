import {
  BatchGetImageCommand,
  DeregisterPullTimeUpdateExclusionCommand,
  DescribeImagesCommand,
  ListPullTimeUpdateExclusionsCommand,
  RegisterPullTimeUpdateExclusionCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { control, ecrClient, startTestRegistry } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

const ROLE = 'arn:aws:iam::123456789012:role/ecr-automation-cleanup';

describe('pull-time update exclusions', () => {
  let server: RegistryServer;

  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    await control(server, 'load', { repositories: [{ name: 'pt/app', images: [{ id: 'a', tags: ['v1'] }] }] });
  });

  const pullTime = async () => {
    const { imageDetails = [] } = await ecrClient(server).send(
      new DescribeImagesCommand({ repositoryName: 'pt/app', imageIds: [{ imageTag: 'v1' }] }),
    );
    return imageDetails[0]?.lastRecordedPullTime;
  };

  it('does not record pulls by an excluded principal, and records them again once it is removed', async () => {
    // Prepare
    const admin = ecrClient(server);
    const automation = ecrClient(server, { account: 'ecr-automation-cleanup' });
    const registered = await admin.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: ROLE }));
    // Act
    await automation.send(new BatchGetImageCommand({ repositoryName: 'pt/app', imageIds: [{ imageTag: 'v1' }] }));
    const afterExcludedRead = await pullTime();
    await admin.send(new DeregisterPullTimeUpdateExclusionCommand({ principalArn: ROLE }));
    await automation.send(new BatchGetImageCommand({ repositoryName: 'pt/app', imageIds: [{ imageTag: 'v1' }] }));
    // Assess
    expect(registered.principalArn).toBe(ROLE);
    expect(registered.createdAt).toBeInstanceOf(Date);
    expect(afterExcludedRead).toBeUndefined();
    expect(await pullTime()).toBeInstanceOf(Date);
  });

  it('lists exclusions and names the exceptions for duplicates, unknown principals and bad ARNs', async () => {
    // Prepare
    const client = ecrClient(server);
    await client.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: ROLE }));
    // Act
    const listed = await client.send(new ListPullTimeUpdateExclusionsCommand({}));
    const duplicate = client.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: ROLE }));
    const unknown = client.send(
      new DeregisterPullTimeUpdateExclusionCommand({ principalArn: 'arn:aws:iam::123456789012:role/nobody' }),
    );
    const malformed = client.send(
      new RegisterPullTimeUpdateExclusionCommand({ principalArn: 'not-an-arn-at-all-xyz' }),
    );
    // Assess
    expect(listed.pullTimeUpdateExclusions).toEqual([ROLE]);
    await expect(duplicate).rejects.toMatchObject({ name: 'ExclusionAlreadyExistsException' });
    await expect(unknown).rejects.toMatchObject({ name: 'ExclusionNotFoundException' });
    await expect(malformed).rejects.toMatchObject({ name: 'InvalidParameterException' });
    expect((await client.send(new ListPullTimeUpdateExclusionsCommand({}))).pullTimeUpdateExclusions).toEqual([ROLE]);
  });
});
