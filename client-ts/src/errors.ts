import type { ErrorBody, ErrorCode } from "./types.js";

/**
 * A refusal from the server (the protocol's error shape, over HTTP or in an `error` frame),
 * or a failure on the way to it (`network`), or one this package raises itself.
 */
export class TalkZoneError extends Error {
  /** HTTP status; 0 for an `error` frame or a failure before any answer. */
  readonly status: number;
  readonly code: ErrorCode | "network" | "outbox_full" | "signed_out" | "stopped";
  readonly details?: unknown;
  /** From `Retry-After` or `retry_after_ms`. */
  readonly retryAfterMs?: number;

  constructor(
    code: TalkZoneError["code"],
    message: string,
    opts: { status?: number; details?: unknown; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = "TalkZoneError";
    this.code = code;
    this.status = opts.status ?? 0;
    this.details = opts.details;
    this.retryAfterMs = opts.retryAfterMs;
  }

  /** From an HTTP answer that is not 2xx. */
  static fromHttp(status: number, body: unknown, retryAfter: string | null): TalkZoneError {
    const retryAfterMs = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
    const e = (body as ErrorBody | null)?.error;
    if (e && typeof e.code === "string" && typeof e.message === "string") {
      return new TalkZoneError(e.code, e.message, { status, details: e.details, retryAfterMs });
    }
    // Not the protocol's shape (a proxy's page, say): named by status.
    const code: ErrorCode = status === 401 ? "unauthorized" : status >= 500 ? "unavailable" : "bad_request";
    return new TalkZoneError(code, `HTTP ${status}`, { status, retryAfterMs });
  }
}
