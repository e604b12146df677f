import { Cron } from 'croner';

/**
 * EventBridge schedule expressions for rules: `rate(value unit)` and the six-field, UTC `cron(...)` dialect
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html).
 *
 * The cron dialect is translated into croner's: day-of-week 1-7 (SUN-SAT) becomes 0-6, `?` becomes `*`, `nL`
 * (last weekday n of the month) becomes `(n-1)#L`. What croner lacks is evaluated here: the year field and the
 * `W` (nearest weekday) forms of day-of-month.
 */

export type RateUnit = 'minute' | 'hour' | 'day';

export interface RateSchedule {
  kind: 'rate';
  expression: string;
  value: number;
  unit: RateUnit;
  intervalMs: number;
}

/** `W` forms of day-of-month, which croner does not know: `15W` (weekday nearest the 15th) and `LW`. */
export type WeekdayRule = { kind: 'nearest-weekday'; day: number } | { kind: 'last-weekday' };

export interface CronSchedule {
  kind: 'cron';
  expression: string;
  /** The six fields as written. */
  fields: {
    minutes: string;
    hours: string;
    dayOfMonth: string;
    month: string;
    dayOfWeek: string;
    year: string;
  };
  /** The equivalent croner pattern (with a leading seconds field of 0). */
  cronerPattern: string;
  /** Allowed years, ascending; undefined for `*`. */
  years?: readonly number[];
  weekdayRule?: WeekdayRule;
}

export type Schedule = RateSchedule | CronSchedule;

const MINUTE_MS = 60_000;
const UNIT_MS: Record<RateUnit, number> = { minute: MINUTE_MS, hour: 60 * MINUTE_MS, day: 24 * 60 * MINUTE_MS };
const MIN_YEAR = 1970;
const MAX_YEAR = 2199;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

class ScheduleError extends Error {
  constructor(expression: string, reason: string) {
    super(`Invalid schedule expression "${expression}": ${reason}`);
    this.name = 'ScheduleError';
  }
}

