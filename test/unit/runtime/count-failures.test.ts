import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { clearParseErrors, InvalidEventError } from '../../../shared/middleware/clear-parse-errors.ts';
import { countFailures } from '../../../shared/middleware/count-failures.ts';

/** What Powertools printed (EMF lines on stdout, its warnings on stderr) while `run` ran. */
async function printed(run: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  const keep = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(keep);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(keep);
  const warn = vi.spyOn(console, 'warn').mockImplementation((...args) => keep(args.join(' ')));
  const log = vi.spyOn(console, 'log').mockImplementation((...args) => keep(args.join(' ')));
  try {
    await run().catch(() => undefined);
  } finally {
    out.mockRestore();
    err.mockRestore();
    warn.mockRestore();
    log.mockRestore();
  }
  return lines.join('\n');
}

const emitted = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** An event whose repositoryName is a number: the schema refuses it. */
const NOT_A_NAME = JSON.parse('{"repositoryName":7}') as { repositoryName: string };

function handlerThat(body: () => Promise<unknown>) {
  // The tests run in Powertools' dev mode, which prints no metrics unless told to.
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'test' });
  return middy<unknown, unknown, Error, Context>()
    .use(logMetrics(metrics))
    .use(countFailures(metrics))
    .use(clearParseErrors())
    .use(parser({ schema: z.object({ repositoryName: z.string() }) }))
    .handler(body);
}

describe('a failed invocation', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('counts an event its schema refuses as InvalidEvents, instead of warning that it has no metrics', async () => {
    // Prepare
    const handler = handlerThat(async () => 'never');
    // Act
    const text = await printed(() => handler(NOT_A_NAME, {} as Context));
    // Assess
    await expect(handler(NOT_A_NAME, {} as Context)).rejects.toBeInstanceOf(InvalidEventError);
    expect(
      emitted(text).map((line) => ({ InvalidEvents: line.InvalidEvents, Failed: line.FailedInvocations })),
    ).toEqual([{ InvalidEvents: 1, Failed: undefined }]);
    expect(text).not.toContain('No application metrics');
  });

  it('counts any other failure as FailedInvocations and still fails the invocation', async () => {
    // Prepare
    const handler = handlerThat(async () => {
      throw new Error('ThrottlingException');
    });
    // Act
    const text = await printed(() => handler({ repositoryName: 'payments/api' }, {} as Context));
    // Assess
    await expect(handler({ repositoryName: 'payments/api' }, {} as Context)).rejects.toThrow('ThrottlingException');
    expect(
      emitted(text).map((line) => ({ InvalidEvents: line.InvalidEvents, Failed: line.FailedInvocations })),
    ).toEqual([{ InvalidEvents: undefined, Failed: 1 }]);
  });

  it('records nothing when the invocation succeeds', async () => {
    // Prepare
    const handler = handlerThat(async () => 'ok');
    // Act
    const text = await printed(() => handler({ repositoryName: 'payments/api' }, {} as Context));
    // Assess
    expect(emitted(text)).toEqual([]);
  });
});
