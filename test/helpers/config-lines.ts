/** Lines of a test config: the `database:` block that points at the test server. */
import { testServer } from './database.js';

export function databaseConfigLines(database: string): string[] {
  const server = testServer();
  return [
    'database:',
    `  name: ${database}`,
    `  host: ${server.host}`,
    `  port: ${String(server.port)}`,
    `  user: ${server.user}`,
  ];
}
