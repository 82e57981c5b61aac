import { GatewayError } from '../../errors.js';

/**
 * Every way a control request can fail, with Toxiproxy's own messages and HTTP statuses (its
 * api.go), so a Toxiproxy client reading `{"error": ..., "status": ...}` sees what it expects.
 */
export const FAULT_ERRORS = {
  bad_request_body: { status: 400, message: 'bad request body' },
  missing_field: { status: 400, message: 'missing required field' },
  proxy_not_found: { status: 404, message: 'proxy not found' },
  proxy_exists: { status: 409, message: 'proxy already exists' },
  invalid_stream: { status: 400, message: 'stream was invalid, can be either upstream or downstream' },
  invalid_toxic_type: { status: 400, message: 'invalid toxic type' },
  toxic_exists: { status: 409, message: 'toxic already exists' },
  toxic_not_found: { status: 404, message: 'toxic not found' },
  listen_failed: { status: 500, message: 'listen failed' },
} as const;

export type FaultErrorKind = keyof typeof FAULT_ERRORS;

/** A failed fault-proxy operation; `status` is the control API's answer, `code` is stable for callers. */
export class FaultProxyError extends GatewayError {
  readonly kind: FaultErrorKind;
  readonly status: number;

  /** `detail` is appended as Toxiproxy does: "missing required field: name". */
  constructor(kind: FaultErrorKind, detail?: string, options?: { cause?: unknown }) {
    const base = FAULT_ERRORS[kind];
    super(
      `GW_FAULT_${kind.toUpperCase()}`,
      detail === undefined ? base.message : `${base.message}: ${detail}`,
      options,
    );
    this.kind = kind;
    this.status = base.status;
  }
}
