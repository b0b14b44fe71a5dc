/** Request bodies larger than this are answered 413 PAYLOAD_TOO_LARGE. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/** A path parameter longer than this is answered 414 URI_TOO_LONG by the router. */
export const MAX_PARAM_LENGTH = 200;
/**
 * The largest Socket.IO packet (or WebSocket message) a client may send: the
 * realtime app's `maxHttpBufferSize`, and the gateway's bound on messages it
 * relays before anyone is authenticated. A larger one closes the connection.
 */
export const SOCKET_MESSAGE_LIMIT_BYTES = 256 * 1024;
/** Node's limit on the request line plus headers (its default `maxHeaderSize`): 431 beyond. */
export const MAX_HEADER_BYTES = 16 * 1024;
