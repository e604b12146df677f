import { BusApiError } from './api-error.ts';
import type { BusEvent, EventBusRuleInfo } from './types.ts';

/**
 * The EventBridge JSON 1.1 operations the local bus serves (X-Amz-Target `AWSEvents.<Operation>`): `PutEvents`,
 * plus the read-only `ListRules` and `DescribeRule` for the rules registered in code.
 */

export interface OperationScope {
  account: string;
  region: string;
}

export type BusOperation = (input: unknown, scope: OperationScope) => unknown | Promise<unknown>;

/** What the operations need from the bus. */
export interface OperationsHost {
  emit(input: {
    source: string;
    detailType: string;
    detail: unknown;
    resources?: string[];
    account?: string;
    region?: string;
    time?: Date;
    eventBusName?: string;
  }): BusEvent;
  listRules(): EventBusRuleInfo[];
}

/** Entries per PutEvents call. */
export const MAX_ENTRIES = 10;
/** Total entry size limit of a PutEvents request (the entries must stay below it). */
export const MAX_REQUEST_SIZE = 256 * 1024;
/** Bytes counted for an entry's Time, as in AWS's size calculation. */
const TIME_SIZE = 14;
const MAX_DETAIL_TYPE = 128;
/** Deepest nesting of an entry's Detail JSON ([M-EB]: "JSON detail nesting ≤ 1000 levels"). */
export const MAX_DETAIL_DEPTH = 1000;

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const validation = (message: string) => new BusApiError('ValidationException', message);

const utf8 = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);

/**
 * The size AWS counts for one entry: 14 bytes when Time is given, plus the UTF-8 bytes of Source, DetailType,
 * Detail and each Resource (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html).
 */
export function entrySize(entry: unknown): number {
  if (!isRecord(entry)) return 0;
  let size = entry.Time === undefined || entry.Time === null ? 0 : TIME_SIZE;
  size += utf8(entry.Source) + utf8(entry.DetailType) + utf8(entry.Detail);
  if (Array.isArray(entry.Resources)) for (const resource of entry.Resources) size += utf8(resource);
  return size;
}

/** The bus name out of a name or an event bus ARN (`arn:aws:events:<region>:<account>:event-bus/<name>`). */
export function busName(nameOrArn: string | undefined): string {
  if (nameOrArn === undefined || nameOrArn === '') return 'default';
  const match = /^arn:[^:]+:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(nameOrArn);
  return match?.[1] ?? nameOrArn;
}

export function ruleArn(name: string, eventBusName: string, scope: OperationScope): string {
  const path = eventBusName === 'default' ? name : `${eventBusName}/${name}`;
  return `arn:aws:events:${scope.region}:${scope.account}:rule/${path}`;
}

const invalid = (parameter: string, reason: string): EntryResult => ({
  ErrorCode: 'InvalidArgument',
  ErrorMessage: `Parameter ${parameter} is not valid. Reason: ${reason}`,
});

function parseTime(value: unknown): Date | undefined | 'invalid' {
  if (value === undefined || value === null) return undefined;
  // The SDK sends timestamps as epoch seconds (JSON 1.1); accept RFC 3339 strings too.
  const date =
    typeof value === 'number' ? new Date(value * 1000) : typeof value === 'string' ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : 'invalid';
}

type EmitInput = Parameters<OperationsHost['emit']>[0];

