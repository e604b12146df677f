import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/bus/event-bus.ts';
import { buildImageManifest, sha256 } from '../../src/model/manifests.ts';
import { MAX_ACCOUNTS } from '../../src/model/state.ts';
import { control, declareBlobs, startTestRegistry, TEST_REGION } from '../../src/testing.ts';
import type { RegistryServer } from '../../src/wire/server.ts';

/**
 * Hostile and malformed requests over HTTP: each must get the right ECR (or EventBridge, or control API) error —
 * status and `__type` — within a time budget, and leave the registry exactly as it was.
 */

/**
 * Every request is aborted after this long, and must be answered within it: a hang fails fast. A large body gets a
 * second more per 8 MiB it sends (a hang detector, not a speed target: a loaded machine moves 28 MiB slower).
 */
const REQUEST_BUDGET_MS = 2_000;
const budgetFor = (bodyBytes: number) => REQUEST_BUDGET_MS + Math.floor(bodyBytes / (8 * 1024 * 1024)) * 1_000;
const ECR = 'AmazonEC2ContainerRegistry_V20150921.';
const EVENTS = 'AWSEvents.';
const OTHER_ACCOUNT = '999999999999';
const REPO = 'hostile/app';
/** An upload id of the right shape that the registry never issued. */
const UNKNOWN_UPLOAD = '6cb64b8a-9378-0e33-2ab1-b780fab8a9e9';
const LAYER_DIGEST = `sha256:${'a'.repeat(64)}`;

const authorization = (region = TEST_REGION, key = 'AKIDLOCALTEST', service = 'ecr') =>
  `AWS4-HMAC-SHA256 Credential=${key}/20261124/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0`;

interface HostileRequest {
  method?: string;
  path?: string;
  /** X-Amz-Target (omitted when undefined) */
  target?: string;
  /** Raw body text, or an object sent as JSON. */
  body?: string | Record<string, unknown>;
  /** Headers added to (or, with value undefined, removed from) the defaults. */
  headers?: Record<string, string | undefined>;
}

interface Case {
  name: string;
  request: HostileRequest;
  status: number;
  /** `__type` expected in the answer (ECR and EventBridge); control API answers have `error` instead. */
  type?: string;
  /** For a 200 with per-item failures: the failure code expected. */
  failure?: string;
}

let server: RegistryServer;

/** One request over a raw HTTP connection (fetch would not send a foreign Host), aborted after the budget. */
function send(request: HostileRequest): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {
    host: `127.0.0.1:${server.port}`,
    'content-type': 'application/x-amz-json-1.1',
    authorization: authorization(),
  };
  if (request.target !== undefined) headers['x-amz-target'] = request.target;
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  const method = request.method ?? 'POST';
  const body =
    method === 'GET' ? '' : typeof request.body === 'string' ? request.body : JSON.stringify(request.body ?? {});
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        method,
        path: request.path ?? '/',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal: AbortSignal.timeout(budgetFor(Buffer.byteLength(body))),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            parsed = { text };
          }
          resolve({ status: response.statusCode ?? 0, body: parsed });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Everything a request could change, read straight from the server. */
