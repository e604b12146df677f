import type { OperationTable } from '../context.ts';

export const registrySettingsOperations: OperationTable = {};
