/**
 * What `GET /docs/json` serves: by default the app's own document
 * (ApiDocument); the gateway gives DocsModule a source that merges the other
 * apps' documents into its own.
 */
export abstract class ApiDocumentSource {
  /** The document as JSON text. */
  abstract json(): Promise<string>;
}