function snapshot() {
  const states = [...server.registry.all()].map((state) => ({
    key: `${state.account}/${state.region}`,
    repositories: [...state.repositories.values()].map((repository) => ({
      name: repository.name,
      mutability: repository.imageTagMutability,
      scanOnPush: repository.scanOnPush,
      policy: repository.policyText,
      lifecycle: repository.lifecyclePolicyText,
      preview: repository.lifecyclePreview === undefined ? undefined : JSON.stringify(repository.lifecyclePreview),
      tags: [...repository.tags],
      layers: [...repository.layers],
      images: [...repository.images.values()].map((image) => ({
        digest: image.digest,
        tags: [...image.tags],
        status: image.status,
        lastArchivedAt: image.lastArchivedAt,
        pushedAt: image.pushedAt,
        lastPulledAt: image.lastPulledAt,
        scanned: image.scan?.status,
      })),
    })),
    scanning: JSON.stringify(state.scanning),
    replication: JSON.stringify(state.replication),
    registryPolicy: state.registryPolicyText,
    pending: [...state.pendingFindings.keys()],
  }));
  return {
    states,
    events: server.bus.events.map((event) => event.id),
    uploads: server.registry.uploads.size,
    faults: server.faults.describe(),
    // `|| 0`: the two clocks are read a moment apart, and -0 is not 0 to toEqual.
    clockOffsetSeconds: Math.round((server.now() - Date.now()) / 1000) || 0,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------------------------

const ecr = (operation: string, body: HostileRequest['body'], extra: Partial<HostileRequest> = {}): HostileRequest => ({
  target: `${ECR}${operation}`,
  body,
  ...extra,
});

const invalid = (name: string, request: HostileRequest): Case => ({
  name,
  request,
  status: 400,
  type: 'InvalidParameterException',
});
const serialization = (name: string, request: HostileRequest): Case => ({
  name,
  request,
  status: 400,
  type: 'SerializationException',
});

/** Operations whose input is `repositoryName` plus the members given, valid apart from the member under test. */
const REPOSITORY_OPERATIONS: Record<string, Record<string, unknown>> = {
  DeleteRepository: {},
  DescribeImages: {},
  ListImages: {},
  BatchGetImage: { imageIds: [{ imageTag: 'v1' }] },
  BatchDeleteImage: { imageIds: [{ imageTag: 'v1' }] },
  PutImage: { imageManifest: buildImageManifest({ seed: 'hostile-new' }), imageTag: 'new' },
  GetRepositoryPolicy: {},
  DeleteRepositoryPolicy: {},
  SetRepositoryPolicy: {
    policyText: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}',
  },
  GetLifecyclePolicy: {},
  DeleteLifecyclePolicy: {},
  PutImageTagMutability: { imageTagMutability: 'IMMUTABLE' },
  PutImageScanningConfiguration: { imageScanningConfiguration: { scanOnPush: true } },
  StartImageScan: { imageId: { imageTag: 'v1' } },
  DescribeImageScanFindings: { imageId: { imageTag: 'v1' } },
  InitiateLayerUpload: {},
  UploadLayerPart: { uploadId: UNKNOWN_UPLOAD, partFirstByte: 0, partLastByte: 2, layerPartBlob: 'YWJj' },
  CompleteLayerUpload: { uploadId: UNKNOWN_UPLOAD, layerDigests: [LAYER_DIGEST] },
  BatchCheckLayerAvailability: { layerDigests: [LAYER_DIGEST] },
  GetDownloadUrlForLayer: { layerDigest: LAYER_DIGEST },
  UpdateImageStorageClass: { imageId: { imageTag: 'v1' }, targetStorageClass: 'ARCHIVE' },
  StartLifecyclePolicyPreview: {},
  GetLifecyclePolicyPreview: {},
};

const WRONG_TYPES: [string, unknown][] = [
  ['a number', 42],
  ['a boolean', true],
  ['a list', ['hostile/app']],
  ['an object', { name: 'hostile/app' }],
  ['a huge number', 1e308],
];

const BAD_NAMES: [string, string][] = [
  ['path traversal', '../../etc/passwd'],
  ['a leading slash', '/hostile/app'],
  ['a dot segment', 'hostile/../app'],
  ['upper case', 'Hostile/App'],
  ['an empty string', ''],
  ['one character', 'a'],
  ['a 10,000-character name', 'a'.repeat(10_000)],
  ['a NUL byte', 'hostile\u0000app'],
  ['a newline', 'hostile\napp'],
  ['a URL', 'http://evil.example/app'],
  ['unicode look-alikes', 'hоstile/app'],
  ['a trailing separator', 'hostile/app-'],
];

function repositoryNameCases(): Case[] {
  const cases: Case[] = [];
  for (const [operation, rest] of Object.entries(REPOSITORY_OPERATIONS)) {
    for (const [label, value] of WRONG_TYPES) {
      cases.push(
        serialization(`${operation}: repositoryName is ${label}`, ecr(operation, { ...rest, repositoryName: value })),
      );
    }
    for (const [label, value] of BAD_NAMES) {
      cases.push(
        invalid(`${operation}: repositoryName with ${label}`, ecr(operation, { ...rest, repositoryName: value })),
      );
    }
    cases.push(invalid(`${operation}: repositoryName missing`, ecr(operation, { ...rest })));
    cases.push(
      invalid(
        `${operation}: registryId not 12 digits`,
        ecr(operation, { ...rest, repositoryName: REPO, registryId: '../1' }),
      ),
    );
    cases.push({
      name: `${operation}: registryId of another account without a policy`,
      request: ecr(operation, { ...rest, repositoryName: REPO, registryId: OTHER_ACCOUNT }),
      status: 400,
      type: 'AccessDeniedException',
    });
  }
  return cases;
}

function pagingCases(): Case[] {
  const cases: Case[] = [];
  const listings: Record<string, Record<string, unknown>> = {
    DescribeRepositories: {},
    ListImages: { repositoryName: REPO },
    DescribeImages: { repositoryName: REPO },
  };
  const forged = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64url');
  for (const [operation, base] of Object.entries(listings)) {
    for (const [label, value] of [
      ['-1', -1],
      ['0', 0],
      ['1001', 1001],
      ['1e308', 1e308],
      ['-1e308', -1e308],
    ] as const) {
      cases.push(invalid(`${operation}: maxResults ${label}`, ecr(operation, { ...base, maxResults: value })));
    }
    for (const [label, value] of [
      ['1.5', 1.5],
      ['a string', '10'],
      ['a list', [10]],
    ] as const) {
      cases.push(serialization(`${operation}: maxResults ${label}`, ecr(operation, { ...base, maxResults: value })));
    }
    for (const literal of ['NaN', 'Infinity', '-Infinity', '0x10', '1e400x']) {
      cases.push(
        serialization(`${operation}: maxResults ${literal} (not JSON)`, ecr(operation, `{"maxResults": ${literal}}`)),
      );
    }
    for (const [label, token] of [
      ['garbage', 'AAAA'],
      ['an unsigned token of the old shape', forged({ l: operation, f: '', p: 0 })],
      ['an unsigned token with a dot', `${forged({ l: operation, f: '', p: 0 })}.AAAA`],
      ['a 100,000-character token', 'A'.repeat(100_000)],
      ['path traversal', '../../../etc/passwd'],
      ['an empty token', ''],
      ['JSON', '{"p":0}'],
    ] as const) {
      cases.push(invalid(`${operation}: nextToken is ${label}`, ecr(operation, { ...base, nextToken: token })));
    }
    cases.push(serialization(`${operation}: nextToken is a number`, ecr(operation, { ...base, nextToken: 7 })));
  }
  return cases;
}

const manifestWith = (patch: Record<string, unknown>) =>
  JSON.stringify({ ...(JSON.parse(buildImageManifest({ seed: 'hostile-patched' })) as object), ...patch });
const layer = (size: unknown) => ({
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  digest: `sha256:${'a'.repeat(64)}`,
  size,
});

function manifestCases(): Case[] {
  const put = (imageManifest: unknown, extra: Record<string, unknown> = {}) =>
    ecr('PutImage', { repositoryName: REPO, imageManifest, ...extra });
  const cases: Case[] = [];
  for (const [label, size] of [
    ['1e308', 1e308],
    ['2^53', 2 ** 53],
    ['-1', -1],
    ['1.5', 1.5],
    ['a string', '12'],
    ['null', null],
    ['a list', [1]],
  ] as const) {
    cases.push(invalid(`PutImage: a layer size of ${label}`, put(manifestWith({ layers: [layer(size)] }))));
  }
  cases.push(
    invalid(
      'PutImage: layer sizes that sum past 2^53',
      put(manifestWith({ layers: [layer(2 ** 52), layer(2 ** 52), layer(2 ** 52)] })),
    ),
  );
  for (const [label, digest] of [
    ['path traversal', '../../x'],
    ['a short sha256', 'sha256:abc'],
    ['upper-case hex', `sha256:${'A'.repeat(64)}`],
    ['an unknown algorithm', `md5:${'a'.repeat(32)}`],
    ['a number', 7],
    ['no digest', undefined],
  ] as const) {
    cases.push(
      invalid(
        `PutImage: a subject digest that is ${label}`,
        put(manifestWith({ subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 2 } })),
      ),
    );
  }
  cases.push(invalid('PutImage: a manifest that is not JSON', put('{"schemaVersion": 2,')));
  cases.push(invalid('PutImage: an empty manifest', put('')));
  cases.push(invalid('PutImage: a manifest over 4 MiB', put(`{"pad":"${'x'.repeat(4_200_000)}"}`)));
  cases.push(serialization('PutImage: a manifest that is an object', put({ schemaVersion: 2 })));
  cases.push(invalid('PutImage: a manifest of a JSON list', put('[1,2,3]')));
  cases.push(invalid('PutImage: layers that are not a list', put(manifestWith({ layers: 'all of them' }))));
  cases.push(invalid('PutImage: a layer without a digest', put(manifestWith({ layers: [{ size: 1 }] }))));
  cases.push({
    name: 'PutImage: an imageDigest that does not match',
    request: put(buildImageManifest({ seed: 'x' }), { imageDigest: `sha256:${'0'.repeat(64)}` }),
    status: 400,
    type: 'ImageDigestDoesNotMatchException',
  });
  return cases;
}

