/**
 * A small client of the registry API (`/v2/`) for the distribution tests: a login with the token
 * GetAuthorizationToken issues, raw requests, and pushes of blobs and manifests.
 */
import { type ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { MEDIA_TYPES, sha256 } from '../../src/model/manifests.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

/** The digest of content (a string as UTF-8). */
export const digestOf = sha256;

export interface V2Response {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The OCI error codes of an error body (empty for another body). */
  codes: string[];
  json<T = Record<string, unknown>>(): T;
}

/** The `Authorization` header of a registry login with a fresh token from `client`. */
export async function loginHeader(client: ECRClient, registryIds?: string[]): Promise<string> {
  const { authorizationData = [] } = await client.send(new GetAuthorizationTokenCommand({ registryIds }));
  return `Basic ${authorizationData[0]?.authorizationToken ?? ''}`;
}

export class RegistryApi {
  constructor(
    readonly server: RegistryServer,
    readonly authorization: string | undefined,
  ) {}

  async request(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: Buffer | string } = {},
  ): Promise<V2Response> {
    const response = await fetch(`${this.server.url}${path}`, {
      method,
      headers: { ...(this.authorization ? { authorization: this.authorization } : {}), ...options.headers },
      body: options.body,
      redirect: 'manual',
    });
    const body = Buffer.from(await response.arrayBuffer());
    let codes: string[] = [];
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { errors?: { code: string }[] };
      codes = parsed.errors?.map((error) => error.code) ?? [];
    } catch {
      codes = [];
    }
    return {
      status: response.status,
      headers: response.headers,
      body,
      codes,
      json: <T>() => JSON.parse(body.toString('utf8')) as T,
    };
  }

  /** Uploads a blob in one `POST ?digest=`; returns its digest. */
  async pushBlob(repository: string, content: Buffer | string): Promise<string> {
    const digest = digestOf(content);
    const response = await this.request('POST', `/v2/${repository}/blobs/uploads/?digest=${digest}`, {
      headers: { 'content-type': 'application/octet-stream' },
      body: typeof content === 'string' ? Buffer.from(content) : content,
    });
    if (response.status !== 201) throw new Error(`blob push: HTTP ${response.status} ${response.body.toString()}`);
    return digest;
  }

  async pushManifest(
    repository: string,
    reference: string,
    manifest: string,
    mediaType: string = MEDIA_TYPES.ociManifest,
  ): Promise<V2Response> {
    return this.request('PUT', `/v2/${repository}/manifests/${reference}`, {
      headers: { 'content-type': mediaType },
      body: manifest,
    });
  }

  /** Pushes an OCI image (a config and one layer with `seed` in them); returns its manifest and blob digests. */
  async pushImage(
    repository: string,
    reference: string,
    seed: string,
    extra: Record<string, unknown> = {},
  ): Promise<{ manifest: string; digest: string; config: string; layer: string; response: V2Response }> {
    const config = await this.pushBlob(repository, JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));
    const layerContent = Buffer.from(`layer of ${seed}`.repeat(100));
    const layer = await this.pushBlob(repository, layerContent);
    const manifest = ociManifest(config, configSize(seed), layer, layerContent.length, extra);
    const response = await this.pushManifest(repository, reference, manifest);
    return { manifest, digest: digestOf(manifest), config, layer, response };
  }
}

const configSize = (seed: string) => Buffer.byteLength(JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));

export function ociManifest(
  config: string,
  configBytes: number,
  layer: string,
  layerBytes: number,
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: config, size: configBytes },
    layers: [{ mediaType: MEDIA_TYPES.ociLayer, digest: layer, size: layerBytes }],
    ...extra,
  });
}
