export { TalkZoneClient, ROUTES } from "./client.js";
export type { ClientOptions, Session } from "./client.js";
export { Live, MAX_BODY_CHARS } from "./live.js";
export type { LiveOptions, LiveStatus, WebSocketLike, WebSocketConstructor } from "./live.js";
export { TalkZoneError } from "./errors.js";
export { MemoryStorage } from "./storage.js";
export type { KeyValueStorage } from "./storage.js";
export * from "./types.js";
