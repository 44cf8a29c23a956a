// Letters and digits from any script plus `.`, `_` and `-`. NFKC runs first,
// so fullwidth and other compatibility forms become their plain letters.
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
 * lower case, then NFKC again because lower-casing can undo normalisation.
 */
export function usernameKey(username: string): string {
  return username.normalize('NFKC').toLowerCase().normalize('NFKC')
}
