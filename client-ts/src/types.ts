// The protocol's types, as in docs/protocol.md and the generated documents the server serves
// (`/v1/openapi.json`, `/v1/asyncapi.json`). The lists of frame types and error codes are
// checked against the running server's AsyncAPI document by the tests (test/drift.test.mjs).

/** Every `type` a server frame may have (AsyncAPI `server.*` messages). */
export const SERVER_FRAME_TYPES = [
  "ack",
  "authenticated",
  "conversation",
  "duty",
  "error",
  "escalation",
  "message",
  "message.changed",
  "moderation.changed",
  "monitoring_notice",
  "notice",
  "pong",
  "presence",
  "queue",
  "queue.changed",
  "queue.snapshot",
  "read",
  "subscribed",
  "survey",
  "typing",
] as const;

/** Every `type` a client frame may have (AsyncAPI `client.*` messages). */
export const CLIENT_FRAME_TYPES = [
  "accept",
  "auth",
  "duty",
  "moderation.watch",
  "ping",
  "queue.watch",
  "read",
  "send",
  "subscribe",
  "typing",
  "unsubscribe",
] as const;

/** The protocol's stable error codes, shared by HTTP bodies and `error` frames. */
export const ERROR_CODES = [
  "bad_request",
  "bad_frame",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "already_assigned",
  "validation_failed",
  "rate_limited",
  "too_large",
  "unavailable",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
export type ServerFrameType = (typeof SERVER_FRAME_TYPES)[number];
export type ClientFrameType = (typeof CLIENT_FRAME_TYPES)[number];

export type Role = "young_person" | "parent_carer" | "duty_worker" | "supervisor" | "moderator" | "yot_admin";
export type ConversationState = "queued" | "assigned" | "closed" | "open";
export type ConversationKind = "support" | "room";
export type MessageKind = "text" | "system" | "service_card";
export type Staffing = "available" | "busy" | "nobody_on_duty";
export type AckStatus = "delivered" | "held";

/** The HTTP error body: `{"error": {"code", "message", "details"?}}`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export interface UserView {
  id: string;
  role: Role;
  display_name: string;
}

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  /** Seconds the access token lives. */
  expires_in: number;
  user: UserView;
}

export interface MonitoringNotice {
  version: number;
  text: string;
  acknowledged: boolean;
  acknowledged_at?: string | null;
}

export interface Conversation {
  id: string;
  kind: ConversationKind;
  state: ConversationState;
  topic?: string | null;
  created_at: string;
  young_person?: UserView | null;
  assigned_to?: UserView | null;
  queue_position?: number | null;
  estimated_wait_s?: number | null;
  staffing?: Staffing | null;
  next_on_duty_at?: string | null;
  last_seq: number;
  monitoring_notice?: MonitoringNotice | null;
  [extra: string]: unknown;
}

export interface Message {
  conversation_id: string;
  seq: number;
  message_id: string;
  client_msg_id?: string | null;
  sender?: UserView | null;
  body: string;
  sent_at: string;
  kind: MessageKind;
  removed?: boolean;
}

export interface MessagesPage {
  messages: Message[];
  next_after_seq: number;
}

export interface DeviceCredential {
  id: string;
  credential: string;
  created_at: string;
  unused_days: number;
}

// Push registration (the push API contract).
export type PushSubscriptionRequest =
  | { kind: "web_push"; endpoint: string; keys: { p256dh: string; auth: string }; device_label?: string }
  | { kind: "fcm"; token: string; device_label?: string }
  | { kind: "apns"; token: string; device_label?: string };
export type PushKind = PushSubscriptionRequest["kind"];

export interface PushSubscriptionCreated {
  id: string;
  kind: PushKind;
  created_at: string;
}

export interface PushSubscriptionView {
  id: string;
  kind: PushKind;
  device_label?: string | null;
  created_at: string;
  last_success_at?: string | null;
}

// Frames.
export interface AckFrame {
  type: "ack";
  client_msg_id: string;
  conversation_id: string;
  message_id: string;
  /** `null` when `held` for a moderator (rooms). */
  seq: number | null;
  status: AckStatus;
}
export type MessageFrame = { type: "message" } & Message;
export interface SubscribedFrame {
  type: "subscribed";
  conversation_id: string;
  last_seq: number;
}
export interface ErrorFrame {
  type: "error";
  code: ErrorCode;
  message: string;
  retry_after_ms?: number | null;
  /** The refused `send`'s `client_msg_id`, or the `type` of another refused frame. */
  ref?: string | null;
}
export type ConversationFrame = { type: "conversation" } & Conversation;
export interface QueueFrame {
  type: "queue";
  conversation_id: string;
  position: number;
  estimated_wait_s?: number | null;
  available_workers: number;
  staffing: Staffing;
  next_on_duty_at?: string | null;
}
export interface TypingFrame {
  type: "typing";
  conversation_id: string;
  user: UserView;
}
export interface ReadFrame {
  type: "read";
  conversation_id: string;
  user_id: string;
  seq: number;
}
export interface NoticeFrame {
  type: "notice";
  kind: string;
  message: string;
  conversation_id?: string | null;
  message_id?: string | null;
  client_msg_id?: string | null;
}
export interface MessageChangedFrame {
  type: "message.changed";
  conversation_id: string;
  message_id: string;
  seq: number;
  status: string;
  body: string;
}
export interface PongFrame {
  type: "pong";
  nonce?: unknown;
}
export interface AuthenticatedFrame {
  type: "authenticated";
  expires_in: number;
}
export interface MonitoringNoticeFrame {
  type: "monitoring_notice";
  conversation_id: string;
  version: number;
  text: string;
}
/** Frames a young person's app rarely needs, kept with their fields untyped. */
export interface OtherFrame {
  type: "duty" | "escalation" | "moderation.changed" | "presence" | "queue.changed" | "queue.snapshot" | "survey";
  [field: string]: unknown;
}

export type ServerFrame =
  | AckFrame
  | MessageFrame
  | SubscribedFrame
  | ErrorFrame
  | ConversationFrame
  | QueueFrame
  | TypingFrame
  | ReadFrame
  | NoticeFrame
  | MessageChangedFrame
  | PongFrame
  | AuthenticatedFrame
  | MonitoringNoticeFrame
  | OtherFrame;

export type ClientFrame =
  | { type: "subscribe"; conversation_id: string; after_seq: number }
  | { type: "unsubscribe"; conversation_id: string }
  | { type: "send"; conversation_id: string; client_msg_id: string; body: string }
  | { type: "typing"; conversation_id: string }
  | { type: "read"; conversation_id: string; seq: number }
  | { type: "accept"; conversation_id: string }
  | { type: "duty"; on_duty: boolean }
  | { type: "queue.watch" }
  | { type: "moderation.watch" }
  | { type: "ping"; nonce?: unknown }
  | { type: "auth"; access_token: string };
