import { parseArgs } from 'node:util';
import { startRegistryServer } from './server.ts';

/**
 * The local registry and event bus alone (no demo, no handlers): `npm run registry -- --port <n>`.
 * Prints `local registry: <url>` once listening; SIGINT or SIGTERM stops it.
 */
const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`Invalid port ${JSON.stringify(values.port)}: give a number from 0 to 65535`);
  process.exit(2);
}
const server = await startRegistryServer({ port });
console.log(`local registry: ${server.url}`);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
