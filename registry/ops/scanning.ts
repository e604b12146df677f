import type { OpContext, OperationTable } from '../context.ts';
import type { ImageRecord, RepositoryRecord } from '../state.ts';

/**
 * Called by PutImage after a new image is stored: starts a basic scan when the repository scans on push or a
 * registry scanning rule with SCAN_ON_PUSH covers it.
 */
export function scanOnPushIfConfigured(_ctx: OpContext, _repository: RepositoryRecord, _image: ImageRecord): void {}

export const scanningOperations: OperationTable = {};
