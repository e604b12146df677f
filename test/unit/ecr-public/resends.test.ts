import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LimitExceededError } from '../../../shared/ecr/index.ts';
import { createEcrPublicClient, createEcrPublicGateway } from '../../../shared/ecr-public/index.ts';

/**
 * The call counts of the ECR Public gateway over a real client: the SDK's re-sends of a request that failed with
 * 5xx are counted, and a quota error is not re-sent. A loopback server stands in for ECR Public's API.
 */

let server: Server;
let url: string;
let answers: { status: number; body: object }[] = [];
let received = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received++;
      const answer = answers.shift() ?? { status: 200, body: { repositories: [] } };
      response
        .writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' })
        .end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const gateway = () =>
  createEcrPublicGateway(
    createEcrPublicClient({
      endpoint: url,
      maxAttempts: 3,
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    }),
  );

describe('ECR Public call counts over a real client', () => {
  it("counts the SDK's re-sends of a request ECR Public answered with 5xx", async () => {
    // Prepare
    received = 0;
    answers = [{ status: 500, body: { __type: 'ServerException', message: 'try again' } }];
    const g = gateway();
    // Act
    const names: string[] = [];
    for await (const repository of g.listRepositories()) names.push(repository.name);
    // Assess
    expect(names).toEqual([]);
    expect(received).toBe(2);
    expect(g.callCounts()).toEqual({ DescribeRepositories: 2 });
  });

  it('does not re-send a quota error as if it were throttling', async () => {
    // Prepare
    received = 0;
    answers = [{ status: 400, body: { __type: 'LimitExceededException', message: 'quota' } }];
    const g = gateway();
    // Act & Assess
    await expect(g.getRepository('tools/cli')).rejects.toBeInstanceOf(LimitExceededError);
    expect(received).toBe(1);
    expect(g.callCounts()).toEqual({ DescribeRepositories: 1 });
  });
});
