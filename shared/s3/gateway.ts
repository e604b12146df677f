import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { countedSending } from '../ecr/calls.ts';
import { EcrGatewayError, toServiceGatewayError } from '../ecr/errors.ts';

/**
 * The S3 gateway: the only importer of `@aws-sdk/client-s3`. It reads one object, at most `maxBytes` of it: it asks
 * for one byte more than the bound (`Range`) and stops reading the body past the bound, so an object replaced by a
 * huge one costs at most `maxBytes + 1` bytes of memory; a larger object is an error (`ObjectTooLarge`), never a
 * truncated read. It writes small JSON objects (the cleanup runs' reports), once only when asked
 * (`If-None-Match: *`), and lists keys to the last page, bounded. Errors are mapped into the ECR gateway's error tree.
 */
export interface S3Gateway {
  callCounts(): Record<string, number>;
  /** The object's bytes (GetObject). Throws when it is larger than `maxBytes`. */
  getObject(bucket: string, key: string, options: { maxBytes: number }): Promise<Uint8Array>;
  /**
   * Writes a JSON object (PutObject). With `ifAbsent`, only when no object has the key (`If-None-Match: *`):
   * `written: false` when one had it already.
   */
  putJson(bucket: string, key: string, body: unknown, options?: { ifAbsent?: boolean }): Promise<{ written: boolean }>;
  /**
   * The keys under `prefix` (ListObjectsV2, pages of 1000), and with `delimiter` the common prefixes one level down.
   * Throws past `maxKeys` keys: a listing never grows without bound.
   */
  list(
    bucket: string,
    prefix: string,
    options: { delimiter?: string; maxKeys: number },
  ): Promise<{ keys: string[]; prefixes: string[] }>;
}

/** S3 objects' bodies the gateway writes are at most this large. */
export const MAX_JSON_OBJECT_BYTES = 1_048_576;

type Body = AsyncIterable<Uint8Array | string> | { transformToByteArray(): Promise<Uint8Array> };

const tooLarge = (bucket: string, key: string, maxBytes: number) =>
  new EcrGatewayError(`S3 GetObject on 's3://${bucket}/${key}': ObjectTooLarge: the object exceeds ${maxBytes} bytes`, {
    operation: 'GetObject',
    code: 'ObjectTooLarge',
    retryable: false,
  });

async function readBounded(body: Body, maxBytes: number, onTooLarge: () => Error): Promise<Uint8Array> {
  if (!(Symbol.asyncIterator in body)) {
    const bytes = await body.transformToByteArray();
    if (bytes.byteLength > maxBytes) throw onTooLarge();
    return bytes;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const piece of body) {
    const bytes = typeof piece === 'string' ? new TextEncoder().encode(piece) : piece;
    size += bytes.byteLength;
    if (size > maxBytes) {
      const destroy = (body as { destroy?: () => void }).destroy;
      if (typeof destroy === 'function') destroy.call(body);
      throw onTooLarge();
    }
    chunks.push(bytes);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const bytes of chunks) {
    out.set(bytes, offset);
    offset += bytes.byteLength;
  }
  return out;
}

export function createS3Gateway(sdkClient: S3Client): S3Gateway {
  const { client, call, callCounts } = countedSending<string, S3Client>(sdkClient, (operation, error, resource) =>
    toServiceGatewayError('S3', operation, error, resource),
  );
  return {
    callCounts,
    getObject: (bucket, key, { maxBytes }) =>
      call('GetObject', `s3://${bucket}/${key}`, async () => {
        const onTooLarge = () => tooLarge(bucket, key, maxBytes);
        try {
          const out = await client.send(
            new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${maxBytes}` }),
          );
          if (typeof out.ContentLength === 'number' && out.ContentLength > maxBytes) throw onTooLarge();
          if (out.Body === undefined) return new Uint8Array();
          return await readBounded(out.Body as unknown as Body, maxBytes, onTooLarge);
        } catch (error) {
          // An empty object answers a Range request with 416: it is an empty document, not an error.
          if ((error as { name?: unknown })?.name === 'InvalidRange') return new Uint8Array();
          throw error;
        }
      }),
    putJson: (bucket, key, body, options = {}) =>
      call('PutObject', `s3://${bucket}/${key}`, async () => {
        const text = JSON.stringify(body);
        if (Buffer.byteLength(text) > MAX_JSON_OBJECT_BYTES) {
          throw new EcrGatewayError(
            `S3 PutObject on 's3://${bucket}/${key}': the object exceeds ${MAX_JSON_OBJECT_BYTES} bytes`,
            { operation: 'PutObject', code: 'ObjectTooLarge', retryable: false },
          );
        }
        try {
          await client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: text,
              ContentType: 'application/json',
              ...(options.ifAbsent ? { IfNoneMatch: '*' } : {}),
            }),
          );
          return { written: true };
        } catch (error) {
          // The object exists: a conditional write that lost is not an error.
          const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
          if (options.ifAbsent && (status === 412 || (error as { name?: unknown }).name === 'PreconditionFailed')) {
            return { written: false };
          }
          throw error;
        }
      }),
    list: (bucket, prefix, { delimiter, maxKeys }) =>
      call('ListObjectsV2', `s3://${bucket}/${prefix}`, async () => {
        const keys: string[] = [];
        const prefixes: string[] = [];
        let token: string | undefined;
        do {
          const page = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix,
              ...(delimiter === undefined ? {} : { Delimiter: delimiter }),
              ...(token === undefined ? {} : { ContinuationToken: token }),
            }),
          );
          for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
          for (const common of page.CommonPrefixes ?? []) if (common.Prefix !== undefined) prefixes.push(common.Prefix);
          if (keys.length + prefixes.length > maxKeys) {
            throw new EcrGatewayError(`S3 ListObjectsV2 on 's3://${bucket}/${prefix}': more than ${maxKeys} keys`, {
              operation: 'ListObjectsV2',
              code: 'TooManyKeys',
              retryable: false,
            });
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token !== undefined);
        return { keys, prefixes };
      }),
  };
}
