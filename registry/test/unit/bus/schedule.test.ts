import { describe, expect, it } from 'vitest';
import { nextFireTime, parseSchedule } from '../../../src/bus/schedule.ts';

// 2026-11-24 is a Tuesday.
const AFTER = new Date('2026-11-24T07:30:00Z');

describe('nextFireTime with cron expressions', () => {
  it.each([
    ['cron(0 3 * * ? *)', AFTER, '2026-11-25T03:00:00.000Z'],
    ['cron(0 3 * * ? *)', new Date('2026-11-24T02:59:59.999Z'), '2026-11-24T03:00:00.000Z'],
    ['cron(15 10 ? * 6L 2026-2027)', AFTER, '2026-11-27T10:15:00.000Z'],
    ['cron(15 10 ? * 6L 2026-2027)', new Date('2027-12-31T10:15:00Z'), null],
    ['cron(15 10 ? * 6L 2026-2027)', new Date('2025-03-01T00:00:00Z'), '2026-01-30T10:15:00.000Z'],
    ['cron(0/15 * * * ? *)', AFTER, '2026-11-24T07:45:00.000Z'],
    ['cron(0/15 * * * ? *)', new Date('2026-11-24T23:59:00Z'), '2026-11-25T00:00:00.000Z'],
    ['cron(0 8 ? * MON-FRI *)', AFTER, '2026-11-24T08:00:00.000Z'],
    ['cron(0 8 ? * MON-FRI *)', new Date('2026-11-27T08:00:00Z'), '2026-11-30T08:00:00.000Z'],
    ['cron(0 8 ? * 2-6 *)', new Date('2026-11-27T08:00:00Z'), '2026-11-30T08:00:00.000Z'],
    ['cron(0 12 ? * 2#1 *)', AFTER, '2026-12-07T12:00:00.000Z'],
    ['cron(0 12 ? * MON#1 *)', new Date('2026-12-31T00:00:00Z'), '2027-01-04T12:00:00.000Z'],
    ['cron(0 0 ? * 1 *)', AFTER, '2026-11-29T00:00:00.000Z'],
    ['cron(0 0 ? * 7 *)', AFTER, '2026-11-28T00:00:00.000Z'],
    ['cron(0 0 ? * SUN,SAT *)', AFTER, '2026-11-28T00:00:00.000Z'],
    ['cron(0 0 ? * L *)', AFTER, '2026-11-28T00:00:00.000Z'],
    ['cron(0 0 L * ? *)', new Date('2027-02-01T00:00:00Z'), '2027-02-28T00:00:00.000Z'],
    ['cron(0 9 15W * ? *)', new Date('2026-11-01T00:00:00Z'), '2026-11-16T09:00:00.000Z'],
    ['cron(0 9 1W * ? *)', new Date('2026-07-31T00:00:00Z'), '2026-08-03T09:00:00.000Z'],
    ['cron(0 9 LW * ? *)', new Date('2027-01-01T00:00:00Z'), '2027-01-29T09:00:00.000Z'],
    ['cron(30 6 1,15 * ? *)', AFTER, '2026-12-01T06:30:00.000Z'],
    ['cron(0 0 1 JAN ? 2030)', AFTER, '2030-01-01T00:00:00.000Z'],
    ['cron(0 0 29 2 ? 2100-2199)', AFTER, '2104-02-29T00:00:00.000Z'],
    ['cron(*/10 1-3 ? JAN-MAR,DEC SUN,SAT 2026/2)', AFTER, '2026-12-05T01:00:00.000Z'],
    ['cron(0 0 1 1 ? 2020)', AFTER, null],
  ])('gives the next fire of %s after %s', (expression, after, expected) => {
    // Act
    const next = nextFireTime(expression, after);

    // Assess
    expect(next?.toISOString() ?? null).toBe(expected);
  });

  it('fires strictly after the given time', () => {
    // Prepare
    const exactlyAtFire = new Date('2026-11-25T03:00:00Z');

    // Act
    const next = nextFireTime('cron(0 3 * * ? *)', exactlyAtFire);

    // Assess
    expect(next?.toISOString()).toBe('2026-11-26T03:00:00.000Z');
  });

  it('accepts an already parsed schedule', () => {
    // Prepare
    const schedule = parseSchedule('cron(0 8 ? * MON-FRI *)');

    // Act
    const next = nextFireTime(schedule, AFTER);

    // Assess
    expect(next?.toISOString()).toBe('2026-11-24T08:00:00.000Z');
  });
});

