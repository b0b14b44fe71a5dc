import { LatticeError } from '@lattice/common';

/** 502 BAD_GATEWAY: the upstream could not be reached or broke off its answer. */
export class BadGatewayError extends LatticeError {
  constructor() {
    super('BAD_GATEWAY', 'The upstream service could not be reached', 502);
  }
}

/** 504 GATEWAY_TIMEOUT: the upstream did not answer within UPSTREAM_TIMEOUT_MS. */
export class GatewayTimeoutError extends LatticeError {
  constructor() {
    super('GATEWAY_TIMEOUT', 'The upstream service did not answer in time', 504);
  }
}

/** 400 BAD_REQUEST: a path the gateway will not forward (a `..` segment). */
export class UnforwardablePathError extends LatticeError {
  constructor() {
    super('BAD_REQUEST', 'The request path cannot be forwarded', 400);
  }
}

/** 429 RATE_LIMITED: the client is sending too many request bodies at once (MAX_UPLOADS_PER_CLIENT). */
export class TooManyUploadsError extends LatticeError {
  constructor() {
    super('RATE_LIMITED', 'Too many uploads in progress from this client; try again shortly', 429);
  }
}

/** 503 UPSTREAM_UNAVAILABLE: every target of the route is out of rotation after failing. */
export class UpstreamUnavailableError extends LatticeError {
  constructor() {
    super(
      'UPSTREAM_UNAVAILABLE',
      'Every upstream of this route is failing and out of rotation; try again shortly',
      503,
    );
  }
}
