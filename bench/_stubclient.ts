import { ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { buildImageManifest } from '../registry/manifests.ts';
import { runInFlight, timed } from './lib.ts';
const child = spawn(process.execPath, ['/tmp/benchscratch/stub.mjs'], { stdio: ['ignore', 'pipe', 'inherit'] });
const line: string = await new Promise((r) => createInterface({ input: child.stdout! }).once('line', r));
const url = line.split(': ')[1]!;
const client = new ECRClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'A', secretAccessKey: 'b' }, maxAttempts: 1, cacheMiddleware: true });
const N = 20000;
const bodies = Array.from({ length: N }, (_, i) => buildImageManifest({ seed: `s${i}`, annotations: { a: 'x'.repeat(80) } }));
for (const n of [N, N]) {
  const t = await timed(child.pid!, () => runInFlight(n, 8, async (i) => { await client.send(new PutImageCommand({ repositoryName: 'bench/images', imageManifest: bodies[i], imageTag: `b${i}` })); }).then(() => {}));
  console.log(n / t.ms * 1000, t);
}
child.kill();