function envelopeCases(): Case[] {
  const cases: Case[] = [];
  const describe = `${ECR}DescribeRepositories`;
  for (const [label, body] of [
    ['truncated JSON', '{"repositoryNames": ['],
    ['a JSON list', '[]'],
    ['a JSON string', '"hello"'],
    ['JSON null', 'null'],
    ['a number', '42'],
    ['trailing garbage', '{} {}'],
    ['single quotes', "{'a': 1}"],
    ['a BOM and garbage', '\ufeff{'],
    ['invalid UTF-8 escapes', '{"a":"\\ud800\\u"}'],
  ] as const) {
    cases.push(serialization(`envelope: ${label}`, { target: describe, body }));
  }
  let deep = '1';
  for (let i = 0; i < 100; i++) deep = `{"a":${deep}}`;
  cases.push(serialization('envelope: a body nested 100 deep', { target: describe, body: deep }));
  let deepList = '';
  for (let i = 0; i < 10_000; i++) deepList += '[';
  cases.push(serialization('envelope: 10,000 open brackets', { target: describe, body: deepList }));
  cases.push({
    name: 'envelope: a body over 10 MiB',
    request: { target: describe, body: `{"pad":"${'x'.repeat(10 * 1024 * 1024 + 10)}"}` },
    status: 413,
    type: 'RequestEntityTooLargeException',
  });
  for (const target of [
    `${ECR}Nope`,
    `${ECR}__proto__`,
    `${ECR}constructor`,
    `${ECR}toString`,
    `${ECR}hasOwnProperty`,
    `${ECR}`,
    `${EVENTS}PutRule`,
    `${EVENTS}__proto__`,
    'Foo.Bar',
    '',
    'x'.repeat(5_000),
  ]) {
    cases.push({
      name: `envelope: unknown target ${JSON.stringify(target.slice(0, 60))}`,
      request: { target, body: {} },
      status: 400,
      type: 'UnknownOperationException',
    });
  }
  cases.push({ name: 'envelope: no target', request: { body: {} }, status: 400, type: 'UnknownOperationException' });
  for (const [method, path] of [
    ['GET', '/'],
    ['PUT', '/'],
    ['DELETE', '/'],
    ['POST', '/../../etc/passwd'],
  ] as const) {
    cases.push({
      name: `envelope: ${method} ${path}`,
      request: { method, path, target: describe, body: {} },
      status: 400,
      type: 'UnknownOperationException',
    });
  }
  for (const contentType of [
    'text/plain',
    'application/xml',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
  ]) {
    cases.push({
      name: `envelope: content type ${contentType}`,
      request: { target: describe, body: {}, headers: { 'content-type': contentType } },
      status: 400,
      type: 'UnknownOperationException',
    });
  }
  cases.push({
    name: 'envelope: no Authorization',
    request: { target: describe, body: {}, headers: { authorization: undefined } },
    status: 403,
    type: 'MissingAuthenticationTokenException',
  });
  cases.push({
    name: 'envelope: an Authorization without a credential scope',
    request: { target: describe, body: {}, headers: { authorization: 'Bearer hostile' } },
    status: 403,
    type: 'MissingAuthenticationTokenException',
  });
  for (const region of [
    'mars-1',
    'us-east-1x',
    'us-east-99',
    'aws-global',
    'us-iso-east-1',
    'local',
    'US-EAST-1',
    'x'.repeat(200),
  ]) {
    for (const target of [describe, `${ECR}CreateRepository`, `${EVENTS}PutEvents`]) {
      cases.push({
        name: `envelope: region ${region.slice(0, 20)} for ${target.split('.')[1]}`,
        request: {
          target,
          body: target.endsWith('CreateRepository')
            ? { repositoryName: 'region/app' }
            : target.endsWith('PutEvents')
              ? { Entries: [{ Source: 'hostile', DetailType: 'x', Detail: '{}' }] }
              : {},
          headers: { authorization: authorization(region) },
        },
        status: 403,
        type: 'InvalidSignatureException',
      });
    }
  }
  for (const host of [
    'evil.example',
    'evil.example:80',
    '127.0.0.1.evil.example',
    'localhost.evil.example',
    'evil.example#@127.0.0.1',
    '127.0.0.2',
    '0.0.0.0',
    '[::2]',
    'LOCALHOST.',
  ]) {
    for (const request of [
      { target: describe, body: {} },
      { target: `${ECR}DeleteRepository`, body: { repositoryName: REPO, force: true } },
      { target: `${EVENTS}PutEvents`, body: { Entries: [{ Source: 'hostile', DetailType: 'x', Detail: '{}' }] } },
    ]) {
      cases.push({
        name: `envelope: Host ${host} for ${request.target.split('.')[1]}`,
        request: { ...request, headers: { host } },
        status: 403,
        type: 'AccessDeniedException',
      });
    }
  }
  for (const origin of [
    'http://evil.example',
    'null',
    'http://127.0.0.1.evil.example',
    'https://localhost.evil.example:443',
    'file://',
  ]) {
    cases.push({
      name: `envelope: Origin ${origin} for DeleteRepository`,
      request: { target: `${ECR}DeleteRepository`, body: { repositoryName: REPO, force: true }, headers: { origin } },
      status: 403,
      type: 'AccessDeniedException',
    });
  }
  for (let i = 0; i < 5; i++) {
    const account = String(100_000_000_000 + i);
    cases.push({
      name: `envelope: a failed CreateRepository in new account ${account} keeps no state`,
      request: {
        target: `${ECR}CreateRepository`,
        body: { repositoryName: 'Bad Name' },
        headers: { authorization: authorization(TEST_REGION, account) },
      },
      status: 400,
      type: 'InvalidParameterException',
    });
  }
  return cases;
}

