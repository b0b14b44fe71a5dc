import type { EntrantProfile, EntrantSnapshot } from './prize-draw.types';

/** A GitHub user as `GET /users/{id}` answers it: an object with at least a login. */
export type GithubUser = Record<string, unknown> & { login: string };

const MAX_NAME_LENGTH = 200;
const MAX_URL_LENGTH = 2048;

/** The body of a GitHub user answer, or null when it is not one. */
export function asGithubUser(value: unknown): GithubUser | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const login = (value as { login?: unknown }).login;
  return typeof login === 'string' && login.length > 0 ? (value as GithubUser) : null;
}

/** Only http(s) URLs reach a page's <img src> or <a href>; anything else is dropped. */
function webUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_URL_LENGTH) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** The display name: the profile's name when it has one, else the login. */
function displayName(user: GithubUser): string {
  const name = typeof user.name === 'string' ? user.name.trim() : '';
  return (name || user.login).slice(0, MAX_NAME_LENGTH);
}

/** The answer of POST /api/draws/:id/entries. */
export function entrantProfile(githubId: string, user: GithubUser): EntrantProfile {
  return {
    githubId,
    login: user.login,
    name: displayName(user),
    image: webUrl(user.avatar_url) ?? '',
    url: webUrl(user.html_url),
  };
}

/** What a draw keeps of an entrant for its winners answer. */
export function entrantSnapshot(profile: EntrantProfile): EntrantSnapshot {
  return { name: profile.name, image: profile.image };
}
