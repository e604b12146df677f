import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startRegistryServer } from './wire/server.ts';

/**
 * The local registry and event bus alone (no demo, no handlers): `local-ecr --port <n> [--bus-log-mb <MiB>]
 * [--data-dir <dir> [--fsync]]`, or `npm run registry -- ...` at the repository's root (`--bus-log-mb`: memory
 * budget of each bus log, default 32; `--data-dir`: keep the state there across restarts). Prints
 * `local registry: <url>` once listening; SIGINT or SIGTERM stops it.
 */
const USAGE = `Usage: local-ecr [--port <n>] [--bus-log-mb <MiB>] [--data-dir <dir> [--fsync]]

The local ECR-compatible registry and EventBridge-like bus, on 127.0.0.1.

  --port <n>          port to listen on, 0 to 65535 (default 0: a free port)
  --bus-log-mb <MiB>  memory budget of each bus log, 1 to 4096 (default 32)
  --data-dir <dir>    keep the registry's state in <dir> (created when absent) across
                      restarts, a kill -9 included: blobs, a journal of every change
                      (written before the change is answered, replayed at start) and
                      the signing keys of login and pagination tokens. One process at a
                      time. Without it, the state lives in memory only.
  --fsync             with --data-dir: flush each change to the disk before answering,
                      so that it also survives a power loss (slower)
  -h, --help          print this and exit

Prints "local registry: <url>" once listening; SIGINT or SIGTERM stops it.`;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'bus-log-mb': { type: 'string', default: '32' },
    'data-dir': { type: 'string' },
    fsync: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`Invalid port ${JSON.stringify(values.port)}: give a number from 0 to 65535`);
  process.exit(2);
}
const busLogMb = Number(values['bus-log-mb']);
if (!Number.isInteger(busLogMb) || busLogMb < 1 || busLogMb > 4_096) {
  console.error(`Invalid --bus-log-mb ${JSON.stringify(values['bus-log-mb'])}: give a number of MiB from 1 to 4096`);
  process.exit(2);
}
const dataDir = values['data-dir'];
if (dataDir === '') {
  console.error('Invalid --data-dir "": give a directory');
  process.exit(2);
}
if (values.fsync && dataDir === undefined) {
  console.error('--fsync needs --data-dir');
  process.exit(2);
}
let server: Awaited<ReturnType<typeof startRegistryServer>>;
try {
  server = await startRegistryServer({
    port,
    busLogBytes: busLogMb * 1024 * 1024,
    dataDir: dataDir === undefined ? undefined : resolve(dataDir),
    fsync: values.fsync,
  });
} catch (error) {
  console.error(`local registry: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
if (server.dataDir) {
  console.log(
    `data directory: ${server.dataDir.path} (${server.dataDir.replayedRecords} journal records replayed in ${server.dataDir.replayMs} ms)`,
  );
}
console.log(`local registry: ${server.url}`);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