function putEventsCases(): Case[] {
  const put = (body: HostileRequest['body']) => ({ target: `${EVENTS}PutEvents`, body });
  const entry = (patch: Record<string, unknown> = {}) => ({
    Source: 'hostile',
    DetailType: 'x',
    Detail: '{}',
    ...patch,
  });
  const cases: Case[] = [];
  const validation = (name: string, request: HostileRequest): Case => ({
    name,
    request,
    status: 400,
    type: 'ValidationException',
  });
  cases.push(validation('PutEvents: no Entries', put({})));
  cases.push(validation('PutEvents: Entries empty', put({ Entries: [] })));
  cases.push(validation('PutEvents: 11 entries', put({ Entries: Array.from({ length: 11 }, () => entry()) })));
  cases.push(
    validation(
      'PutEvents: 10 entries of 30 KB',
      put({
        Entries: Array.from({ length: 10 }, () => entry({ Detail: JSON.stringify({ pad: 'x'.repeat(30_000) }) })),
      }),
    ),
  );
  cases.push(
    validation(
      'PutEvents: one entry of 270 KB',
      put({ Entries: [entry({ Detail: JSON.stringify({ pad: 'x'.repeat(270_000) }) })] }),
    ),
  );
  for (const depth of [1_001, 2_000, 50_000]) {
    const detail = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    cases.push(validation(`PutEvents: a detail nested ${depth} deep`, put({ Entries: [entry({ Detail: detail })] })));
    cases.push(
      validation(
        `PutEvents: a valid entry, then a detail nested ${depth} deep`,
        put({ Entries: [entry(), entry({ Detail: detail })] }),
      ),
    );
  }
  const listDepth = `${'['.repeat(5_000)}${']'.repeat(5_000)}`;
  cases.push(
    validation(
      'PutEvents: a detail of 5,000 nested lists',
      put({ Entries: [entry({ Detail: `{"a":${listDepth}}` })] }),
    ),
  );
  cases.push(serialization('PutEvents: Entries is an object', put({ Entries: { Source: 'x' } })));
  cases.push(serialization('PutEvents: Entries is a string', put({ Entries: 'all' })));
  cases.push(serialization('PutEvents: a body that is a list', put('[]')));
  const perEntry = (name: string, entries: unknown[], code: string): Case => ({
    name,
    request: put({ Entries: entries }),
    status: 200,
    failure: code,
  });
  for (const source of ['aws.ecr', 'aws.events', 'aws.', 'aws.anything.else']) {
    cases.push(perEntry(`PutEvents: Source ${source}`, [entry({ Source: source })], 'NotAuthorizedForSourceException'));
  }
  cases.push(perEntry('PutEvents: Source missing', [entry({ Source: undefined })], 'InvalidArgument'));
  cases.push(perEntry('PutEvents: Source a number', [entry({ Source: 7 })], 'InvalidArgument'));
  cases.push(
    perEntry('PutEvents: DetailType of 129 characters', [entry({ DetailType: 'x'.repeat(129) })], 'InvalidArgument'),
  );
  cases.push(perEntry('PutEvents: Detail not JSON', [entry({ Detail: '{' })], 'MalformedDetail'));
  cases.push(perEntry('PutEvents: Detail a JSON list', [entry({ Detail: '[1]' })], 'MalformedDetail'));
  cases.push(perEntry('PutEvents: Detail an object', [entry({ Detail: { a: 1 } })], 'InvalidArgument'));
  cases.push(perEntry('PutEvents: Resources not strings', [entry({ Resources: [1, 2] })], 'InvalidArgument'));
  cases.push(perEntry('PutEvents: Time not a time', [entry({ Time: 'yesterday-ish' })], 'InvalidArgument'));
  cases.push(perEntry('PutEvents: Time 1e308', [entry({ Time: 1e308 })], 'InvalidArgument'));
  cases.push(perEntry('PutEvents: an entry that is a string', ['entry'], 'InvalidArgument'));
  return cases;
}

