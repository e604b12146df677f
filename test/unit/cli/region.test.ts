import { describe, expect, it } from 'vitest';
import { NO_REGION_MESSAGE, RegionError, resolveRegion } from '../../../cli/region.ts';

/** An environment with no shared config files to fall back on. */
const EMPTY = { AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials' };

describe('resolveRegion', () => {
  it('takes --region over AWS_REGION over AWS_DEFAULT_REGION', async () => {
    // Act
    const flag = await resolveRegion('eu-west-1', {
      ...EMPTY,
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-west-2',
    });
    const env = await resolveRegion(undefined, { ...EMPTY, AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-west-2' });
    const fallback = await resolveRegion(undefined, { ...EMPTY, AWS_REGION: ' ', AWS_DEFAULT_REGION: 'us-west-2' });
    // Assess
    expect(flag).toEqual({ region: 'eu-west-1', source: '--region' });
    expect(env).toEqual({ region: 'us-east-1', source: 'AWS_REGION' });
    expect(fallback).toEqual({ region: 'us-west-2', source: 'AWS_DEFAULT_REGION' });
  });

  it('says plainly when there is no region at all', async () => {
    // Assess
    await expect(resolveRegion(undefined, EMPTY)).rejects.toThrow(NO_REGION_MESSAGE);
  });

  it.each([
    ['a path', '../../etc/passwd'],
    ['a host name', 'evil.example.com'],
    ['upper case', 'US-EAST-1'],
    ['spaces', 'us east 1'],
    ['a URL', 'us-east-1.amazonaws.com/x?'],
    ['a huge value', `us-${'a'.repeat(1_000_000)}-1`],
  ])('refuses %s as a region, naming where it came from, with a short message', async (_, region) => {
    // Act
    const flag = resolveRegion(region, EMPTY);
    const env = resolveRegion(undefined, { ...EMPTY, AWS_DEFAULT_REGION: region });
    // Assess
    await expect(flag).rejects.toBeInstanceOf(RegionError);
    await expect(flag).rejects.toThrow(/^--region .* is not a region name$/);
    await expect(env).rejects.toThrow(/^AWS_DEFAULT_REGION .* is not a region name$/);
    expect(((await flag.catch((error: Error) => error)) as Error).message.length).toBeLessThan(200);
  });
});
