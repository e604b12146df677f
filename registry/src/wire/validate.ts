import { constraintMessage, type EcrException, invalidParameter, serializationError } from './errors.ts';

/**
 * Reads one request member at a time and checks it the way ECR's service front does:
 * a value of the wrong JSON type is a `SerializationException`; a value that breaks a model constraint
 * (required, length, range, pattern, enum) is an `InvalidParameterException` (or the exception the caller
 * chooses, for the operations whose model names `ValidationException`).
 */
export type ConstraintError = (message: string) => EcrException;

export interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** The pattern as ECR prints it in the message, when it differs from `pattern.source`. */
  patternText?: string;
  enum?: readonly string[];
}

export interface NumberRule {
  required?: boolean;
  min?: number;
  max?: number;
  integer?: boolean;
}

export interface ListRule {
  required?: boolean;
  min?: number;
  max?: number;
}

const typeName = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value);

export class Input {
  constructor(
    readonly body: Record<string, unknown>,
    readonly path = '',
    readonly fail: ConstraintError = invalidParameter,
  ) {}

  static parse(raw: unknown, fail: ConstraintError = invalidParameter): Input {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw serializationError('Request body must be a JSON object');
    }
    return new Input(raw as Record<string, unknown>, '', fail);
  }

  private at(name: string) {
    return this.path ? `${this.path}.${name}` : name;
  }

  has(name: string): boolean {
    return this.body[name] !== undefined && this.body[name] !== null;
  }

  private missing(name: string): never {
    throw this.fail(constraintMessage(this.at(name), 'Member must not be null'));
  }

  private wrongType(name: string, expected: string, value: unknown): never {
    throw serializationError(`Cannot deserialize '${this.at(name)}': expected ${expected}, got ${typeName(value)}`);
  }

  checkString(name: string, value: string, rule: StringRule): string {
    const path = this.at(name);
    if (rule.min !== undefined && value.length < rule.min) {
      throw this.fail(constraintMessage(path, `Member must have length greater than or equal to ${rule.min}`));
    }
    if (rule.max !== undefined && value.length > rule.max) {
      throw this.fail(constraintMessage(path, `Member must have length less than or equal to ${rule.max}`));
    }
    if (rule.pattern && !rule.pattern.test(value)) {
      throw this.fail(
        constraintMessage(path, `must satisfy regular expression '${rule.patternText ?? rule.pattern.source}'`),
      );
    }
    if (rule.enum && !rule.enum.includes(value)) {
      throw this.fail(constraintMessage(path, `Member must satisfy enum value set: [${rule.enum.join(', ')}]`));
    }
    return value;
  }

  str(name: string, rule: StringRule & { required: true }): string;
  str(name: string, rule?: StringRule): string | undefined;
  str(name: string, rule: StringRule = {}): string | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) {
      if (rule.required) this.missing(name);
      return undefined;
    }
    if (typeof value !== 'string') this.wrongType(name, 'a string', value);
    return this.checkString(name, value, rule);
  }

  num(name: string, rule: NumberRule & { required: true }): number;
  num(name: string, rule?: NumberRule): number | undefined;
  num(name: string, rule: NumberRule = {}): number | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) {
      if (rule.required) this.missing(name);
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) this.wrongType(name, 'a number', value);
    if (rule.integer !== false && !Number.isInteger(value)) this.wrongType(name, 'an integer', value);
    const path = this.at(name);
    if (rule.min !== undefined && value < rule.min) {
      throw this.fail(constraintMessage(path, `Member must have value greater than or equal to ${rule.min}`));
    }
    if (rule.max !== undefined && value > rule.max) {
      throw this.fail(constraintMessage(path, `Member must have value less than or equal to ${rule.max}`));
    }
    return value;
  }

  bool(name: string, rule: { required?: boolean } = {}): boolean | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) {
      if (rule.required) this.missing(name);
      return undefined;
    }
    if (typeof value !== 'boolean') this.wrongType(name, 'a boolean', value);
    return value;
  }

  /** A nested structure, or undefined when absent. */
  obj(name: string, rule: { required: true }): Input;
  obj(name: string, rule?: { required?: boolean }): Input | undefined;
  obj(name: string, rule: { required?: boolean } = {}): Input | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) {
      if (rule.required) this.missing(name);
      return undefined;
    }
    if (typeof value !== 'object' || Array.isArray(value)) this.wrongType(name, 'a structure', value);
    return new Input(value as Record<string, unknown>, this.at(name), this.fail);
  }

  private rawList(name: string, rule: ListRule): unknown[] | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) {
      if (rule.required) this.missing(name);
      return undefined;
    }
    if (!Array.isArray(value)) this.wrongType(name, 'a list', value);
    const path = this.at(name);
    if (rule.min !== undefined && value.length < rule.min) {
      throw this.fail(constraintMessage(path, `Member must have length greater than or equal to ${rule.min}`));
    }
    if (rule.max !== undefined && value.length > rule.max) {
      throw this.fail(constraintMessage(path, `Member must have length less than or equal to ${rule.max}`));
    }
    return value;
  }

  /** A list of structures, each wrapped as an `Input` with an indexed path (`imageIds.1`, 1-based as AWS prints). */
  objList(name: string, rule: ListRule & { required: true }): Input[];
  objList(name: string, rule?: ListRule): Input[] | undefined;
  objList(name: string, rule: ListRule = {}): Input[] | undefined {
    const list = this.rawList(name, rule);
    if (!list) return undefined;
    return list.map((item, index) => {
      const path = `${this.at(name)}.${index + 1}`;
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        throw serializationError(`Cannot deserialize '${path}': expected a structure, got ${typeName(item)}`);
      }
      return new Input(item as Record<string, unknown>, path, this.fail);
    });
  }

  /** A list of strings, each checked against `item`. */
  strList(name: string, rule: ListRule & { required: true }, item?: StringRule): string[];
  strList(name: string, rule?: ListRule, item?: StringRule): string[] | undefined;
  strList(name: string, rule: ListRule = {}, item: StringRule = {}): string[] | undefined {
    const list = this.rawList(name, rule);
    if (!list) return undefined;
    return list.map((value, index) => {
      const member = `${name}.${index + 1}`;
      if (typeof value !== 'string') this.wrongType(member, 'a string', value);
      return this.checkString(member, value, item);
    });
  }

  /** A string-to-string map. */
  strMap(name: string, rule: { required?: boolean } = {}): Record<string, string> | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) {
      if (rule.required) this.missing(name);
      return undefined;
    }
    if (typeof value !== 'object' || Array.isArray(value)) this.wrongType(name, 'a map', value);
    for (const [key, entry] of Object.entries(value)) {
      if (typeof entry !== 'string') this.wrongType(`${name}.${key}`, 'a string', entry);
    }
    return value as Record<string, string>;
  }
}

/** Shared ECR shape rules ([M-ECR], docs/ecr-limits.md#api-shapes-and-limits). */
export const REPOSITORY_NAME: StringRule = {
  min: 2,
  max: 256,
  pattern: /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/,
  patternText: '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*',
};
export const REGISTRY_ID: StringRule = { pattern: /^[0-9]{12}$/, patternText: '[0-9]{12}' };
export const IMAGE_TAG: StringRule = { min: 1, max: 300 };
export const MAX_RESULTS: NumberRule = { min: 1, max: 1000 };
export const IMAGE_IDS: ListRule = { min: 1, max: 100 };
export const TAG_MUTABILITY = ['MUTABLE', 'IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION'] as const;
export const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
