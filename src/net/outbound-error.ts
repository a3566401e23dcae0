/** The one error of outbound calls to tenant-configured URLs, with a stable code that callers branch on. */

export type OutboundErrorCode =
  | 'forbidden_url' // scheme, credentials, an internal name or a forbidden IP literal
  | 'forbidden_address' // the name resolved, or the socket connected, to a forbidden address
  | 'too_many_redirects'
  | 'redirect_not_replayable' // a 307/308 after a streamed body that cannot be sent again
  | 'response_too_large'
  | 'content_type'
  | 'timeout'
  | 'network';

/** A refused or failed outbound call. `target` is the origin only: paths and queries may carry a tenant's token. */
export class OutboundRequestError extends Error {
  readonly code: OutboundErrorCode;
  readonly target: string | undefined;

  constructor(code: OutboundErrorCode, message: string, options: { target?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OutboundRequestError';
    this.code = code;
    this.target = options.target;
  }

  /** Worth another attempt: the network or the other side may do better next time; a refusal never will. */
  get isRetryable(): boolean {
    return this.code === 'timeout' || this.code === 'network';
  }
}

/** The OutboundRequestError in an error's cause chain (undici wraps connector errors in "fetch failed"), if any. */
export function findOutboundError(error: unknown): OutboundRequestError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current; depth += 1) {
    if (current instanceof OutboundRequestError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
