import { describe, expect, it } from 'vitest';
import { redact, registerSecret } from '../../src/support/redact.js';

describe('redact: registered secrets', () => {
  it('replaces every occurrence of a registered secret', () => {
    expect(redact('s3cr3t-A1 and s3cr3t-A1')).toBe('s3cr3t-A1 and s3cr3t-A1');
    registerSecret('s3cr3t-A1');
    expect(redact('s3cr3t-A1 and s3cr3t-A1')).toBe('[redacted] and [redacted]');
    expect(redact('prefix-s3cr3t-A1-suffix')).toBe('prefix-[redacted]-suffix');
  });

  it('ignores empty and undefined secrets', () => {
    registerSecret('');
    registerSecret(undefined);
    expect(redact('nothing to hide here')).toBe('nothing to hide here');
    expect(redact('')).toBe('');
  });

  it('removes a secret containing another one whole', () => {
    registerSecret('abcB2');
    registerSecret('abcB2-longer');
    expect(redact('x abcB2-longer y abcB2 z')).toBe('x [redacted] y [redacted] z');
  });

  it('matches secrets literally, regular-expression characters included', () => {
    registerSecret('p.a*s+s?(C3)[x]$^');
    expect(redact('login with p.a*s+s?(C3)[x]$^ now')).toBe('login with [redacted] now');
    expect(redact('login with pXaas(C3)x now')).toBe('login with pXaas(C3)x now');
  });

  it('handles secrets with quotes, spaces, newlines and unicode', () => {
    registerSecret('it\'s a "pass"\nphrase 🔑 D4');
    expect(redact(`>>it's a "pass"\nphrase 🔑 D4<<`)).toBe('>>[redacted]<<');
  });
});

describe('redact: patterns', () => {
  it('hides password assignments', () => {
    expect(redact('password=hunter2 next')).toBe('password=[redacted] next');
    expect(redact('--password = hunter2')).toBe('--password = [redacted]');
    expect(redact('PASSWORD: hunter2')).toBe('PASSWORD: [redacted]');
    expect(redact('password="two words" next')).toBe('password=[redacted] next');
    expect(redact("password='two words' next")).toBe('password=[redacted] next');
    expect(redact('db_password=x1 other_password: y2')).toBe(
      'db_password=[redacted] other_password: [redacted]',
    );
  });

  it("hides IDENTIFIED BY '...'", () => {
    expect(redact("CREATE USER 'u'@'%' IDENTIFIED BY 'hunter2'")).toBe(
      "CREATE USER 'u'@'%' IDENTIFIED BY '[redacted]'",
    );
    expect(redact('alter user u identified  by "hunter2";')).toBe(
      "alter user u identified  by '[redacted]';",
    );
  });

  it('hides the password of a URL', () => {
    expect(redact('mysql://root:hunter2@db.example.org:3306/csv2')).toBe(
      'mysql://root:[redacted]@db.example.org:3306/csv2',
    );
    expect(redact('see https://user:p%40ss@host/')).toBe('see https://user:[redacted]@host/');
  });

  it('leaves ordinary text alone', () => {
    const text =
      'backup@db1.example.org:3306 (password from password_file /etc/x), user: root, mysql://host:3306/db';
    expect(redact('user backup@localhost connected to db1:3306')).toBe(
      'user backup@localhost connected to db1:3306',
    );
    expect(redact('https://example.org/a:b')).toBe('https://example.org/a:b');
    expect(redact(text)).not.toContain('[redacted]');
  });
});
