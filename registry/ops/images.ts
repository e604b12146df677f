import type { OperationTable } from '../context.ts';

export const imageOperations: OperationTable = {};
