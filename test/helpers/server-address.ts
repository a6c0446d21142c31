/** The address of the MariaDB server the tests use, as handed from global setup to tests. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** How it was found, for messages: `env`, `local`, `testcontainers`. */
  readonly source: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    server: ServerAddress;
  }
}
