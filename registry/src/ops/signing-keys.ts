import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * An HMAC-SHA256 key set for tokens the registry signs (login passwords, pagination tokens). It starts with a key
 * drawn for this process, so that a token from an earlier run is refused; a registry with a data directory adopts
 * the key kept there (`adopt`), so that its tokens stay valid across restarts. New tokens are signed with the key
 * adopted last; a token signed with any key of the set verifies (one process may serve several data directories,
 * as tests do).
 */
export class SigningKeys {
  private keys: Buffer[] = [randomBytes(32)];

  /** Signs with `key` from now on, and keeps accepting tokens signed with the keys held before. */
  adopt(key: Buffer): void {
    if (key.length < 32) throw new Error('A signing key needs at least 32 bytes');
    this.keys = [key, ...this.keys.filter((held) => !held.equals(key))];
  }

  sign(payload: string): Buffer {
    return createHmac('sha256', this.keys[0] as Buffer)
      .update(payload)
      .digest();
  }

  /** Whether `signature` is the MAC of `payload` under one of the keys. */
  verify(payload: string, signature: Buffer): boolean {
    for (const key of this.keys) {
      const expected = createHmac('sha256', key).update(payload).digest();
      if (signature.length === expected.length && timingSafeEqual(signature, expected)) return true;
    }
    return false;
  }
}

/** The key of `GetAuthorizationToken` passwords. */
export const passwordKeys = new SigningKeys();
/** The key of pagination tokens (`nextToken`). */
export const paginationKeys = new SigningKeys();
