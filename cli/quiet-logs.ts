import './sdk-warnings.ts';

// Imported first by cli/start.ts: the handlers' Powertools logs stay at WARN in the local run unless asked for, and
// their CloudWatch metric (EMF) lines stay out of the output unless POWERTOOLS_METRICS_DISABLED=false asks for them.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
