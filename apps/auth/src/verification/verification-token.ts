import { randomInt, timingSafeEqual } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const TOKEN_LENGTH = 8;

/** 8 characters of A-Z 0-9 from the operating system's secure random source (36^8 ≈ 2.8e12). */
export function newVerificationToken(): string {
  let token = '';
  for (let i = 0; i < TOKEN_LENGTH; i++) token += ALPHABET[randomInt(ALPHABET.length)];
  return token;
}

/** Constant-time comparison of the stored token with a presented one. */
export function tokensMatch(stored: string, presented: string): boolean {
  const a = Buffer.from(stored);
  const b = Buffer.from(presented.toUpperCase());
  return a.length === b.length && timingSafeEqual(a, b);
}
