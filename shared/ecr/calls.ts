import { setTimeout as sleep } from 'node:timers/promises';
import type { ItemFailure } from './types.ts';

/**
 * The call machinery the gateways share (ECR, ECR Public, and the in-use providers' ECS, Lambda, S3 and SSM): counted
 * sending, re-send counting, batching, and the bounded rounds of re-tries for per-id failures.
 */

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: SentArgs) => Promise<unknown>,
        context: { commandName?: unknown },
      ) => (args: SentArgs) => Promise<unknown>,
      options: { step: 'deserialize'; priority: 'high'; name: string; override: true },
    ): void;
  };
}

/** Where a counted send carries its count down the middleware chain: each step passes its args on, spread. */
const RESENDS = Symbol('countedResends');

/** One send's attempts, and the counter of the gateway that sent it. */
interface ResendSlot {
  attempts: number;
  readonly count: (operation: string) => void;
}

interface SentArgs {
  [RESENDS]?: ResendSlot;
}

/** The middleware stacks that count re-sends already (one middleware per client, whatever the gateways over it). */
const countingStacks = new WeakSet<object>();

/**
 * Adds to `client`'s own stack, once, the middleware that counts the SDK's re-sends of each counted send (see
 * `countingResends`). The SDK's retry loop (in the finalizeRequest step, see `createEcrClient`) runs the deserialize
 * step once per attempt, so each pass of a send after its first is a re-send that the service received (and
 * throttled, or answered 5xx) too. A client that caches its resolved middleware (`cacheMiddleware`, as
 * `createEcrClient`'s does) applies only middleware added before its first send of a command: its factory calls this
 * before handing it out; for any other client, `countingResends` calls it when the first gateway is built over it.
 */
export function countsResends<C extends { middlewareStack: object }>(client: C): C {
  const stack = (client as unknown as MiddlewareClient).middlewareStack;
  if (countingStacks.has(stack)) return client;
  countingStacks.add(stack);
  stack.add(
    (next, context) => (args) => {
      const slot = args[RESENDS];
      if (slot !== undefined && ++slot.attempts > 1) slot.count(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'deserialize', priority: 'high', name: 'serviceCountsResends', override: true },
  );
  return client;
}

/**
 * The client the gateway sends with: `sdkClient`, but every command it sends also counts the SDK's re-sends of it.
 * The gateway counts one call per `send`; the client's middleware (`countsResends`) counts each attempt after a
 * send's first. With both, `callCounts` is what the service counted. Each send carries its own slot (attempts, and
 * this gateway's `count`) on a shallow copy of its command, so that sends at once, of one command or of several
 * gateways over one client, never count into each other, and the client's middleware stays the same for every send
 * (which lets it cache its resolved middleware). A client whose `send` is stubbed (aws-sdk-client-mock) runs no
 * middleware: it is counted one call per send, as it is sent.
 */
export function countingResends<C extends { send: (...args: never[]) => unknown }>(
  sdkClient: C,
  count: (operation: string) => void,
): C {
  countsResends(sdkClient as unknown as MiddlewareClient);
  const sdkSend = sdkClient.send as unknown as (...args: unknown[]) => Promise<unknown>;
  const send = (command: object, ...rest: unknown[]) => {
    // The copy keeps the command's class (the SDK caches middleware per class) and its own members (input, schema,
    // serde); the slot rides with it, as the SDK's steps spread their args into the next step's.
    const sent: SentArgs = Object.assign(Object.create(Object.getPrototypeOf(command)) as object, command);
    sent[RESENDS] = { attempts: 0, count };
    return sdkSend.call(sdkClient, sent, ...rest);
  };
  return new Proxy(sdkClient, {
    get: (target, property, receiver) => (property === 'send' ? send : Reflect.get(target, property, receiver)),
  });
}

/** Call counts of several gateways or clients added up, per operation. */
export function sumCallCounts(counts: Iterable<Record<string, number>>): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const one of counts) {
    for (const [operation, count] of Object.entries(one)) sum[operation] = (sum[operation] ?? 0) + count;
  }
  return sum;
}

