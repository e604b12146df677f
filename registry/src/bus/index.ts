export { BusApiError } from './api-error.ts';
export * from './event-bus.ts';
export {
  busName,
  createOperations,
  entrySize,
  MAX_ENTRIES,
  MAX_REQUEST_SIZE,
  putEvents,
  ruleArn,
} from './operations.ts';
export { type EventPattern, matchesPattern, validatePattern } from './pattern.ts';
export * from './schedule.ts';
