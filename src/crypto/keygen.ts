/** New age identities, in the file format of `age-keygen`. */
import { generateX25519Identity, identityToRecipient } from 'age-encryption';

export interface GeneratedIdentity {
  /** The whole file: comments with the creation time and public key, then the secret key. */
  readonly fileText: string;
  readonly recipient: string;
}

/**
 * An X25519 identity, which every age 1.x reads (hybrid post-quantum keys need age 1.3+, so
 * they are not the default). `now` only sets the `# created:` comment.
 */
export async function generateAgeIdentity(now: Date = new Date()): Promise<GeneratedIdentity> {
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const created = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    fileText: `# created: ${created}\n# public key: ${recipient}\n${identity}\n`,
    recipient,
  };
}
