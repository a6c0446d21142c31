// `npm run demo`: a first snapshot out of the box. Creates the database `schema_backup_demo`
// on the local server with a table in every category, snapshots it into a fresh git
// repository under ./demo-run/, changes a row, snapshots again, and shows the result.
// Server: the local socket or 127.0.0.1:3306 as the option files say; override with
// SCHEMA_BACKUP_DEMO_HOST, SCHEMA_BACKUP_DEMO_USER and SCHEMA_BACKUP_DB_PASSWORD.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mysql from 'mysql2/promise';

const root = resolve(import.meta.dirname, '..');
const runDir = join(root, 'demo-run');
const cli = join(root, 'dist/cli/main.js');
const database = 'schema_backup_demo';
const host = process.env.SCHEMA_BACKUP_DEMO_HOST;
const user = process.env.SCHEMA_BACKUP_DEMO_USER ?? 'root';
const password = process.env.SCHEMA_BACKUP_DB_PASSWORD ?? '';

const SETUP = [
  `DROP DATABASE IF EXISTS ${database}`,
  `CREATE DATABASE ${database} CHARACTER SET utf8mb4`,
  `USE ${database}`,
  `CREATE TABLE settings (name VARCHAR(64) PRIMARY KEY, value VARCHAR(255) NOT NULL, updated_by VARCHAR(32))`,
  `INSERT INTO settings VALUES ('log_level', 'info', NULL), ('poll_interval', '30', 'ops'), ('motd', 'It''s a "quoted" line\\nwith a newline', NULL)`,
  `CREATE TABLE countries (code CHAR(2) PRIMARY KEY, name VARCHAR(64) NOT NULL, flag VARCHAR(8))`,
  `INSERT INTO countries VALUES ('ca', 'Canada', '🇨🇦'), ('ch', 'Switzerland', '🇨🇭'), ('jp', '日本', '🇯🇵')`,
  `CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, login VARCHAR(32) UNIQUE NOT NULL, password_hash VARBINARY(64))`,
  `INSERT INTO users (login, password_hash) VALUES ('alice', UNHEX(SHA2('secret', 256))), ('bob', NULL)`,
  `CREATE TABLE sessions (id CHAR(32) PRIMARY KEY, user_id INT, expires DATETIME)`,
  `INSERT INTO sessions VALUES (MD5(RAND()), 1, NOW())`,
  `CREATE TABLE scratch (x INT)`,
  `CREATE TABLE audit_log (id BIGINT AUTO_INCREMENT PRIMARY KEY, what TEXT, at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)`,
  `CREATE TRIGGER settings_audit AFTER UPDATE ON settings FOR EACH ROW INSERT INTO audit_log (what) VALUES (CONCAT('setting ', NEW.name, ' changed'))`,
  `CREATE VIEW active_settings AS SELECT name, value FROM settings WHERE value <> ''`,
];

async function connect() {
  const attempts =
    host !== undefined
      ? [{ host }]
      : [{ socketPath: '/run/mysqld/mysqld.sock' }, { host: '127.0.0.1', port: 3306 }];
  let lastError;
  for (const attempt of attempts) {
    try {
      return await mysql.createConnection({
        ...attempt,
        user,
        password,
        multipleStatements: false,
      });
    } catch (error) {
      lastError = error;
    }
  }
  console.error(
    `The demo needs a MariaDB or MySQL server it can reach as ${user} (${lastError?.message}).`,
  );
  console.error('Install and start one, e.g. on Debian:');
  console.error(
    '  apt-get install mariadb-server && start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
  );
  console.error(
    'or point the demo at yours: SCHEMA_BACKUP_DEMO_HOST=... SCHEMA_BACKUP_DEMO_USER=... SCHEMA_BACKUP_DB_PASSWORD=... npm run demo',
  );
  process.exit(1);
}

function run(args) {
  console.log(`\n$ schema_backup ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: runDir });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function show(command, args) {
  console.log(`\n$ ${command} ${args.join(' ')}`);
  console.log(execFileSync(command, args, { cwd: runDir, encoding: 'utf8' }).trimEnd());
}

const connection = await connect();
for (const statement of SETUP) await connection.query(statement);

rmSync(runDir, { recursive: true, force: true });
mkdirSync(join(runDir, 'etc'), { recursive: true });
const example = readFileSync(join(root, 'etc/schema_backup.conf'), 'utf8');
const connectionLines = [host === undefined ? '' : `  host: ${host}`, `  user: ${user}`]
  .filter(Boolean)
  .join('\n');
// A key pair for the rows of local tables: the snapshot needs only the public key.
const recipient = execFileSync(process.execPath, [cli, 'keygen', '-o', join(runDir, 'key.txt')], {
  encoding: 'utf8',
}).trim();
const config = example
  // The example refuses to run (example: true); this copy is the demo's own config.
  .replace(/^example: true\n/m, '')
  .replace(
    '  name: schema_backup_demo # the database to snapshot',
    `  name: ${database}\n${connectionLines}`,
  )
  .replace(
    '# user_data_backup_dir: /var/local/schema_backup/user_data',
    'user_data_backup_dir: ../user_data',
  )
  .replace(/ {2}recipients: \[\].*/, `  recipients: [${recipient}]\n  identity_file: ../key.txt`);
writeFileSync(join(runDir, 'etc/schema_backup.conf'), config);

console.log(
  `Demo database ${database} created; config in demo-run/etc/schema_backup.conf (a copy of etc/schema_backup.conf).`,
);
run(['check']);
run([]);
await connection.query(`UPDATE ${database}.settings SET value = 'debug' WHERE name = 'log_level'`);
await connection.query(`ALTER TABLE ${database}.countries ADD COLUMN population BIGINT UNSIGNED`);
console.log('\nChanged a setting and added a column; snapshotting again:');
run([]);
run([]);
await connection.end();
show('git', ['-C', 'schema_backup', 'log', '--stat', '--format=%n%h %s%n%b']);
show('cat', [
  `schema_backup/${
    execFileSync('ls', [join(runDir, 'schema_backup')], { encoding: 'utf8' })
      .trim()
      .split('\n')[0]
  }/settings.sql`,
]);
show('ls', ['-lR', 'user_data']);
console.log(
  '\nThe rows of the local table `users`, decrypted with the identity (`age -d -i key.txt FILE | zstd -d` does the same):',
);
run(['decrypt', '--table', 'users']);
console.log(
  `\nEverything is in ${runDir}. Drop the demo database with: mariadb -e 'DROP DATABASE ${database}'`,
);