describe('nextFireTime with rate expressions', () => {
  it.each([
    ['rate(5 minutes)', '2026-11-24T07:35:00.000Z'],
    ['rate(1 minute)', '2026-11-24T07:31:00.000Z'],
    ['rate(1 hour)', '2026-11-24T08:30:00.000Z'],
    ['rate(12 hours)', '2026-11-24T19:30:00.000Z'],
    ['rate(1 day)', '2026-11-25T07:30:00.000Z'],
    ['rate(7 days)', '2026-12-01T07:30:00.000Z'],
  ])('gives one interval after the time for %s', (expression, expected) => {
    // Act
    const next = nextFireTime(expression, AFTER);

    // Assess
    expect(next?.toISOString()).toBe(expected);
  });

  it('counts intervals from the anchor when one is given', () => {
    // Prepare
    const anchor = new Date('2026-11-24T07:00:00Z');
    const after = new Date('2026-11-24T07:12:00Z');

    // Act
    const next = nextFireTime('rate(5 minutes)', after, anchor);

    // Assess
    expect(next?.toISOString()).toBe('2026-11-24T07:15:00.000Z');
  });
});

describe('parseSchedule', () => {
  it('translates the EventBridge cron dialect into the croner pattern', () => {
    // Act
    const schedule = parseSchedule('cron(15 10 ? * 6L 2026-2027)');

    // Assess
    expect(schedule).toMatchObject({
      kind: 'cron',
      cronerPattern: '0 15 10 * * 5#L',
      years: [2026, 2027],
    });
  });

  it('describes a rate with its interval', () => {
    // Act
    const schedule = parseSchedule('rate(5 minutes)');

    // Assess
    expect(schedule).toEqual({
      kind: 'rate',
      expression: 'rate(5 minutes)',
      value: 5,
      unit: 'minute',
      intervalMs: 300_000,
    });
  });

  it.each([
    ['rate(1 minutes)', /singular unit "minute"/],
    ['rate(2 hour)', /plural unit "hours"/],
    ['rate(0 minutes)', /positive whole number/],
    ['rate(-5 minutes)', /expected rate\(value unit\)/],
    ['rate(5 weeks)', /expected rate\(value unit\)/],
    ['rate(5minutes)', /expected rate\(value unit\)/],
    ['every 5 minutes', /expected rate\(\.\.\.\) or cron\(\.\.\.\)/],
    ['cron(0 3 * * * *)', /exactly one of day-of-month and day-of-week must be "\?"/],
    ['cron(0 3 ? * ? *)', /exactly one of day-of-month and day-of-week must be "\?"/],
    ['cron(0 3 * * ?)', /six fields .* got 5/],
    ['cron(0 0 3 * * ? *)', /six fields .* got 7/],
    ['cron()', /six fields/],
    ['cron(60 3 * * ? *)', /minutes value 60 is out of range 0-59/],
    ['cron(0 24 * * ? *)', /hours value 24 is out of range 0-23/],
    ['cron(0 3 32 * ? *)', /day-of-month value 32 is out of range 1-31/],
    ['cron(0 3 * 13 ? *)', /month value 13 is out of range 1-12/],
    ['cron(0 3 ? * 0 *)', /day-of-week value 0 is out of range 1-7/],
    ['cron(0 3 ? * 8 *)', /day-of-week value 8 is out of range 1-7/],
    ['cron(0 3 ? * FUN *)', /"FUN" is not a valid day-of-week value/],
    ['cron(0 3 ? * 2#6 *)', /occurrence in "2#6" must be 1-5/],
    ['cron(0 3 * * ? 1969)', /year value 1969 is out of range 1970-2199/],
    ['cron(0 3 * * ? 2200)', /year value 2200 is out of range 1970-2199/],
    ['cron(5-1 * * * ? *)', /range "5-1" runs backwards/],
    ['cron(0/0 * * * ? *)', /increment in "0\/0" is out of range/],
    ['cron(0 ? * * ? *)', /"\?" is only allowed in day-of-month or day-of-week, not in hours/],
    ['cron(0 3 L5 * ? *)', /not a valid day-of-month expression/],
    ['cron(0 3 32W * ? *)', /day-of-month value 32 is out of range/],
  ])('rejects %s with a clear message', (expression, message) => {
    // Act
    const act = () => parseSchedule(expression);

    // Assess
    expect(act).toThrow(message);
    expect(act).toThrow(`Invalid schedule expression "${expression}"`);
  });

  it('rejects an invalid expression in nextFireTime as well', () => {
    // Act
    const act = () => nextFireTime('cron(0 3 * * * *)', AFTER);

    // Assess
    expect(act).toThrow(/exactly one of day-of-month and day-of-week/);
  });
});
