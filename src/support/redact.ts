/**
 * The only way a config value, connection description or error becomes text: secrets are
 * replaced before anything is printed or logged. Imports nothing of this project.
 */

const REDACTED = '[redacted]';

/** Secrets registered by whoever read them (a password file, an option file, the env). */
const knownSecrets = new Set<string>();

/** Remembers a secret so that {@link redact} removes it from any later text. Empty strings are ignored. */
export function registerSecret(secret: string | undefined): void {
  if (secret !== undefined && secret.length > 0) knownSecrets.add(secret);
}

/**
 * Returns `text` with every registered secret, and anything that looks like a password
 * assignment (`password=...`, `IDENTIFIED BY '...'`, `user:pass@` in a URL), replaced.
 */
export function redact(text: string): string {
  let result = text;
  // Longest first, so a secret that contains another is removed whole.
  for (const secret of [...knownSecrets].sort((a, b) => b.length - a.length)) {
    result = result.split(secret).join(REDACTED);
  }
  return result
    .replace(/(password\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, `$1${REDACTED}`)
    .replace(/(identified\s+by\s+)('[^']*'|"[^"]*")/gi, `$1'${REDACTED}'`)
    .replace(/(\/\/[^/:@\s]+:)[^@\s]+@/g, `$1${REDACTED}@`);
}
