/** Parsing CREATE TABLE statements and comparing two versions of a table. */
import { describe, expect, it } from 'vitest';
import { compareStructures, isStructureUnchanged } from '../../src/diff/compare-tables.js';
import { parseCreateTable } from '../../src/engine/mariadb/parse-create-table.js';

const BEFORE = `-- schema_backup: table \`fk1\`, category global
SET NAMES utf8mb4;

CREATE TABLE \`fk1\` (
  \`id\` int(11) NOT NULL,
  \`a\` varchar(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci NOT NULL DEFAULT 'x',
  \`b\` int(11) DEFAULT NULL,
  \`old name\` date DEFAULT NULL,
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`ub\` (\`b\`),
  KEY \`kab\` (\`a\`,\`b\`),
  CONSTRAINT \`fkp\` FOREIGN KEY (\`b\`) REFERENCES \`other\` (\`id\`) ON DELETE CASCADE,
  CONSTRAINT \`chk\` CHECK (\`b\` > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='c';

INSERT INTO \`fk1\` (\`id\`,\`a\`,\`b\`,\`old name\`) VALUES (1,'x',1,NULL);
`;

const AFTER = BEFORE.replace(
  "`a` varchar(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci NOT NULL DEFAULT 'x'",
  '`a` varchar(20) DEFAULT NULL',
)
  .replace(
    '`old name` date DEFAULT NULL',
    '`new name` date DEFAULT NULL,\n  `extra` text DEFAULT NULL',
  )
  .replace('  KEY `kab` (`a`,`b`),\n', '  KEY `kb` (`b`),\n')
  .replace("COMMENT='c'", "COMMENT='d'");

describe('parseCreateTable', () => {
  it('reads columns, keys, constraints, options and the row key', () => {
    const table = parseCreateTable(BEFORE);
    expect(table?.name).toBe('fk1');
    expect(table?.columns.map((column) => column.name)).toEqual(['id', 'a', 'b', 'old name']);
    expect(table?.columns[1]).toMatchObject({
      type: 'varchar(10)',
      nullable: false,
      default: "'x'",
      charset: 'CHARACTER SET latin1 COLLATE latin1_swedish_ci',
    });
    expect([...(table?.indexes.keys() ?? [])]).toEqual(['PRIMARY', 'ub', 'kab']);
    expect([...(table?.foreignKeys.keys() ?? [])]).toEqual(['fkp']);
    expect([...(table?.checks.keys() ?? [])]).toEqual(['chk']);
    expect(table?.options).toBe(
      "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='c'",
    );
    expect(table?.rowKey).toEqual(['id']);
  });

  it('uses the first unique key when there is no primary key, and gives undefined for other SQL', () => {
    expect(
      parseCreateTable(
        'CREATE TABLE `t` (\n  `a` int(11) NOT NULL,\n  UNIQUE KEY `u` (`a`)\n) ENGINE=InnoDB',
      )?.rowKey,
    ).toEqual(['a']);
    expect(parseCreateTable('CREATE VIEW `v` AS select 1')).toBeUndefined();
  });
});

describe('compareStructures', () => {
  it('names added, removed and changed columns, keys, options, and hints at renames', () => {
    const before = parseCreateTable(BEFORE);
    const after = parseCreateTable(AFTER);
    if (before === undefined || after === undefined) throw new Error('parse failed');
    const change = compareStructures(before, after);
    expect(change.columnsAdded.map((column) => column.name)).toEqual(['new name', 'extra']);
    expect(change.columnsRemoved.map((column) => column.name)).toEqual(['old name']);
    expect(change.columnsChanged).toEqual([
      {
        name: 'a',
        from: "varchar(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci NOT NULL DEFAULT 'x'",
        to: 'varchar(20) DEFAULT NULL',
        aspects: ['type', 'nullability', 'default', 'charset'],
      },
    ]);
    expect(
      change.indexes.map(
        (index) =>
          `${index.name}:${index.from === undefined ? 'added' : index.to === undefined ? 'removed' : 'changed'}`,
      ),
    ).toEqual(['kb:added', 'kab:removed']);
    expect(change.options).toEqual({
      from: expect.stringContaining("COMMENT='c'") as string,
      to: expect.stringContaining("COMMENT='d'") as string,
    });
    expect(change.renameHints).toEqual([{ from: 'old name', to: 'new name' }]);
    expect(change.columnsReordered).toBe(false);
    expect(isStructureUnchanged(change)).toBe(false);
    expect(isStructureUnchanged(compareStructures(before, before))).toBe(true);
  });

  it('sees a reorder of the same columns', () => {
    const before = parseCreateTable(
      'CREATE TABLE `t` (\n  `a` int(11),\n  `b` int(11)\n) ENGINE=InnoDB',
    );
    const after = parseCreateTable(
      'CREATE TABLE `t` (\n  `b` int(11),\n  `a` int(11)\n) ENGINE=InnoDB',
    );
    if (before === undefined || after === undefined) throw new Error('parse failed');
    expect(compareStructures(before, after).columnsReordered).toBe(true);
  });
});
