/**
 * Characters a display name (or any text shown to other users) may not hold:
 * control characters (Unicode category Cc: NUL, C0, DEL, C1), which break
 * logs and terminals, and the bidirectional overrides, embeddings, isolates
 * and marks (U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069), which make
 * text display as something other than what it is.
 */
export const UNSAFE_DISPLAY_CHARACTERS = /[\p{Cc}\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

export const DISPLAY_TEXT_RULE =
  'must not contain control characters or bidirectional-override characters';

/** Whether text is safe to show to other users (see UNSAFE_DISPLAY_CHARACTERS). */
export function isSafeDisplayText(text: string): boolean {
  return !UNSAFE_DISPLAY_CHARACTERS.test(text);
}
