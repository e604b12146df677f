// Imported first by cli/start.ts: the handlers' Powertools logs stay at WARN in the local run unless asked for.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
