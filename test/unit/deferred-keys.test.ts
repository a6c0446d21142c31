import { describe, expect, it } from 'vitest';
import { deferSecondaryKeys, referencedTables } from '../../src/engine/mariadb/deferred-keys.js';

const OPTIONS = ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci';

function table(...body: string[]): string {
  return ['CREATE TABLE `t` (', body.join(',\n'), OPTIONS].join('\n');
}

describe('deferSecondaryKeys', () => {
  it('moves KEY and UNIQUE KEY lines to one ALTER TABLE, in their order', () => {
    const result = deferSecondaryKeys(
      't',
      table(
        '  `id` int(11) NOT NULL',
        '  `a` varchar(20) DEFAULT NULL',
        '  `b` int(11) DEFAULT NULL',
        '  PRIMARY KEY (`id`)',
        '  UNIQUE KEY `a` (`a`(10),`b`)',
        "  KEY `b` (`b`) COMMENT 'by b'",
        '  CONSTRAINT `positive` CHECK (`b` > 0)',
      ),
    );
    expect(result).toEqual({
      create: table(
        '  `id` int(11) NOT NULL',
        '  `a` varchar(20) DEFAULT NULL',
        '  `b` int(11) DEFAULT NULL',
        '  PRIMARY KEY (`id`)',
        '  CONSTRAINT `positive` CHECK (`b` > 0)',
      ),
      addKeys: "ALTER TABLE `t` ADD UNIQUE KEY `a` (`a`(10),`b`), ADD KEY `b` (`b`) COMMENT 'by b'",
    });
  });

  it('keeps the comma right when the last line moves, and quotes the table name', () => {
    const result = deferSecondaryKeys(
      'odd`name',
      table('  `id` int(11) NOT NULL', '  PRIMARY KEY (`id`)', '  KEY `x``y` (`id`)'),
    );
    expect(result?.create).toBe(table('  `id` int(11) NOT NULL', '  PRIMARY KEY (`id`)'));
    expect(result?.addKeys).toBe('ALTER TABLE `odd``name` ADD KEY `x``y` (`id`)');
  });

  it('keeps the key the AUTO_INCREMENT column needs, FULLTEXT, SPATIAL and USING HASH keys', () => {
    const result = deferSecondaryKeys(
      't',
      table(
        '  `k` int(11) NOT NULL',
        '  `n` int(11) NOT NULL AUTO_INCREMENT',
        '  `txt` text DEFAULT NULL',
        '  `g` point NOT NULL',
        '  PRIMARY KEY (`k`)',
        '  KEY `n` (`n`,`k`)',
        '  UNIQUE KEY `txt` (`txt`) USING HASH',
        '  FULLTEXT KEY `ft` (`txt`)',
        '  SPATIAL KEY `g` (`g`)',
        '  KEY `k2` (`k`)',
      ),
    );
    expect(result?.addKeys).toBe('ALTER TABLE `t` ADD KEY `k2` (`k`)');
    expect(result?.create).toContain('  KEY `n` (`n`,`k`),');
    expect(result?.create).toContain('  UNIQUE KEY `txt` (`txt`) USING HASH,');
    expect(result?.create).toContain('  FULLTEXT KEY `ft` (`txt`),');
    expect(result?.create).toContain('  SPATIAL KEY `g` (`g`)\n)');
  });

  it('keeps a key that was created before one of its kind that stays, so the order holds', () => {
    const result = deferSecondaryKeys(
      't',
      table(
        '  `id` int(11) NOT NULL',
        '  `n` int(11) NOT NULL AUTO_INCREMENT',
        '  `g` point NOT NULL',
        '  PRIMARY KEY (`id`)',
        '  UNIQUE KEY `u` (`id`,`n`)',
        '  KEY `early` (`id`)',
        '  KEY `n` (`n`)',
        '  SPATIAL KEY `g` (`g`)',
        '  KEY `late` (`id`,`g`)',
      ),
    );
    expect(result?.addKeys).toBe(
      'ALTER TABLE `t` ADD UNIQUE KEY `u` (`id`,`n`), ADD KEY `late` (`id`,`g`)',
    );
  });

  it('moves nothing without a primary key, with a foreign key, or with nothing to move', () => {
    expect(
      deferSecondaryKeys('t', table('  `a` int(11) NOT NULL', '  UNIQUE KEY `a` (`a`)')),
    ).toBeUndefined();
    expect(
      deferSecondaryKeys(
        't',
        table(
          '  `id` int(11) NOT NULL',
          '  `p` int(11) DEFAULT NULL',
          '  PRIMARY KEY (`id`)',
          '  KEY `p` (`p`)',
          '  CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `parent` (`id`)',
        ),
      ),
    ).toBeUndefined();
    expect(
      deferSecondaryKeys('t', table('  `id` int(11) NOT NULL', '  PRIMARY KEY (`id`)')),
    ).toBeUndefined();
    expect(deferSecondaryKeys('t', 'CREATE TABLE `t` (`id` int PRIMARY KEY, KEY (`id`))')).toBe(
      undefined,
    );
  });

  it('keeps partitioning and table options after the body', () => {
    const create = [
      'CREATE TABLE `t` (',
      '  `id` int(11) NOT NULL,',
      '  `a` int(11) DEFAULT NULL,',
      '  PRIMARY KEY (`id`),',
      '  KEY `a` (`a`)',
      OPTIONS,
      ' PARTITION BY HASH (`id`)',
      'PARTITIONS 4',
    ].join('\n');
    expect(deferSecondaryKeys('t', create)?.create).toBe(
      [
        'CREATE TABLE `t` (',
        '  `id` int(11) NOT NULL,',
        '  `a` int(11) DEFAULT NULL,',
        '  PRIMARY KEY (`id`)',
        OPTIONS,
        ' PARTITION BY HASH (`id`)',
        'PARTITIONS 4',
      ].join('\n'),
    );
  });
});

describe('referencedTables', () => {
  it('names the parents of foreign keys, in this database or another', () => {
    const creates = [
      table(
        '  `id` int(11) NOT NULL',
        '  CONSTRAINT `a` FOREIGN KEY (`id`) REFERENCES `par``ent` (`id`) ON DELETE CASCADE',
        '  CONSTRAINT `b` FOREIGN KEY (`id`, `x`) REFERENCES `other_db`.`far` (`id`, `x`)',
      ),
    ];
    expect([...referencedTables(creates)].sort()).toEqual(['far', 'par`ent']);
  });
});
