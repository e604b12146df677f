#!/usr/bin/env node
// The local registry alone: `local-ecr [--port <n>] [--bus-log-mb <MiB>] [--data-dir <dir>]` (`--help` for more).
// Node runs the TypeScript sources through tsx, registered here, so the package needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
