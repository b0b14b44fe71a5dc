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
