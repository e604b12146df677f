import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { addTwoPlatformIndex, createOciLayout, seededBytes, sha256 } from '../../helpers/oci-layout.ts';

/** The layouts test/helpers/oci-layout.ts writes, checked by a tool nobody on this team wrote: umoci 0.4.7. */
const UMOCI = '/usr/bin/umoci';

function umoci(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(UMOCI, args, { env: { PATH: '/usr/bin:/bin' }, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`umoci ${args.join(' ')}: ${stderr}`));
      else resolve(stdout);
    });
  });
}

describe('OCI image layouts for skopeo', { timeout: 60_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'oci-layout-test-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('umoci unpacks every layer: the files, their sizes and bytes, and the diff IDs in the config match', async () => {
    // Prepare
    if (!existsSync(UMOCI)) throw new Error(`${UMOCI} is missing: apt-get install -y umoci (as .ci/run does)`);
    const layout = createOciLayout(join(work, 'layout'));
    const image = layout.addImage({ seed: 'umoci', layers: [{ size: 100_001, files: 3 }, 4_096] });
    layout.tag('v1', image.descriptor);
    // Act: unpack checks every layer against the config's diff_ids as it applies it
    const rootless = process.getuid?.() === 0 ? [] : ['--rootless'];
    await umoci(['unpack', ...rootless, '--image', `${layout.dir}:v1`, join(work, 'bundle')]);
    const stat = await umoci(['stat', '--image', `${layout.dir}:v1`]);
    // Assess
    const rootfs = join(work, 'bundle', 'rootfs', 'data', 'umoci');
    const first = readFileSync(join(rootfs, 'layer-0', 'file-0.bin'));
    expect(first.length).toBe(33_334);
    expect(first.equals(seededBytes('umoci/0/0', 33_334))).toBe(true);
    expect(readFileSync(join(rootfs, 'layer-0', 'file-2.bin')).length).toBe(33_333);
    expect(readFileSync(join(rootfs, 'layer-1', 'file-0.bin')).length).toBe(1_366);
    expect(stat).toContain('test/helpers/oci-layout.ts');
    const config = JSON.parse(layout.readBlob(image.config.digest).toString()) as { rootfs: { diff_ids: string[] } };
    const diffIds = image.layers.map((layer) => sha256(gunzipSync(layout.readBlob(layer.digest))));
    expect(config.rootfs.diff_ids).toEqual(diffIds);
  });

  it('gives the same digests for the same seeds, on every run', () => {
    // Act
    const digests = ['a', 'b'].map((name) => {
      const layout = createOciLayout(join(work, `same-${name}`));
      return addTwoPlatformIndex(layout, 'same', 'multi', [10_000]).descriptor.digest;
    });
    // Assess
    expect(digests[0]).toBe(digests[1]);
  });
});