function controlCases(): Case[] {
  const cases: Case[] = [];
  const post = (route: string, body: unknown, headers: Record<string, string | undefined> = {}): HostileRequest => ({
    path: `/_local/${route}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: undefined, ...headers },
  });
  const forbidden = (name: string, request: HostileRequest): Case => ({ name, request, status: 403 });
  const bad = (name: string, request: HostileRequest): Case => ({ name, request, status: 400 });
  for (const route of [
    'reset',
    'faults',
    'faults/clear',
    'clock',
    'load',
    'findings',
    'image-times',
    'bus/fire',
    'lifecycle/run',
  ]) {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      cases.push(
        forbidden(`control: POST ${route} as ${contentType}`, post(route, {}, { 'content-type': contentType })),
      );
    }
    cases.push(
      forbidden(`control: POST ${route} without a content type`, post(route, {}, { 'content-type': undefined })),
    );
    cases.push(forbidden(`control: POST ${route} from Host evil.example`, post(route, {}, { host: 'evil.example' })));
    cases.push(
      forbidden(
        `control: POST ${route} from Origin http://evil.example`,
        post(route, {}, { origin: 'http://evil.example' }),
      ),
    );
    cases.push(forbidden(`control: POST ${route} from Origin null`, post(route, {}, { origin: 'null' })));
  }
  for (const [label, body] of [
    ['a repository name with path traversal', { repositoryName: '../../etc/passwd' }],
    ['an account that is not 12 digits', { account: '1e308' }],
    ['a 10,000-character repository name', { repositoryName: 'a'.repeat(10_000) }],
    ['a list for a body', [{ repositoryName: 'hostile/app' }]],
    ['a body that is not JSON', '{"repositoryName":'],
  ] as const) {
    cases.push(bad(`control: POST lifecycle/run with ${label}`, post('lifecycle/run', body)));
  }
  for (const route of ['calls', 'memory', 'faults', 'bus/events']) {
    cases.push(
      forbidden(`control: GET ${route} from Host evil.example`, {
        method: 'GET',
        path: `/_local/${route}`,
        headers: { host: 'evil.example' },
      }),
    );
    cases.push(
      forbidden(`control: GET ${route} from Origin http://evil.example`, {
        method: 'GET',
        path: `/_local/${route}`,
        headers: { origin: 'http://evil.example' },
      }),
    );
  }
  for (const [label, value] of [
    ['1e300', 1e300],
    ['-1', -1],
    ['a string', '5'],
    ['11 years', 11 * 365 * 86_400],
    ['null', null],
    ['a list', [1]],
  ] as const) {
    cases.push(bad(`control: clock advanceSeconds ${label}`, post('clock', { advanceSeconds: value })));
  }
  cases.push(bad('control: clock without advanceSeconds', post('clock', {})));
  cases.push(bad('control: clock advanceSeconds NaN (not JSON)', post('clock', '{"advanceSeconds": NaN}')));
  for (const [label, patch] of [
    ['latencyMs 1e9', { latencyMs: 1e9 }],
    ['latencyMs -5', { latencyMs: -5 }],
    ['latencyMs a string', { latencyMs: '100' }],
    ['throttleRate 2', { throttleRate: 2 }],
    ['throttleRate -0.1', { throttleRate: -0.1 }],
    ['serverErrorRate 1e308', { serverErrorRate: 1e308 }],
    ['serverErrorRate a string', { serverErrorRate: '1' }],
  ] as const) {
    cases.push(bad(`control: faults ${label}`, post('faults', { operation: 'PutImage', ...patch })));
  }
  cases.push(
    bad('control: faults with an operation of 10,000 characters', post('faults', { operation: 'x'.repeat(10_000) })),
  );
  cases.push(bad('control: faults with an operation that is a number', post('faults', { operation: 7 })));
  for (const [label, value] of [
    ['-1', -1],
    ['1.5', 1.5],
    ['1e300', 1e300],
    ['a string', '3'],
  ] as const) {
    cases.push(
      bad(`control: vanishing afterCalls ${label}`, post('faults', { repositoryName: REPO, afterCalls: value })),
    );
  }
  cases.push(bad('control: vanishing in region mars-1', post('faults', { repositoryName: REPO, region: 'mars-1' })));
  for (const [label, patch] of [
    ['account x', { account: 'x' }],
    ['account of 13 digits', { account: '1234567890123' }],
    ['region mars-1', { region: 'mars-1' }],
    ['region as a number', { region: 7 }],
  ] as const) {
    cases.push(bad(`control: load with ${label}`, post('load', { repositories: [], ...patch })));
    cases.push(
      bad(
        `control: findings with ${label}`,
        post('findings', { repositoryName: REPO, imageDigest: sha256('nope'), findings: [], ...patch }),
      ),
    );
  }
  cases.push(bad('control: load without repositories', post('load', {})));
  cases.push(bad('control: load with a bad repository name', post('load', { repositories: [{ name: '../../x' }] })));
  cases.push(
    bad(
      'control: findings for digest ../../x',
      post('findings', { repositoryName: REPO, imageDigest: '../../x', findings: [] }),
    ),
  );
  cases.push(
    bad(
      'control: findings that are not a list',
      post('findings', { repositoryName: REPO, imageTag: 'v1', findings: 'all' }),
    ),
  );
  cases.push(
    bad('control: findings of numbers', post('findings', { repositoryName: REPO, imageTag: 'v1', findings: [1, 2] })),
  );
  for (const [label, value] of [
    ['1e300', 1e300],
    ['-1e300', -1e300],
    ['a word', 'last tuesday'],
    ['-1e300d', '-1e300d'],
  ] as const) {
    cases.push(
      bad(
        `control: image-times pushedAt ${label}`,
        post('image-times', { repositoryName: REPO, imageTag: 'v1', pushedAt: value }),
      ),
    );
    cases.push(
      bad(
        `control: image-times lastPulledAt ${label}, with a valid pushedAt`,
        post('image-times', { repositoryName: REPO, imageTag: 'v1', pushedAt: 'now', lastPulledAt: value }),
      ),
    );
  }
  cases.push(bad('control: bus/fire a rule that does not exist', post('bus/fire', { rule: 'nope' })));
  cases.push(bad('control: a body that is a list', post('reset', '[]')));
  cases.push(bad('control: a body nested 100 deep', post('clock', `${'{"a":'.repeat(100)}1${'}'.repeat(100)}`)));
  cases.push({ name: 'control: an unknown route', request: post('wipe-everything', {}), status: 404 });
  return cases;
}