interface FieldSpec {
  label: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELD_SPECS = {
  minutes: { label: 'minutes', min: 0, max: 59 },
  hours: { label: 'hours', min: 0, max: 23 },
  dayOfMonth: { label: 'day-of-month', min: 1, max: 31 },
  month: { label: 'month', min: 1, max: 12, names: MONTHS },
  dayOfWeek: { label: 'day-of-week', min: 1, max: 7, names: DAYS },
  year: { label: 'year', min: MIN_YEAR, max: MAX_YEAR },
} satisfies Record<string, FieldSpec>;

/** Parses one value (a number, or a name for month and day-of-week) of a field, checking its range. */
function parseValue(text: string, spec: FieldSpec, fail: (reason: string) => never): number {
  let value: number;
  if (/^\d+$/.test(text)) {
    value = Number(text);
  } else {
    const index = spec.names?.indexOf(text.toUpperCase()) ?? -1;
    if (index < 0) fail(`"${text}" is not a valid ${spec.label} value`);
    value = index + spec.min;
  }
  if (value < spec.min || value > spec.max) {
    fail(`${spec.label} value ${value} is out of range ${spec.min}-${spec.max}`);
  }
  return value;
}

interface Item {
  /** undefined for `*` */
  from?: number;
  to?: number;
  step?: number;
}

/** Parses one list item of the common grammar: `*`, `*\/s`, `a`, `a-b`, `a/s`, `a-b/s`. */
function parseItem(text: string, spec: FieldSpec, fail: (reason: string) => never): Item {
  const match = /^([^/-]+)(?:-([^/-]+))?(?:\/(\d+))?$/.exec(text);
  if (!match) fail(`"${text}" is not a valid ${spec.label} expression`);
  const [, first = '', last, stepText] = match;
  const item: Item = {};
  if (first !== '*') item.from = parseValue(first, spec, fail);
  if (last !== undefined) {
    if (item.from === undefined) fail(`"${text}" is not a valid ${spec.label} range`);
    item.to = parseValue(last, spec, fail);
    if (item.to < item.from) fail(`${spec.label} range "${text}" runs backwards`);
  }
  if (stepText !== undefined) {
    const step = Number(stepText);
    if (step < 1 || step > spec.max - spec.min + 1) fail(`${spec.label} increment in "${text}" is out of range`);
    item.step = step;
  }
  return item;
}

/** Expands a list of common-grammar items to the set of values it allows. */
function expand(items: readonly Item[], spec: FieldSpec): number[] {
  const values = new Set<number>();
  for (const item of items) {
    const from = item.from ?? spec.min;
    const to = item.to ?? (item.step !== undefined || item.from === undefined ? spec.max : item.from);
    for (let value = from; value <= to; value += item.step ?? 1) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

/** Renders a common-grammar item for croner, shifting values by `shift` (day-of-week: -1). */
function renderItem(item: Item, shift = 0): string {
  const base = item.from === undefined ? '*' : String(item.from + shift);
  const range = item.to === undefined ? '' : `-${item.to + shift}`;
  const step = item.step === undefined ? '' : `/${item.step}`;
  return `${base}${range}${step}`;
}

function commonField(text: string, spec: FieldSpec, fail: (reason: string) => never): Item[] {
  if (text === '') fail(`the ${spec.label} field is empty`);
  return text.split(',').map((part) => parseItem(part, spec, fail));
}

function translateDayOfMonth(
  text: string,
  fail: (reason: string) => never,
): { croner: string; weekdayRule?: WeekdayRule } {
  const upper = text.toUpperCase();
  if (upper === '?') return { croner: '*' };
  if (upper === 'L') return { croner: 'L' };
  if (upper === 'LW') return { croner: '*', weekdayRule: { kind: 'last-weekday' } };
  const nearest = /^(\d+)W$/.exec(upper);
  if (nearest) {
    const day = parseValue(nearest[1] ?? '', FIELD_SPECS.dayOfMonth, fail);
    return { croner: '*', weekdayRule: { kind: 'nearest-weekday', day } };
  }
  if (/[LW?]/.test(upper)) fail(`"${text}" is not a valid day-of-month expression (L, LW and nW stand alone)`);
  return {
    croner: commonField(text, FIELD_SPECS.dayOfMonth, fail)
      .map((item) => renderItem(item))
      .join(','),
  };
}

function translateDayOfWeek(text: string, fail: (reason: string) => never): string {
  if (text === '?') return '*';
  if (text === '') fail('the day-of-week field is empty');
  const spec = FIELD_SPECS.dayOfWeek;
  return text
    .split(',')
    .map((part) => {
      const upper = part.toUpperCase();
      if (upper === 'L') return '6'; // the last day of the week: Saturday
      const last = /^([^#L]+)L$/.exec(upper);
      if (last) return `${parseValue(last[1] ?? '', spec, fail) - 1}#L`;
      const nth = /^([^#]+)#(\d+)$/.exec(upper);
      if (nth) {
        const occurrence = Number(nth[2]);
        if (occurrence < 1 || occurrence > 5) fail(`day-of-week occurrence in "${part}" must be 1-5`);
        return `${parseValue(nth[1] ?? '', spec, fail) - 1}#${occurrence}`;
      }
      return renderItem(parseItem(part, spec, fail), -1);
    })
    .join(',');
}

function parseRate(expression: string, body: string): RateSchedule {
  const match = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body);
  if (!match) {
    throw new ScheduleError(expression, 'expected rate(value unit) with unit minute(s), hour(s) or day(s)');
  }
  const value = Number(match[1]);
  const written = match[2] ?? '';
  const unit = written.replace(/s$/, '') as RateUnit;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ScheduleError(expression, 'the rate value must be a positive whole number');
  }
  if (value === 1 && written !== unit) {
    throw new ScheduleError(expression, `use the singular unit "${unit}" for a value of 1`);
  }
  if (value > 1 && written === unit) {
    throw new ScheduleError(expression, `use the plural unit "${unit}s" for a value greater than 1`);
  }
  return { kind: 'rate', expression, value, unit, intervalMs: value * UNIT_MS[unit] };
}

function parseCron(expression: string, body: string): CronSchedule {
  const fail = (reason: string): never => {
    throw new ScheduleError(expression, reason);
  };
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6 || body.trim() === '') {
    fail(`cron needs six fields (minutes hours day-of-month month day-of-week year), got ${parts.length}`);
  }
  const [minutes = '', hours = '', dayOfMonth = '', month = '', dayOfWeek = '', year = ''] = parts;
  const domUnset = dayOfMonth === '?';
  const dowUnset = dayOfWeek === '?';
  if (domUnset === dowUnset) {
    fail('exactly one of day-of-month and day-of-week must be "?"');
  }
  for (const [label, value] of [
    ['minutes', minutes],
    ['hours', hours],
    ['month', month],
    ['year', year],
  ]) {
    if (value?.includes('?')) fail(`"?" is only allowed in day-of-month or day-of-week, not in ${label}`);
  }
  const minuteItems = commonField(minutes, FIELD_SPECS.minutes, fail);
  const hourItems = commonField(hours, FIELD_SPECS.hours, fail);
  const monthItems = commonField(month, FIELD_SPECS.month, fail);
  const yearItems = commonField(year, FIELD_SPECS.year, fail);
  const dom = translateDayOfMonth(dayOfMonth, fail);
  const dow = translateDayOfWeek(dayOfWeek, fail);
  const cronerPattern = [
    '0',
    minuteItems.map((item) => renderItem(item)).join(','),
    hourItems.map((item) => renderItem(item)).join(','),
    dom.croner,
    monthItems.map((item) => renderItem(item)).join(','),
    dow,
  ].join(' ');
  try {
    cronFor(cronerPattern);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const schedule: CronSchedule = {
    kind: 'cron',
    expression,
    fields: { minutes, hours, dayOfMonth, month, dayOfWeek, year },
    cronerPattern,
  };
  if (!(yearItems.length === 1 && yearItems[0]?.from === undefined && yearItems[0]?.step === undefined)) {
    schedule.years = expand(yearItems, FIELD_SPECS.year);
  }
  if (dom.weekdayRule) schedule.weekdayRule = dom.weekdayRule;
  return schedule;
}

/** Parses and validates a schedule expression; throws an Error naming the problem when it is invalid. */
export function parseSchedule(expression: string): Schedule {
  if (typeof expression !== 'string') throw new TypeError('A schedule expression must be a string');
  if (expression.length > 256) throw new ScheduleError(expression, 'longer than 256 characters');
  const match = /^(rate|cron)\((.*)\)$/s.exec(expression.trim());
  if (!match) throw new ScheduleError(expression, 'expected rate(...) or cron(...)');
  const [, kind, body = ''] = match;
  return kind === 'rate' ? parseRate(expression, body) : parseCron(expression, body);
}

const crons = new Map<string, Cron>();

function cronFor(pattern: string): Cron {
  let cron = crons.get(pattern);
  if (!cron) {
    if (crons.size >= 1000) crons.clear();
    cron = new Cron(pattern, { timezone: 'Etc/UTC', legacyMode: false, paused: true });
    crons.set(pattern, cron);
  }
  return cron;
}

const daysInMonth = (year: number, monthIndex: number) => new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
const weekday = (year: number, monthIndex: number, day: number) =>
  new Date(Date.UTC(year, monthIndex, day)).getUTCDay();

/** The day of the month a `W` rule selects, or undefined when it selects none (e.g. 31W in a 30-day month). */
function weekdayRuleDay(rule: WeekdayRule, year: number, monthIndex: number): number | undefined {
  const last = daysInMonth(year, monthIndex);
  if (rule.kind === 'last-weekday') {
    const dow = weekday(year, monthIndex, last);
    return dow === 6 ? last - 1 : dow === 0 ? last - 2 : last;
  }
  if (rule.day > last) return undefined;
  const dow = weekday(year, monthIndex, rule.day);
  if (dow === 6) return rule.day === 1 ? 3 : rule.day - 1;
  if (dow === 0) return rule.day === last ? rule.day - 2 : rule.day + 1;
  return rule.day;
}

const SECOND_MS = 1000;

/**
 * The first time strictly after `after` at which the schedule fires, or null when it never fires again (a cron
 * whose years are all past). A rate schedule fires every interval counted from `anchor` (the time the rule
 * started; default `after`, so the answer is `after` + one interval).
 */
export function nextFireTime(expression: string | Schedule, after: Date, anchor: Date = after): Date | null {
  const schedule = typeof expression === 'string' ? parseSchedule(expression) : expression;
  const afterMs = after.getTime();
  if (Number.isNaN(afterMs)) throw new TypeError('nextFireTime needs a valid date');
  if (schedule.kind === 'rate') {
    const anchorMs = anchor.getTime();
    const periods = Math.max(1, Math.floor((afterMs - anchorMs) / schedule.intervalMs) + 1);
    return new Date(anchorMs + periods * schedule.intervalMs);
  }
  const cron = cronFor(schedule.cronerPattern);
  const years = schedule.years;
  let cursor = after;
  for (let guard = 0; guard < 100_000; guard++) {
    const candidate = cron.nextRun(cursor);
    if (!candidate) return null;
    const year = candidate.getUTCFullYear();
    if (year > MAX_YEAR) return null;
    if (years && !years.includes(year)) {
      const nextYear = years.find((allowed) => allowed > year);
      if (nextYear === undefined) return null;
      cursor = new Date(Date.UTC(nextYear, 0, 1) - SECOND_MS);
      continue;
    }
    if (schedule.weekdayRule) {
      const monthIndex = candidate.getUTCMonth();
      const day = candidate.getUTCDate();
      const target = weekdayRuleDay(schedule.weekdayRule, year, monthIndex);
      if (target !== day) {
        cursor =
          target !== undefined && target > day
            ? new Date(Date.UTC(year, monthIndex, target) - SECOND_MS)
            : new Date(Date.UTC(year, monthIndex + 1, 1) - SECOND_MS);
        continue;
      }
    }
    return candidate;
  }
  return null;
}

/** Convenience for callers holding the text: throws the same errors as parseSchedule. */
export function validateSchedule(expression: string): void {
  parseSchedule(expression);
}
