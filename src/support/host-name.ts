/**
 * The host name of the host directory: the fully qualified host name, as Python's
 * `socket.getfqdn()` (which the original used) finds it, and the rules a name must follow.
 */
import { lookup, lookupService } from 'node:dns/promises';
import { hostname } from 'node:os';

/**
 * `os.hostname()` when it already has a domain; otherwise the canonical name the resolver
 * gives for it (from /etc/hosts or DNS); otherwise the short name. Never throws.
 */
export async function fullyQualifiedHostName(): Promise<string> {
  const short = hostname();
  if (short.includes('.')) return short;
  try {
    const { address } = await lookup(short);
    const { hostname: canonical } = await lookupService(address, 0);
    if (canonical.includes('.') && (canonical.startsWith(`${short}.`) || canonical === short))
      return canonical;
  } catch {
    // No resolver answer: the short name is the best there is.
  }
  return short;
}

/** The most bytes a file name may have on the file systems git runs on. */
const MAX_NAME_BYTES = 255;

/**
 * Why `host` cannot name a host directory, or undefined when it can. A host directory is one
 * path segment beside the others and the `.schema_backup` work directory, in a git work tree:
 * so no `/` or `\`, nothing starting with a dot (`.`, `..`, `.git`, `.schema_backup`), no
 * control character (a newline would split every line of `git log` and of the logs), no
 * space at either end, and at most 255 bytes.
 */
export function hostNameProblem(host: string): string | undefined {
  if (host === '') return 'it is empty';
  if (host.startsWith('.'))
    return 'it starts with a dot (., .., .git and .schema_backup are not host directories)';
  if (/[/\\]/.test(host)) return 'it contains a / or \\';
  // \p{Cc} is C0 (NUL, tab, newline, ...), DEL and C1; U+2028/U+2029 end a line as well.
  const control = /[\p{Cc}\u2028\u2029]/u.exec(host);
  if (control !== null)
    return `it contains a control character (U+${(control[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')})`;
  if (host.trim() !== host) return 'it starts or ends with a space';
  if (Buffer.byteLength(host) > MAX_NAME_BYTES)
    return `it is longer than ${String(MAX_NAME_BYTES)} bytes`;
  return undefined;
}
