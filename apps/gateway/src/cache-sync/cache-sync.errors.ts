import { LatticeError, type ValidationIssue } from '@lattice/common';
import { boundIssues, issuesSummary } from '@lattice/api';

/*
 * Why an event was not applied, each with a stable code. `permanent` says
 * whether applying it again could ever succeed: the stream consumer moves a
 * permanent failure to the dead letters at once and retries the others.
 */

/** 400 INVALID_EVENT: the event does not follow CONTRACT 6; `details` lists each problem. */
export class InvalidEventError extends LatticeError {
  readonly permanent = true;

  constructor(issues: ValidationIssue[]) {
    const details = boundIssues(issues);
    super('INVALID_EVENT', `Invalid event: ${issuesSummary(details)}`, 400, details);
  }
}

/** 400 BLOB_URL_REFUSED: not http(s), not an allowed host and port, or redirected somewhere that is not. */
export class BlobUrlRefusedError extends LatticeError {
  readonly permanent = true;

  constructor(reason: string) {
    super('BLOB_URL_REFUSED', `The blob URL was refused: ${reason}`, 400);
  }
}

/** 502 BLOB_TOO_LARGE: the body (or its Content-Length) went over the cap; nothing was stored. */
export class BlobTooLargeError extends LatticeError {
  readonly permanent = true;

  constructor(origin: string, maxBytes: number) {
    super(
      'BLOB_TOO_LARGE',
      `The blob at ${origin} is larger than ${maxBytes} bytes; nothing was stored`,
      502,
    );
  }
}

/** 504 BLOB_FETCH_TIMEOUT: no complete answer within the time limit; nothing was stored. */
export class BlobFetchTimeoutError extends LatticeError {
  readonly permanent = false;

  constructor(origin: string, timeoutMs: number) {
    super(
      'BLOB_FETCH_TIMEOUT',
      `The blob at ${origin} did not arrive within ${timeoutMs / 1000} s; nothing was stored`,
      504,
    );
  }
}

/**
 * 502 BLOB_FETCH_FAILED: unreachable, or answered with an error status;
 * nothing was stored. A 4xx is permanent, a 5xx or network failure is not.
 */
export class BlobFetchFailedError extends LatticeError {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super('BLOB_FETCH_FAILED', `${message}; nothing was stored`, 502);
  }
}