/** How deep a JSON text nests objects and arrays (strings skipped; one pass). */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/** Checks one entry completely; publishes nothing (the caller publishes once every entry has been checked). */
function checkEntry(entry: unknown, index: number, scope: OperationScope): EntryResult | EmitInput {
  if (!isRecord(entry)) return invalid('Entry', 'Entry must be an object.');
  const { Source, DetailType, Detail, Resources, EventBusName } = entry;
  if (typeof Source !== 'string' || Source === '') return invalid('Source', 'Source is a required argument.');
  // EventBridge reserves the `aws.` sources for AWS services: a client may not publish as one.
  if (Source.startsWith('aws.')) {
    return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
  }
  if (typeof DetailType !== 'string' || DetailType === '') {
    return invalid('DetailType', 'DetailType is a required argument.');
  }
  if (DetailType.length > MAX_DETAIL_TYPE) {
    return invalid('DetailType', `DetailType must be at most ${MAX_DETAIL_TYPE} characters.`);
  }
  if (typeof Detail !== 'string' || Detail === '') return invalid('Detail', 'Detail is a required argument.');
  if (jsonDepth(Detail) > MAX_DETAIL_DEPTH) {
    // The whole request fails (HTTP 400, nothing published): code that walks such a detail recursively would fail.
    throw validation(
      `1 validation error detected: the Detail of entry ${index + 1} nests deeper than ${MAX_DETAIL_DEPTH} levels`,
    );
  }
  let detail: unknown;
  try {
    detail = JSON.parse(Detail);
  } catch {
    detail = undefined;
  }
  if (!isRecord(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  if (Resources !== undefined && Resources !== null) {
    if (!Array.isArray(Resources) || !Resources.every((resource) => typeof resource === 'string')) {
      return invalid('Resources', 'Resources must be a list of strings.');
    }
  }
  const time = parseTime(entry.Time);
  if (time === 'invalid') return invalid('Time', 'Time must be a timestamp.');
  if (
    EventBusName !== undefined &&
    EventBusName !== null &&
    (typeof EventBusName !== 'string' || EventBusName === '')
  ) {
    return invalid('EventBusName', 'EventBusName must be a non-empty string.');
  }
  return {
    source: Source,
    detailType: DetailType,
    detail,
    resources: (Resources as string[] | undefined | null) ?? [],
    account: scope.account,
    region: scope.region,
    time,
    eventBusName: busName(EventBusName ?? undefined),
  };
}

function describeEntries(entries: readonly unknown[]): string {
  const parts = entries.map((entry) => {
    const record = isRecord(entry) ? entry : {};
    return `PutEventsRequestEntry(Source=${String(record.Source)}, DetailType=${String(record.DetailType)})`;
  });
  return `[${parts.join(', ')}]`;
}

export function putEvents(host: OperationsHost, input: unknown, scope: OperationScope) {
  if (!isRecord(input)) throw new BusApiError('SerializationException', 'The request body must be a JSON object');
  const entries = input.Entries;
  if (entries === undefined || entries === null) {
    throw validation(
      "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
    );
  }
  if (!Array.isArray(entries)) throw new BusApiError('SerializationException', 'Entries must be a list');
  if (entries.length < 1) {
    throw validation(
      "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  }
  if (entries.length > MAX_ENTRIES) {
    throw validation(
      `1 validation error detected: Value '${describeEntries(entries)}' at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`,
    );
  }
  const size = entries.reduce<number>((total, entry) => total + entrySize(entry), 0);
  if (size >= MAX_REQUEST_SIZE) throw validation('Total size of the entries in the request is over the limit.');
  // Validate every entry, then act: no entry is published when the request as a whole fails.
  const checked = entries.map((entry, index) => checkEntry(entry, index, scope));
  const results = checked.map(
    (result): EntryResult =>
      'ErrorCode' in result || 'EventId' in result ? result : { EventId: host.emit(result).id },
  );
  return {
    FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length,
    Entries: results,
  };
}

function ruleOutput(rule: EventBusRuleInfo, scope: OperationScope) {
  return {
    Name: rule.name,
    Arn: ruleArn(rule.name, rule.eventBusName, scope),
    EventBusName: rule.eventBusName,
    State: 'ENABLED',
    ...(rule.eventPattern ? { EventPattern: JSON.stringify(rule.eventPattern) } : {}),
    ...(rule.scheduleExpression ? { ScheduleExpression: rule.scheduleExpression } : {}),
  };
}

function listRules(host: OperationsHost, input: unknown, scope: OperationScope) {
  const body = isRecord(input) ? input : {};
  const bus = busName(typeof body.EventBusName === 'string' ? body.EventBusName : undefined);
  const prefix = typeof body.NamePrefix === 'string' ? body.NamePrefix : '';
  const rules = host
    .listRules()
    .filter((rule) => rule.eventBusName === bus && rule.name.startsWith(prefix))
    .map((rule) => ruleOutput(rule, scope));
  return { Rules: rules };
}

function describeRule(host: OperationsHost, input: unknown, scope: OperationScope) {
  const body = isRecord(input) ? input : {};
  if (typeof body.Name !== 'string' || body.Name === '') {
    throw validation(
      "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
    );
  }
  const bus = busName(typeof body.EventBusName === 'string' ? body.EventBusName : undefined);
  const rule = host.listRules().find((candidate) => candidate.name === body.Name && candidate.eventBusName === bus);
  if (!rule) {
    throw new BusApiError('ResourceNotFoundException', `Rule ${body.Name} does not exist on EventBus ${bus}.`);
  }
  return { ...ruleOutput(rule, scope), CreatedBy: scope.account };
}

export function createOperations(host: OperationsHost): Record<string, BusOperation> {
  return {
    PutEvents: (input, scope) => putEvents(host, input, scope),
    ListRules: (input, scope) => listRules(host, input, scope),
    DescribeRule: (input, scope) => describeRule(host, input, scope),
  };
}

/**
 * How a registry's data directory keeps what each operation does, in one place (a test fails for an operation
 * missing here): `change` (a configuration change, journalled with its input and replayed), `read`, or `delivery`
 * (PutEvents: events are deliveries, not state; nothing is delivered again after a restart). The bus's rules are
 * registered by code, which registers them again at start.
 */
export const busOperationJournalling: Readonly<Record<string, 'change' | 'read' | 'delivery'>> = {
  PutEvents: 'delivery',
  ListRules: 'read',
  DescribeRule: 'read',
};
