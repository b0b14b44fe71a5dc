import { Injectable, Logger } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import { ConfigService } from '@lattice/config';
import { ApiDocument, ApiDocumentSource } from '@lattice/http';
import { readCappedBody } from '../fetching/capped-body';
import { FORWARDED_APPS, mergeDocuments } from './platform-document';

/** How long an app may take to send its document. */
const FETCH_TIMEOUT_MS = 2_000;
/** A document fetched is used this long before it is fetched again (a deploy shows within a minute). */
const FRESH_MS = 60_000;
/** After a failed fetch, the next request waits this long before trying again. */
const RETRY_MS = 5_000;
/** Larger than any document of ours by far. */
const MAX_DOCUMENT_BYTES = 5 * 1024 * 1024;

interface Upstream {
  app: string;
  prefix: string;
  url: string;
  /** The last document fetched, kept while a later fetch fails. */
  document?: OpenAPIObject;
  checkedAt: number;
  failing: boolean;
  pending?: Promise<void>;
}

/**
 * What the gateway's GET /docs/json serves: its own document merged with the
 * auth and realtime apps' (each app's own GET /docs/json, fetched from
 * AUTH_URL and REALTIME_URL on demand and kept for a minute). An app that
 * cannot be reached leaves its last document in place, or, if there was
 * none, its routes out, said at the top of the document; the gateway's own
 * routes are always there.
 */
@Injectable()
export class PlatformDocument extends ApiDocumentSource {
  private readonly logger = new Logger('PlatformDocument');
  private readonly upstreams: Upstream[];
  private merged: { inputs: (OpenAPIObject | undefined)[]; text: string } | undefined;

  constructor(
    private readonly own: ApiDocument,
    config: ConfigService,
  ) {
    super();
    const { authUrl, realtimeUrl } = config.get('gateway');
    const urls = { auth: authUrl, realtime: realtimeUrl };
    this.upstreams = FORWARDED_APPS.map(({ app, prefix }) => ({
      app,
      prefix,
      url: `${urls[app].replace(/\/+$/, '')}/docs/json`,
      checkedAt: -Infinity,
      failing: false,
    }));
  }

  async json(): Promise<string> {
    await Promise.all(this.upstreams.map((upstream) => this.refresh(upstream)));
    const inputs = [this.own.document, ...this.upstreams.map((upstream) => upstream.document)];
    if (!this.merged || inputs.some((input, i) => input !== this.merged!.inputs[i])) {
      const document = mergeDocuments(this.own.document, this.upstreams);
      this.merged = { inputs, text: JSON.stringify(document) };
    }
    return this.merged.text;
  }

  private refresh(upstream: Upstream): Promise<void> {
    const age = Date.now() - upstream.checkedAt;
    if (age < (upstream.failing ? RETRY_MS : FRESH_MS)) return Promise.resolve();
    upstream.pending ??= this.fetchDocument(upstream).finally(() => (upstream.pending = undefined));
    return upstream.pending;
  }

  private async fetchDocument(upstream: Upstream): Promise<void> {
    try {
      const response = await fetch(upstream.url, {
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        headers: { accept: 'application/json' },
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`status ${response.status}`);
      }
      const body = await readCappedBody(response, MAX_DOCUMENT_BYTES);
      if (body === null) throw new Error(`larger than ${MAX_DOCUMENT_BYTES} bytes`);
      const document = JSON.parse(body.toString('utf8')) as OpenAPIObject;
      if (typeof document?.paths !== 'object' || document.paths === null) {
        throw new Error('not an OpenAPI document');
      }
      if (upstream.failing) this.logger.log(`The ${upstream.app} app's document is back`);
      upstream.document = document;
      upstream.failing = false;
    } catch (error) {
      // fetch's own message is "fetch failed"; its cause says why (ECONNREFUSED, ...).
      const cause = (error as { cause?: { code?: unknown } }).cause?.code;
      const reason = typeof cause === 'string' ? cause : (error as Error).message;
      if (!upstream.failing) {
        this.logger.warn(
          `The ${upstream.app} app's OpenAPI document could not be fetched from ${upstream.url} (${reason}); /docs/json ${upstream.document ? 'keeps its last copy' : 'leaves its routes out'} until it can`,
        );
      }
      upstream.failing = true;
    } finally {
      upstream.checkedAt = Date.now();
    }
  }
}
