import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { SERVICE_EVENT_SOURCE } from '../../../shared/events/publisher.ts';
import {
  CleanupWorkItemSchema,
  EcrImageActionDetailSchema,
  EcrImageScanDetailSchema,
  InspectorFindingDetailSchema,
  InspectorScanDetailSchema,
  ScheduledCleanupDetailSchema,
} from '../../../shared/events/schemas.ts';
import { OUTPUT_EVENT_SCHEMAS } from '../../../shared/runtime/output-events.ts';

/**
 * Every sample in events/ parses: the envelope as EventBridge delivers it, the detail with the schema of its
 * detail-type (the events the service reads with `shared/events/schemas.ts`, the ones it publishes with their
 * workflow's `report.ts`), and every event the service publishes has a sample.
 */
const DIR = resolve(import.meta.dirname, '../../../events');
const samples = readdirSync(DIR)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => ({ name, event: JSON.parse(readFileSync(resolve(DIR, name), 'utf8')) as Record<string, unknown> }));

const INPUT_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  'ECR Image Action': EcrImageActionDetailSchema,
  'ECR Image Scan': EcrImageScanDetailSchema,
  'Inspector2 Scan': InspectorScanDetailSchema,
  'Inspector2 Finding': InspectorFindingDetailSchema,
  'Scheduled Event': ScheduledCleanupDetailSchema,
};
const OUTPUT_SCHEMAS: Readonly<Record<string, z.ZodType>> = OUTPUT_EVENT_SCHEMAS;

const detailTypeOf = (event: Record<string, unknown>) => String(event['detail-type']);

describe('the sample events (events/*.json)', () => {
  it.each(samples)('$name parses with the schema of its detail-type', ({ event }) => {
    // Prepare
    const detailType = detailTypeOf(event);
    const output = OUTPUT_SCHEMAS[detailType];
    const schema = output ?? INPUT_SCHEMAS[detailType];
    // Act
    const envelope = EventBridgeSchema.safeParse(event);
    const detail = schema?.safeParse(event.detail);
    // Assess
    expect(envelope.error?.issues).toBeUndefined();
    expect(schema, `no schema for "${detailType}"`).toBeDefined();
    expect(detail?.error?.issues).toBeUndefined();
    if (output) expect(event.source).toBe(SERVICE_EVENT_SOURCE);
  });

  it('include one of every event the service publishes', () => {
    // Act
    const published = new Set(samples.map(({ event }) => detailTypeOf(event)).filter((type) => type in OUTPUT_SCHEMAS));
    // Assess
    expect([...published].sort()).toEqual(Object.keys(OUTPUT_EVENT_SCHEMAS).sort());
  });

  it('show a work item and a report of an ECR Public repository, and refuse a registry they do not know', () => {
    // Prepare
    const detailOf = (name: string) => samples.find((sample) => sample.name === name)?.event.detail as object;
    const item = detailOf('cleanup-work-item-public.json');
    const report = detailOf('cleanup-report-public.json');
    // Act & Assess
    expect(CleanupWorkItemSchema.parse(item).registry).toBe('public');
    expect(OUTPUT_EVENT_SCHEMAS['Cleanup Report'].parse(report)).toMatchObject({ registry: 'public' });
    expect(CleanupWorkItemSchema.parse(detailOf('cleanup-work-item.json')).registry).toBeUndefined();
    expect(CleanupWorkItemSchema.safeParse({ ...item, registry: 'quay' }).success).toBe(false);
    expect(OUTPUT_EVENT_SCHEMAS['Cleanup Report'].safeParse({ ...report, registry: 'private' }).success).toBe(false);
  });

  it('are refused by their schema when a field drifts from the published type', () => {
    // Prepare
    const sample = samples.find(({ name }) => name === 'cleanup-report.json')?.event;
    const detail = { ...(sample?.detail as object), status: 'finished', extra: true };
    // Act
    const parsed = OUTPUT_EVENT_SCHEMAS['Cleanup Report'].safeParse(detail);
    // Assess
    expect(parsed.error?.issues.map((issue) => issue.code).sort()).toEqual(['invalid_value', 'unrecognized_keys']);
  });
});
