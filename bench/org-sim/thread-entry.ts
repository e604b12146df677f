import { parentPort, workerData } from 'node:worker_threads';
import { simulate } from './simulation.ts';
import { figuresOf, type ThreadedOptions, type ThreadMessage } from './threads.ts';

/** One shard of the organisation in its own thread (`simulateInThreads`): its figures go back to the main thread. */
const { options, shard } = workerData as { options: ThreadedOptions; shard: { index: number; count: number } };
const post = (message: ThreadMessage) => parentPort?.postMessage(message);
try {
  const result = await simulate({ ...options, shard, onProgress: (status) => post({ kind: 'progress', status }) });
  post({ kind: 'done', figures: figuresOf(result, shard.count), startedAt: result.startedAt, endedAt: result.endedAt });
} catch (error) {
  post({ kind: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