/** Mutating calls whose first part is valid and a later part is not: nothing of the first part may happen. */
function validThenInvalidCases(): Case[] {
  const arn = `arn:aws:ecr:${TEST_REGION}:123456789012:repository/${REPO}`;
  const cases: Case[] = [
    serialization(
      'BatchDeleteImage: a valid id, then a tag that is a number',
      ecr('BatchDeleteImage', { repositoryName: REPO, imageIds: [{ imageTag: 'v1' }, { imageTag: 5 }] }),
    ),
    invalid(
      'BatchDeleteImage: 101 ids, the first valid',
      ecr('BatchDeleteImage', {
        repositoryName: REPO,
        imageIds: [{ imageTag: 'v1' }, ...Array.from({ length: 100 }, (_, i) => ({ imageTag: `t${i}` }))],
      }),
    ),
    serialization(
      'TagResource: a valid tag, then a value that is a number',
      ecr('TagResource', {
        resourceArn: arn,
        tags: [
          { Key: 'ok', Value: 'ok' },
          { Key: 'bad', Value: 5 },
        ],
      }),
    ),
    serialization(
      'UntagResource: a valid key, then a number',
      ecr('UntagResource', { resourceArn: arn, tagKeys: ['ok', 5] }),
    ),
    serialization(
      'CreateRepository: a valid name with a tag value that is a list',
      ecr('CreateRepository', { repositoryName: 'fresh/app', tags: [{ Key: 'a', Value: ['b'] }] }),
    ),
    serialization(
      'CreateRepository: a valid name with scanOnPush a string',
      ecr('CreateRepository', { repositoryName: 'fresh/app', imageScanningConfiguration: { scanOnPush: 'yes' } }),
    ),
    invalid(
      'CreateRepository: a valid name with an unknown tag mutability',
      ecr('CreateRepository', { repositoryName: 'fresh/app', imageTagMutability: 'SOMETIMES' }),
    ),
    serialization(
      'PutImageScanningConfiguration: scanOnPush a number',
      ecr('PutImageScanningConfiguration', { repositoryName: REPO, imageScanningConfiguration: { scanOnPush: 1 } }),
    ),
    {
      name: 'PutReplicationConfiguration: a valid rule, then a rule for region mars-1',
      request: ecr('PutReplicationConfiguration', {
        replicationConfiguration: {
          rules: [
            { destinations: [{ region: 'eu-west-1', registryId: '123456789012' }] },
            { destinations: [{ region: 'mars-1', registryId: '123456789012' }] },
          ],
        },
      }),
      status: 400,
      type: 'ValidationException',
    },
    {
      name: 'PutRegistryPolicy: a policy that is not JSON',
      request: ecr('PutRegistryPolicy', { policyText: '{"Statement": [' }),
      status: 400,
      type: 'InvalidParameterException',
    },
    {
      name: 'SetRepositoryPolicy: a policy that is not JSON',
      request: ecr('SetRepositoryPolicy', { repositoryName: REPO, policyText: '{"Statement": [' }),
      status: 400,
      type: 'InvalidParameterException',
    },
    {
      name: 'PutLifecyclePolicy: a policy that is not JSON',
      request: ecr('PutLifecyclePolicy', {
        repositoryName: REPO,
        lifecyclePolicyText: `{"rules": [${' '.repeat(120)}`,
      }),
      status: 400,
      type: 'InvalidParameterException',
    },
  ];
  return cases;
}

function layerCases(): Case[] {
  const cases: Case[] = [];
  const part = (patch: Record<string, unknown>) =>
    ecr('UploadLayerPart', {
      repositoryName: REPO,
      uploadId: UNKNOWN_UPLOAD,
      partFirstByte: 0,
      partLastByte: 2,
      layerPartBlob: 'YWJj',
      ...patch,
    });
  for (const [label, uploadId] of [
    ['path traversal', '../../uploads/x'],
    ['a 10,000-character id', 'a'.repeat(10_000)],
    ['an empty id', ''],
  ] as const) {
    cases.push(invalid(`UploadLayerPart: uploadId with ${label}`, part({ uploadId })));
    cases.push(
      invalid(
        `CompleteLayerUpload: uploadId with ${label}`,
        ecr('CompleteLayerUpload', { repositoryName: REPO, uploadId, layerDigests: [LAYER_DIGEST] }),
      ),
    );
  }
  cases.push(invalid('UploadLayerPart: partFirstByte -1', part({ partFirstByte: -1 })));
  cases.push(serialization('UploadLayerPart: partLastByte 1e308', part({ partLastByte: 1e308 })));
  cases.push(serialization('UploadLayerPart: partLastByte 2.5', part({ partLastByte: 2.5 })));
  cases.push(serialization('UploadLayerPart: layerPartBlob not base64', part({ layerPartBlob: '<script>' })));
  cases.push(serialization('UploadLayerPart: layerPartBlob a list', part({ layerPartBlob: [1, 2, 3] })));
  cases.push(invalid('UploadLayerPart: layerPartBlob missing', part({ layerPartBlob: undefined })));
  cases.push(
    invalid('UploadLayerPart: layerPartBlob of 21 MiB', part({ layerPartBlob: 'A'.repeat(28 * 1024 * 1024) })),
  );
  cases.push({
    name: 'UploadLayerPart: an upload the registry never issued',
    request: part({}),
    status: 400,
    type: 'UploadNotFoundException',
  });
  for (const [label, layerDigests] of [
    ['empty', []],
    ['101 digests', Array.from({ length: 101 }, () => LAYER_DIGEST)],
    ['a digest with path traversal', ['sha256:../../etc/passwd']],
  ] as const) {
    cases.push(
      invalid(
        `CompleteLayerUpload: layerDigests ${label}`,
        ecr('CompleteLayerUpload', { repositoryName: REPO, uploadId: UNKNOWN_UPLOAD, layerDigests }),
      ),
    );
  }
  cases.push(
    invalid(
      'BatchCheckLayerAvailability: a 1,001-character digest',
      ecr('BatchCheckLayerAvailability', { repositoryName: REPO, layerDigests: ['a'.repeat(1_001)] }),
    ),
  );
  cases.push(
    invalid(
      'GetDownloadUrlForLayer: a digest with path traversal',
      ecr('GetDownloadUrlForLayer', { repositoryName: REPO, layerDigest: '../../etc/passwd' }),
    ),
  );
  cases.push({
    name: 'GetDownloadUrlForLayer: a layer the repository lacks',
    request: ecr('GetDownloadUrlForLayer', { repositoryName: REPO, layerDigest: LAYER_DIGEST }),
    status: 400,
    type: 'LayersNotFoundException',
  });
  return cases;
}

const CASES: Case[] = [
  ...layerCases(),
  ...validThenInvalidCases(),
  ...repositoryNameCases(),
  ...pagingCases(),
  ...manifestCases(),
  ...envelopeCases(),
  ...putEventsCases(),
  ...controlCases(),
];

// ---------------------------------------------------------------------------------------------------------------

async function seed() {
  await control(server, 'reset', {});
  await control(server, 'load', {
    repositories: [
      { name: REPO, images: [{ tags: ['v1'] }, { tags: ['v2'] }] },
      { name: 'hostile/other', images: [{ tags: ['latest'] }] },
    ],
  });
}

