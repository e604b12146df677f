import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { countedSending } from '../ecr/calls.ts';
import { EcrGatewayError, toServiceGatewayError } from '../ecr/errors.ts';

/**
 * The read-only S3 gateway: the only importer of `@aws-sdk/client-s3`. It reads one object, at most `maxBytes` of
 * it: it asks for one byte more than the bound (`Range`) and stops reading the body past the bound, so an object
 * replaced by a huge one costs at most `maxBytes + 1` bytes of memory; a larger object is an error
 * (`ObjectTooLarge`), never a truncated read. Errors are mapped into the ECR gateway's error tree.
 */
export interface S3Gateway {
  callCounts(): Record<string, number>;
  /** The object's bytes (GetObject). Throws when it is larger than `maxBytes`. */
  getObject(bucket: string, key: string, options: { maxBytes: number }): Promise<Uint8Array>;
}

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
  };
}
