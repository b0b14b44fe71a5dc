/** The ApiDocumentInfo an app gives DocsModule.forRoot. */
export const API_DOCUMENT_INFO = Symbol('API_DOCUMENT_INFO');