describe('hostile requests', () => {
  beforeAll(async () => {
    server = await startTestRegistry();
    server.bus.addRule({ name: 'everything', eventPattern: { source: ['hostile'] }, target: () => 'ok' });
    await seed();
  });
  afterAll(async () => {
    await server.close();
  });

  it('has a few hundred cases', () => {
    expect(CASES.length).toBeGreaterThan(300);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    // Prepare
    const before = snapshot();
    // Act
    const started = performance.now();
    const { status, body } = await send(testCase.request);
    const elapsed = performance.now() - started;
    // Assess
    expect({ status, type: body.__type }).toEqual({
      status: testCase.status,
      type: testCase.request.path?.startsWith('/_local/') ? undefined : testCase.type,
    });
    if (testCase.request.path?.startsWith('/_local/')) expect(body.error).toEqual(expect.any(String));
    else if (testCase.status !== 200) expect(body.message).toEqual(expect.any(String));
    if (testCase.failure) {
      const entries = body.Entries as { ErrorCode?: string }[];
      expect(entries.map((entry) => entry.ErrorCode)).toEqual([testCase.failure]);
      expect(body.FailedEntryCount).toBe(1);
    }
    const sent = testCase.request.body;
    expect(elapsed).toBeLessThan(
      budgetFor(typeof sent === 'string' ? Buffer.byteLength(sent) : Buffer.byteLength(JSON.stringify(sent ?? {}))),
    );
    await server.bus.drain();
    expect(snapshot()).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Each defect the hostile tester found, replayed
// ---------------------------------------------------------------------------------------------------------------

describe('defects replayed', () => {
  beforeAll(async () => {
    server = await startTestRegistry();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    await seed();
  });

  const putEvents = (entries: unknown[], region = TEST_REGION) =>
    send({
      target: `${EVENTS}PutEvents`,
      body: { Entries: entries },
      headers: { authorization: authorization(region, 'AKIDLOCALTEST', 'events') },
    });

  it('bus: the event log keeps to its byte budget, whatever the events weigh', () => {
    // Prepare
    const budget = 4 * 1024 * 1024;
    const bus = new EventBus({ logBytes: budget });
    const detail = { pad: 'x'.repeat(250_000) };
    const logged = () => bus.events.reduce((sum, event) => sum + JSON.stringify(event).length, 0);
    // Act
    for (let i = 0; i < 300; i++) bus.emit({ source: 'hostile', detailType: 'big', detail });
    const bigBytes = logged();
    const bigCount = bus.events.length;
    for (let i = 0; i < 20_000; i++) bus.emit({ source: 'hostile', detailType: 'small', detail: { i } });
    // Assess
    expect(bigBytes).toBeLessThanOrEqual(budget);
    expect(bigCount).toBeGreaterThan(0);
    expect(bus.logUsage().events).toBeLessThanOrEqual(budget);
    expect(logged()).toBeLessThanOrEqual(budget);
    expect(bus.events.length).toBeLessThanOrEqual(15_000);
    expect(bus.events.at(-1)?.detail).toEqual({ i: 19_999 });
  });

  it('state: calls in unknown regions or failing in new accounts leave no account/region state', async () => {
    // Prepare
    const held = [...server.registry.all()].length;
    // Act
    for (let i = 0; i < 200; i++) {
      await send({
        target: `${ECR}CreateRepository`,
        body: { repositoryName: 'ok/name' },
        headers: { authorization: authorization(`zz-region-${i}`) },
      });
      await send({
        target: `${ECR}CreateRepository`,
        body: { repositoryName: 'Bad Name' },
        headers: { authorization: authorization(TEST_REGION, String(200_000_000_000 + i)) },
      });
      await send({
        target: `${ECR}DescribeRepositories`,
        body: {},
        headers: { authorization: authorization(TEST_REGION, String(300_000_000_000 + i)) },
      });
    }
    // Assess
    expect([...server.registry.all()]).toHaveLength(held);
  });

  it('state: a read in an account with no state answers an empty registry', async () => {
    // Act
    const { status, body } = await send({
      target: `${ECR}DescribeRepositories`,
      body: {},
      headers: { authorization: authorization('eu-west-1', '444444444444') },
    });
    // Assess
    expect({ status, repositories: body.repositories }).toEqual({ status: 200, repositories: [] });
    expect(server.registry.existing('444444444444', 'eu-west-1')).toBeUndefined();
  });

  it(`state: past ${MAX_ACCOUNTS} accounts a write gets LimitExceededException and a read still answers`, async () => {
    // Prepare
    const create = (account: string) =>
      send({
        target: `${ECR}CreateRepository`,
        body: { repositoryName: 'one/each' },
        headers: { authorization: authorization(TEST_REGION, account) },
      });
    for (let i = server.registry.size; i < MAX_ACCOUNTS; i++) {
      expect((await create(String(500_000_000_000 + i))).status).toBe(200);
    }
    // Act
    const past = await create('600000000000');
    const read = await send({
      target: `${ECR}DescribeRepositories`,
      body: {},
      headers: { authorization: authorization(TEST_REGION, '600000000001') },
    });
    // Assess
    expect({ status: past.status, type: past.body.__type }).toEqual({ status: 400, type: 'LimitExceededException' });
    expect(read.status).toBe(200);
    expect(server.registry.size).toBe(MAX_ACCOUNTS);
  });

  it('PutEvents: a detail nested 2,000 deep is a 400 before anything is logged or delivered', async () => {
    // Prepare
    let delivered = 0;
    server.bus.addRule({
      name: `deep-${Date.now()}`,
      eventPattern: { source: ['hostile'] },
      target: () => {
        delivered++;
      },
    });
    const before = server.bus.events.length;
    const detail = `${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}`;
    // Act
    const { status, body } = await putEvents([{ Source: 'hostile', DetailType: 'deep', Detail: detail }]);
    await server.bus.drain();
    // Assess
    expect({ status, type: body.__type }).toEqual({ status: 400, type: 'ValidationException' });
    expect(server.bus.events.length).toBe(before);
    expect(delivered).toBe(0);
  });

  it('control: a text/plain POST to /_local/reset from a web page is refused and wipes nothing', async () => {
    // Act
    const response = await fetch(`${server.url}/_local/reset`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'http://evil.example' },
      body: '{}',
    });
    const plain = await fetch(`${server.url}/_local/reset`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    // Assess
    expect([response.status, plain.status]).toEqual([403, 403]);
    expect(server.registry.existing('123456789012', TEST_REGION)?.repositories.has(REPO)).toBe(true);
  });

  it('control: a foreign Host (DNS rebinding) is refused on the control API and on ECR', async () => {
    // Act
    const controlAnswer = await send({
      method: 'GET',
      path: '/_local/calls',
      headers: { host: 'rebind.evil.example' },
    });
    const ecrAnswer = await send({
      target: `${ECR}DescribeRepositories`,
      body: {},
      headers: { host: 'rebind.evil.example:80' },
    });
    // Assess
    expect([controlAnswer.status, ecrAnswer.status]).toEqual([403, 403]);
  });

  it('control: advanceSeconds 1e300 is refused and the clock stays where it was', async () => {
    // Prepare
    await declareBlobs(server, REPO, buildImageManifest({ seed: 'after-clock' }));
    // Act
    const answer = await send({
      path: '/_local/clock',
      body: { advanceSeconds: 1e300 },
      headers: { 'content-type': 'application/json' },
    });
    const put = await send({
      target: `${ECR}PutImage`,
      body: { repositoryName: REPO, imageManifest: buildImageManifest({ seed: 'after-clock' }), imageTag: 'after' },
    });
    // Assess
    expect(answer.status).toBe(400);
    expect(Math.abs(server.now() - Date.now())).toBeLessThan(5_000);
    expect(put.status).toBe(200);
  });

  it('control: latencyMs 1e9 is refused', async () => {
    // Act
    const answer = await send({
      path: '/_local/faults',
      body: { operation: 'PutImage', latencyMs: 1e9 },
      headers: { 'content-type': 'application/json' },
    });
    // Assess
    expect(answer.status).toBe(400);
    expect(server.faults.describe().operations).toEqual({});
  });

  it('PutImage: a layer size of 1e308 is InvalidParameterException, not a null imageSizeInBytes', async () => {
    // Act
    const { status, body } = await send({
      target: `${ECR}PutImage`,
      body: { repositoryName: REPO, imageManifest: manifestWith({ layers: [layer(1e308)] }) },
    });
    // Assess
    expect({ status, type: body.__type }).toEqual({ status: 400, type: 'InvalidParameterException' });
  });

  it('PutImage: a subject digest ../../x is InvalidParameterException', async () => {
    // Act
    const { status, body } = await send({
      target: `${ECR}PutImage`,
      body: {
        repositoryName: REPO,
        imageManifest: manifestWith({ subject: { mediaType: 'x', digest: '../../x', size: 1 } }),
      },
    });
    // Assess
    expect({ status, type: body.__type }).toEqual({ status: 400, type: 'InvalidParameterException' });
  });

  it('PutEvents: a client may not publish as aws.ecr; the registry still emits its own aws.ecr events', async () => {
    // Prepare
    await declareBlobs(server, REPO, buildImageManifest({ seed: 'own-event' }));
    // Act
    const { status, body } = await putEvents([{ Source: 'aws.ecr', DetailType: 'ECR Image Action', Detail: '{}' }]);
    const push = await send({
      target: `${ECR}PutImage`,
      body: { repositoryName: REPO, imageManifest: buildImageManifest({ seed: 'own-event' }), imageTag: 'own' },
    });
    // Assess
    expect(status).toBe(200);
    expect(body).toMatchObject({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'NotAuthorizedForSourceException' }] });
    expect(push.status).toBe(200);
    expect(server.bus.events.filter((event) => event.source === 'aws.ecr')).toHaveLength(1);
  });

  it('registryId: another account reads and deletes only what its repository policy grants', async () => {
    // Prepare
    const other = (operation: string, body: Record<string, unknown>) =>
      send({
        target: `${ECR}${operation}`,
        body,
        headers: { authorization: authorization(TEST_REGION, OTHER_ACCOUNT) },
      });
    const owner = '123456789012';
    // Act
    const deniedRead = await other('DescribeImages', { registryId: owner, repositoryName: REPO });
    const deniedDelete = await other('BatchDeleteImage', {
      registryId: owner,
      repositoryName: REPO,
      imageIds: [{ imageTag: 'v1' }],
    });
    const deniedRepositoryDelete = await other('DeleteRepository', {
      registryId: owner,
      repositoryName: REPO,
      force: true,
    });
    await send({
      target: `${ECR}SetRepositoryPolicy`,
      body: {
        repositoryName: REPO,
        policyText: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { AWS: OTHER_ACCOUNT }, Action: ['ecr:Describe*', 'ecr:BatchGetImage'] },
          ],
        }),
      },
    });
    const grantedRead = await other('DescribeImages', { registryId: owner, repositoryName: REPO });
    const stillDeniedDelete = await other('BatchDeleteImage', {
      registryId: owner,
      repositoryName: REPO,
      imageIds: [{ imageTag: 'v1' }],
    });
    // Assess
    expect(
      [deniedRead, deniedDelete, deniedRepositoryDelete, stillDeniedDelete].map((r) => [r.status, r.body.__type]),
    ).toEqual(Array(4).fill([400, 'AccessDeniedException']));
    expect(grantedRead.status).toBe(200);
    expect(server.registry.existing(owner, TEST_REGION)?.repositories.get(REPO)?.images.size).toBe(2);
  });

  it('nextToken: a forged or tampered token is InvalidParameterException; a real one pages', async () => {
    // Prepare
    const page = (nextToken?: string) =>
      send({
        target: `${ECR}ListImages`,
        body: { repositoryName: REPO, maxResults: 1, ...(nextToken ? { nextToken } : {}) },
      });
    const first = await page();
    const token = first.body.nextToken as string;
    const [payload, mac] = token.split('.') as [string, string];
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { p: unknown };
    const altered = Buffer.from(JSON.stringify({ ...decoded, p: '0:0:' })).toString('base64url');
    // Act
    const real = await page(token);
    const tampered = await page(`${altered}.${mac}`);
    const unsigned = await page(altered);
    // Assess
    expect(real.status).toBe(200);
    expect([tampered, unsigned].map((r) => [r.status, r.body.__type])).toEqual([
      [400, 'InvalidParameterException'],
      [400, 'InvalidParameterException'],
    ]);
  });
});
