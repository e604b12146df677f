import { randomUUID } from 'node:crypto';

/**
 * SNS topics, as far as a service that publishes notifications needs them: CreateTopic and Publish, in SNS's Query
 * protocol (a form-encoded `POST /` whose SigV4 credential scope names `sns`), with SNS's limits checked as SNS
 * checks them: a subject of printable ASCII under 100 characters, a message of at most 256 KB, a FIFO topic's
 * message group and deduplication (five minutes). Nothing is delivered anywhere: the messages published are kept,
 * the newest `MAX_KEPT_MESSAGES` within `MAX_KEPT_BYTES`, for `GET /_local/sns/messages` and the local service.
 */

export const SNS_NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';
/** SNS's largest message (the attributes count too; this registry takes no attributes). */
export const MAX_MESSAGE_BYTES = 262_144;
/** The messages kept: at most this many, and at most this many bytes of them. */
export const MAX_KEPT_MESSAGES = 200;
export const MAX_KEPT_BYTES = 8 * 1024 * 1024;
/** At most this many topics across accounts (SNS's default quota per account is 100,000; a local run needs few). */
export const MAX_TOPICS = 1_000;
const DEDUPLICATION_MS = 5 * 60_000;
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const FIFO_TOPIC_NAME = /^[A-Za-z0-9_-]{1,251}\.fifo$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,256})$/;
/** A FIFO message group or deduplication id: 1–128 characters of printable ASCII. */
const FIFO_ID = /^[!-~]{1,128}$/;

export class SnsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'SnsError';
  }
}

export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly messageGroupId?: string;
  readonly publishedAt: string;
}

interface Topic {
  readonly arn: string;
  readonly fifo: boolean;
  /** FIFO: deduplication id → message id and when it was published (ms). */
  readonly deduplication: Map<string, { messageId: string; at: number }>;
}

/** The caller, from its request's credential scope. */
export interface SnsCaller {
  readonly account: string;
  readonly region: string;
}

const escapeXml = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export class LocalTopics {
  readonly #topics = new Map<string, Topic>();
  #kept: PublishedMessage[] = [];
  #keptBytes = 0;
  readonly #listeners = new Set<(message: PublishedMessage) => void>();

  /** The topic's ARN; creating a topic that exists returns it (as SNS does). */
  create(name: string, caller: SnsCaller): string {
    const fifo = name.endsWith('.fifo');
    if (!(fifo ? FIFO_TOPIC_NAME : TOPIC_NAME).test(name)) {
      throw new SnsError(
        'InvalidParameter',
        'Invalid parameter: Topic Name (1-256 letters, digits, - and _; a FIFO topic ends in .fifo)',
      );
    }
    const arn = `arn:aws:sns:${caller.region}:${caller.account}:${name}`;
    if (!this.#topics.has(arn)) {
      if (this.#topics.size >= MAX_TOPICS) throw new SnsError('TopicLimitExceeded', 'Topic limit exceeded', 403);
      this.#topics.set(arn, { arn, fifo, deduplication: new Map() });
    }
    return arn;
  }

  /** Publishes to a topic of the caller's account and region; returns the message id. */
  publish(params: URLSearchParams, caller: SnsCaller, now: number): string {
    const topicArn = params.get('TopicArn') ?? params.get('TargetArn') ?? '';
    const parsed = TOPIC_ARN.exec(topicArn);
    if (!parsed) throw new SnsError('InvalidParameter', 'Invalid parameter: TopicArn');
    if (parsed[2] !== caller.account || parsed[1] !== caller.region) {
      throw new SnsError(
        'AuthorizationError',
        `User is not authorized to perform: SNS:Publish on resource: ${topicArn}`,
        403,
      );
    }
    const topic = this.#topics.get(topicArn);
    if (!topic) throw new SnsError('NotFound', 'Topic does not exist', 404);
    const message = params.get('Message') ?? '';
    if (message === '') throw new SnsError('InvalidParameter', 'Invalid parameter: Empty message');
    if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES) {
      throw new SnsError('InvalidParameter', 'Invalid parameter: Message too long');
    }
    const subject = params.get('Subject') ?? undefined;
    if (subject !== undefined && !/^[!-~][ -~]{0,98}$/.test(subject)) {
      throw new SnsError('InvalidParameter', 'Invalid parameter: Subject');
    }
    const groupId = params.get('MessageGroupId') ?? undefined;
    const deduplicationId = params.get('MessageDeduplicationId') ?? undefined;
    if (topic.fifo) {
      if (groupId === undefined || !FIFO_ID.test(groupId)) {
        throw new SnsError(
          'InvalidParameter',
          'Invalid parameter: The MessageGroupId parameter is required for FIFO topics',
        );
      }
      if (deduplicationId === undefined || !FIFO_ID.test(deduplicationId)) {
        throw new SnsError(
          'InvalidParameter',
          'Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        );
      }
      for (const [id, seen] of topic.deduplication)
        if (now - seen.at >= DEDUPLICATION_MS) topic.deduplication.delete(id);
      const seen = topic.deduplication.get(deduplicationId);
      if (seen) return seen.messageId;
    } else if (deduplicationId !== undefined) {
      throw new SnsError('InvalidParameter', 'Invalid parameter: MessageDeduplicationId applies to FIFO topics only');
    }
    const messageId = randomUUID();
    if (topic.fifo && deduplicationId !== undefined) topic.deduplication.set(deduplicationId, { messageId, at: now });
    this.#keep({
      messageId,
      topicArn,
      ...(subject === undefined ? {} : { subject }),
      message,
      ...(groupId === undefined ? {} : { messageGroupId: groupId }),
      publishedAt: new Date(now).toISOString(),
    });
    return messageId;
  }

  /** The messages kept, oldest first. */
  messages(): readonly PublishedMessage[] {
    return [...this.#kept];
  }

  /** Calls `listener` with each message published; returns what removes it. */
  onPublish(listener: (message: PublishedMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  reset(): void {
    this.#topics.clear();
    this.#kept = [];
    this.#keptBytes = 0;
  }

  #keep(message: PublishedMessage): void {
    this.#kept.push(message);
    this.#keptBytes += Buffer.byteLength(message.message);
    while (this.#kept.length > MAX_KEPT_MESSAGES || this.#keptBytes > MAX_KEPT_BYTES) {
      const oldest = this.#kept.shift();
      if (oldest) this.#keptBytes -= Buffer.byteLength(oldest.message);
    }
    for (const listener of this.#listeners) listener(message);
  }
}

/** One SNS action's answer (the inside of `<Action>Result>`). */
export function runSns(action: string, params: URLSearchParams, caller: SnsCaller, topics: LocalTopics, now: number) {
  switch (action) {
    case 'CreateTopic':
      return `<TopicArn>${escapeXml(topics.create(params.get('Name') ?? '', caller))}</TopicArn>`;
    case 'Publish':
      return `<MessageId>${topics.publish(params, caller, now)}</MessageId>`;
    default:
      throw new SnsError('InvalidAction', `The action ${action} is not valid for this endpoint.`);
  }
}

export const snsResponseXml = (action: string, result: string, requestId: string) =>
  `<${action}Response xmlns="${SNS_NAMESPACE}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;

export const snsErrorXml = (error: SnsError, requestId: string) =>
  `<ErrorResponse xmlns="${SNS_NAMESPACE}"><Error><Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
