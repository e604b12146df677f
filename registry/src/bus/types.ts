/** An event as the bus logs and delivers it (EventBridge's envelope). */
export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

/** A rule as ListRules describes it. */
export interface EventBusRuleInfo {
  name: string;
  eventBusName: string;
  eventPattern?: object;
  scheduleExpression?: string;
  nextFireTime?: string;
}
