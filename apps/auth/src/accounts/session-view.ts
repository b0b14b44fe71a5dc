import type { SessionRecord } from '@lattice/session';

export interface SessionView {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  /** When the session ends if unused: the idle expiry, never later than the absolute one. */
  expiresAt: string;
}

export interface SessionListItem extends SessionView {
  ip: string;
  userAgent: string;
  current: boolean;
}

export function sessionView(record: SessionRecord, idleTtlSeconds: number): SessionView {
  const expiresAt = Math.min(record.lastSeenAt + idleTtlSeconds * 1000, record.expiresAt);
  return {
    id: record.id,
    createdAt: new Date(record.createdAt).toISOString(),
    lastSeenAt: new Date(record.lastSeenAt).toISOString(),
    expiresAt: new Date(expiresAt).toISOString(),
  };
}

export function sessionListItem(
  record: SessionRecord,
  idleTtlSeconds: number,
  currentId?: string,
): SessionListItem {
  return {
    ...sessionView(record, idleTtlSeconds),
    ip: record.ip,
    userAgent: record.userAgent,
    current: record.id === currentId,
  };
}
