import type { OperationTable } from '../context.ts';

export const repositoryOperations: OperationTable = {};
