/** The fully qualified host name, as Python's `socket.getfqdn()` (which the original used) finds it. */
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
