/**
 * Finds the MariaDB server for the whole test run: `$SCHEMA_BACKUP_TEST_SERVER`
 * (`mysql://user:password@host:port`), else the local server on 127.0.0.1:3306 as root,
 * else a testcontainers MariaDB where a Docker engine answers, else fails with how to get one.
 */
import { existsSync } from 'node:fs';
import mysql from 'mysql2/promise';
import type { TestProject } from 'vitest/node';
import type { ServerAddress } from './server-address.js';

let stopContainer: (() => Promise<void>) | undefined;

export async function setup(project: TestProject): Promise<void> {
  project.provide('server', await findServer());
}

export async function teardown(): Promise<void> {
  await stopContainer?.();
}

async function findServer(): Promise<ServerAddress> {
  const url = process.env.SCHEMA_BACKUP_TEST_SERVER;
  if (url !== undefined && url !== '') {
    const parsed = new URL(url);
    const address: ServerAddress = {
      host: parsed.hostname,
      port: Number(parsed.port || 3306),
      user: decodeURIComponent(parsed.username || 'root'),
      password: decodeURIComponent(parsed.password),
      source: 'env',
    };
    const problem = await probe(address);
    if (problem !== undefined)
      throw new Error(`SCHEMA_BACKUP_TEST_SERVER=${parsed.host} does not answer: ${problem}`);
    return address;
  }
  const local: ServerAddress = {
    host: '127.0.0.1',
    port: 3306,
    user: 'root',
    password: '',
    source: 'local',
  };
  const localProblem = await probe(local);
  if (localProblem === undefined) return local;

  if (existsSync('/var/run/docker.sock') || process.env.DOCKER_HOST !== undefined) {
    const { MariaDbContainer } = await import('@testcontainers/mariadb');
    const container = await new MariaDbContainer('mariadb:10.11').withRootPassword('test').start();
    stopContainer = async () => {
      await container.stop();
    };
    return {
      host: container.getHost(),
      port: container.getPort(),
      user: 'root',
      password: 'test',
      source: 'testcontainers',
    };
  }
  throw new Error(
    [
      `No MariaDB server for the tests (127.0.0.1:3306 as root: ${localProblem}).`,
      'Get one of:',
      '  - a local server: apt-get install mariadb-server && start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
      '  - any server: export SCHEMA_BACKUP_TEST_SERVER=mysql://root:PASSWORD@HOST:3306',
      '  - a Docker engine, for testcontainers to start mariadb:10.11',
    ].join('\n'),
  );
}

async function probe(address: ServerAddress): Promise<string | undefined> {
  try {
    const connection = await mysql.createConnection({
      host: address.host,
      port: address.port,
      user: address.user,
      password: address.password,
      connectTimeout: 3000,
    });
    await connection.end();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
