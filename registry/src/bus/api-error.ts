/**
 * A whole-request failure of the EventBridge wire API. `type` is the `__type` EventBridge answers with (the SDK
 * builds its exception from it, e.g. `ValidationException`); `status` is the HTTP status (400 for client faults).
 */
export class BusApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}
