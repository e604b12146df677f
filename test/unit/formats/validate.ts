import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import draft04 from 'ajv-draft-04';
import formats from 'ajv-formats';

// CommonJS packages: their classes and plugin are the modules' `default` export.
const AjvDraft04 = draft04.default;
const addFormats = formats.default;

/**
 * Validators of the schemas kept in `schemas/`: the plan document's own (JSON Schema 2020-12) and the official SARIF
 * 2.1.0 schema (OASIS errata 01, JSON Schema draft-04). Each returns the validator's errors, `[]` when valid.
 */
const ROOT = resolve(import.meta.dirname, '../../..');
const schema = (name: string) => JSON.parse(readFileSync(resolve(ROOT, 'schemas', name), 'utf8')) as object;

// Strict about unknown keywords; `type` is not repeated in every `if` and `$ref` sibling.
const planAjv = new Ajv2020({ allErrors: true, strictSchema: true, strictTypes: false, strictRequired: false });
addFormats(planAjv);
const planValidator = planAjv.compile(schema('plan.schema.json'));

// The SARIF schema uses draft-04's keywords and leaves some formats to the reader: not strict.
const sarifAjv = new AjvDraft04({ allErrors: true, strict: false });
addFormats(sarifAjv);
const sarifValidator = sarifAjv.compile(schema('sarif-2.1.0.schema.json'));

const errorsOf = (validator: ValidateFunction, document: unknown) =>
  validator(document) ? [] : (validator.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);

export const planSchemaErrors = (document: unknown): string[] => errorsOf(planValidator, document);
export const sarifSchemaErrors = (document: unknown): string[] => errorsOf(sarifValidator, document);
