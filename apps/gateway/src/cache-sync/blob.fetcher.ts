import { Injectable } from '@nestjs/common';
import { ConfigService } from '@lattice/config';
import { AllowedHosts } from './allowed-hosts.policy';
import { BLOB_MAX_BYTES, BLOB_MAX_REDIRECTS, BLOB_TIMEOUT_MS } from './cache-sync.constants';
import {
  BlobFetchFailedError,
  BlobFetchTimeoutError,
  BlobTooLargeError,
  BlobUrlRefusedError,
} from './cache-sync.errors';
import { readCappedBody } from '../fetching/capped-body';

/** A fetched body: text when its content type is textual and it decodes cleanly, bytes otherwise. */
export type FetchedBlob =
  | { kind: 'text'; text: string; contentType: string }
  | { kind: 'binary'; bytes: Buffer; contentType: string };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Text and JSON (and XML) content types; their bodies are stored as text. */
function isTextual(mediaType: string): boolean {
  const [type, subtype = ''] = mediaType.split('/');
  return (
    type === 'text' ||
    subtype === 'json' ||
    subtype.endsWith('+json') ||
    subtype === 'xml' ||
    subtype.endsWith('+xml') ||
    (type === 'application' && (subtype === 'javascript' || subtype === 'ecmascript'))
  );
}

/** The body as text in its declared charset (UTF-8 by default), or null when it does not decode cleanly. */
function decodeText(body: Buffer, contentType: string): string | null {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType)?.[1] ?? 'utf-8';
  try {
    return new TextDecoder(charset, { fatal: true }).decode(body);
  } catch {
    return null;
  }
}

/** Where a URL points, for messages: never its query string, which may carry a signature. */
const where = (url: URL): string => `${url.origin}${url.pathname}`;

/**
 * Fetches blob URLs for SET events under CONTRACT 6: only from
 * CACHE_SYNC_ALLOWED_HOSTS (each redirect checked again, at most 5), within
 * 5 s for the whole exchange, and at most 5 MiB, counted as the body streams
 * in (a Content-Length over the cap is refused before reading), so a lying
 * or endless server costs at most 5 MiB and 5 s.
 */
@Injectable()
export class BlobFetcher {
  private readonly allowed: AllowedHosts;

  constructor(config: ConfigService) {
    this.allowed = new AllowedHosts(config.get('cacheSync').allowedHosts);
  }

  /** Throws BlobUrlRefusedError when the URL may not be fetched at all. */
  check(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new BlobUrlRefusedError('it is not an absolute URL');
    }
    const problem = this.allowed.problem(url);
    if (problem) throw new BlobUrlRefusedError(problem);
    return url;
  }

  async fetch(raw: string): Promise<FetchedBlob> {
    let url = this.check(raw);
    const deadline = AbortSignal.timeout(BLOB_TIMEOUT_MS);
    for (let redirects = 0; ; redirects++) {
      let response: Response;
      try {
        response = await fetch(url, {
          redirect: 'manual',
          signal: deadline,
          headers: { accept: '*/*', 'user-agent': 'lattice-cache-sync' },
        });
      } catch (error) {
        if (deadline.aborted) throw new BlobFetchTimeoutError(where(url), BLOB_TIMEOUT_MS);
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new BlobFetchFailedError(
          `The blob at ${where(url)} could not be reached (${cause?.code ?? cause?.message ?? 'network error'})`,
          false,
        );
      }
      if (REDIRECTS.has(response.status)) {
        await response.body?.cancel().catch(() => undefined);
        const location = response.headers.get('location');
        if (!location) {
          throw new BlobFetchFailedError(
            `${where(url)} answered ${response.status} without a Location`,
            true,
          );
        }
        if (redirects >= BLOB_MAX_REDIRECTS) {
          throw new BlobFetchFailedError(
            `${where(url)} redirected more than ${BLOB_MAX_REDIRECTS} times`,
            true,
          );
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          throw new BlobUrlRefusedError(`${where(url)} redirected to something that is not a URL`);
        }
        const problem = this.allowed.problem(next);
        if (problem)
          throw new BlobUrlRefusedError(`${where(url)} redirected to ${next.origin}: ${problem}`);
        url = next;
        continue;
      }
      if (response.status < 200 || response.status > 299) {
        await response.body?.cancel().catch(() => undefined);
        // Client errors will not go away by asking again; server errors and throttling may.
        const permanent =
          response.status < 500 && response.status !== 408 && response.status !== 429;
        throw new BlobFetchFailedError(`${where(url)} answered ${response.status}`, permanent);
      }
      const body = await this.readCapped(response, url, deadline);
      const contentType = response.headers.get('content-type')?.trim() ?? '';
      const mediaType = contentType.split(';')[0].trim().toLowerCase();
      const text = isTextual(mediaType) ? decodeText(body, contentType) : null;
      return text === null
        ? { kind: 'binary', bytes: body, contentType }
        : { kind: 'text', text, contentType };
    }
  }

  private async readCapped(response: Response, url: URL, deadline: AbortSignal): Promise<Buffer> {
    let body: Buffer | null;
    try {
      body = await readCappedBody(response, BLOB_MAX_BYTES);
    } catch {
      if (deadline.aborted) throw new BlobFetchTimeoutError(where(url), BLOB_TIMEOUT_MS);
      throw new BlobFetchFailedError(`The body from ${where(url)} broke off`, false);
    }
    if (body === null) throw new BlobTooLargeError(where(url), BLOB_MAX_BYTES);
    return body;
  }
}
