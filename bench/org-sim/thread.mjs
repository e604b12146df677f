// A worker thread of the organisation simulation (threads.ts): TypeScript through tsx, then the shard's entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