/** Splits ids into consecutive batches of at most `size`, keeping their order. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}

/** The first occurrence of each id, in order: ECR rejects nothing for duplicates, but they waste a slot. */
export const unique = (ids: readonly string[]): string[] => [...new Set(ids)];

const NOT_IN_RESPONSE = 'NotInResponse';
export const notInResponse = (id: { digest: string } | { tag: string }): ItemFailure => ({
  ...id,
  code: NOT_IN_RESPONSE,
  reason: 'ECR listed this id neither as processed nor as failed',
  retryable: true,
});

/**
 * Sends `ids` in batches of `size`; ids whose failures are retryable are sent again, in at most `maxItemRetries`
 * rounds, each after an exponentially growing, jittered delay. `runBatch` records successes itself and returns
 * the batch's failures; `idOf` names the id a failure is about. Returns the failures that remain.
 */
export async function runInRounds(
  ids: readonly string[],
  size: number,
  runBatch: (batch: string[]) => Promise<ItemFailure[]>,
  idOf: (failure: ItemFailure) => string | undefined,
  settings: { maxItemRetries: number; itemRetryDelayMs: number },
): Promise<ItemFailure[]> {
  const remaining: ItemFailure[] = [];
  let pending = [...ids];
  for (let round = 0; pending.length > 0; round++) {
    if (round > 0) await backOff(round, settings.itemRetryDelayMs);
    const retry: string[] = [];
    for (const batch of chunk(pending, size)) {
      for (const failure of await runBatch(batch)) {
        const id = idOf(failure);
        if (failure.retryable && id !== undefined && round < settings.maxItemRetries) retry.push(id);
        else remaining.push(failure);
      }
    }
    pending = unique(retry);
  }
  return remaining;
}

/** "Equal jitter": between ½ and 1 × the round's ceiling, which doubles every round. */
export async function backOff(round: number, baseDelayMs: number): Promise<void> {
  const ceiling = baseDelayMs * 2 ** (round - 1);
  const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  if (delay > 0) await sleep(delay);
}

/** A paginator's hook: each request it sends, counted and sent with a copy of its input (see `countedSending`'s `paged`). */
export type CopyingWithCommand = <Command extends { input: object }>(command: Command) => Command;

/**
 * How a gateway sends: `client` (the SDK client, counting its re-sends), `call` (one request, counted, every error
 * mapped by `mapError`, mapping errors included), `paged` (an SDK paginator: each page's request counted through its
 * `withCommand` hook, errors mapped like `call`'s) and the counts so far. The hook gives the page's command a copy
 * of its input: the paginator writes every page's token into one shared input object, and a copy keeps each
 * request's input as it was sent (for middleware, logs and aws-sdk-client-mock's call records). Every gateway of the service sends through one.
 */
export function countedSending<Operation extends string, Client extends { send: (...args: never[]) => unknown }>(
  sdkClient: Client,
  mapError: (operation: Operation, error: unknown, resource: string | undefined) => Error,
) {
  const counts = new Map<Operation, number>();
  const count = (operation: Operation) => counts.set(operation, (counts.get(operation) ?? 0) + 1);
  const client = countingResends(sdkClient, (operation) => count(operation as Operation));

  async function call<T>(operation: Operation, resource: string | undefined, run: () => Promise<T>): Promise<T> {
    count(operation);
    try {
      return await run();
    } catch (error) {
      throw mapError(operation, error, resource);
    }
  }

  async function* paged<Page, Mapped>(
    operation: Operation,
    resource: string | undefined,
    paginate: (withCommand: CopyingWithCommand) => AsyncIterable<Page>,
    map: (page: Page) => Mapped,
  ): AsyncGenerator<Mapped> {
    const withCommand: CopyingWithCommand = (command) => {
      count(operation);
      // The paginator built this command for this page alone: its input, not the command, needs copying.
      (command as { input: object }).input = { ...command.input };
      return command;
    };
    try {
      for await (const page of paginate(withCommand)) yield map(page);
    } catch (error) {
      throw mapError(operation, error, resource);
    }
  }

  return { client, count, call, paged, callCounts: (): Record<string, number> => Object.fromEntries(counts) };
}
