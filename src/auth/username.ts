/** Username length limits, in Unicode code points after NFKC. */
export const MIN_USERNAME_LENGTH = 3
export const MAX_USERNAME_LENGTH = 32

// Letters and digits from any script plus `.`, `_` and `-`. NFKC runs first,
// so fullwidth and other compatibility forms become their plain letters.
// NOTE: combining marks are not letters, so names in scripts whose letters
// need a mark that NFKC cannot compose (Devanagari vowel signs, for one) are
// rejected. Look-alikes across scripts, such as Cyrillic "а" and Latin "a",
// stay distinct names.
const USERNAME_PATTERN = /^[\p{L}\p{N}._-]{3,32}$/u

/** Normalises a username for storage and display (NFKC). */
export function normalizeUsername(username: string): string {
  return username.normalize('NFKC')
}

/** Returns whether a normalised username follows the naming rules. */
export function isValidUsername(normalized: string): boolean {
  return USERNAME_PATTERN.test(normalized)
}

/**
 * Returns the key two usernames share when they are the same name: NFKC,
 * lower, upper and lower case again, then NFKC again because changing case
 * can undo normalisation. The round trip through upper case brings "ß" and
 * "ẞ" to "ss" and final "ς" to "σ", close to Unicode full case folding.
 */
export function usernameKey(username: string): string {
  const folded = username.normalize('NFKC')
    .toLowerCase()
    .toUpperCase()
    .toLowerCase()
  return folded.normalize('NFKC')
}
