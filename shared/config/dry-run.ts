/**
 * Whether a run is dry. An event (a manual run's override, a work item) or a command line may ask for a dry run,
 * never for a live one: the config's `dryRun: true` stands whatever the request says. Anyone who can put an event
 * on a bus could otherwise switch a dry-run deployment to mutating. Every workflow resolves its dry run here, also
 * those whose events (ECR's, Inspector's) carry no request: then only the config decides.
 */
export const resolveDryRun = (configDryRun: boolean, requested?: unknown): boolean =>
  configDryRun || requested === true;
