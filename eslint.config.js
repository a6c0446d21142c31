// Lint: typescript-eslint strict type-checked rules, plus the import directions of
// STYLE.md §2 (the engine knows nothing of git, age, YAML or the CLI; workflows never
// reach up into the CLI).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ['error', { patterns }];

// SQL text belongs to the engine (src/engine/<kind>/, behind engine.ts): a workflow that
// wrote or parsed it would tie every engine to MariaDB's syntax (#15).
const SQL_KEYWORDS =
  '\\b(?:SELECT|INSERT INTO|CREATE (?:TABLE|DATABASE)|DROP (?:TABLE|DATABASE)|ALTER TABLE|SET (?:NAMES|sql_mode|foreign_key)|START TRANSACTION|USE |SHOW CREATE)';
const SQL_TEXT_MESSAGE =
  'SQL text lives under src/engine/: ask the engine (engine.dialect, engine.script) for it.';
const noSqlText = [
  'error',
  { selector: `Literal[value=/${SQL_KEYWORDS}/]`, message: SQL_TEXT_MESSAGE },
  { selector: `TemplateElement[value.raw=/${SQL_KEYWORDS}/]`, message: SQL_TEXT_MESSAGE },
  {
    // A regular expression over backtick-quoted identifiers parses MariaDB's SQL.
    selector: 'Literal[regex.pattern=/`/]',
    message: "Parsing quoted identifiers is the engine's job: ask engine.script.",
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'demo-run/', 'bench/results/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', 'bench/*.mjs', 'bench/lib/*.mjs', 'scripts/*.mjs'],
          // The plain-JS scripts (benchmarks, demo, this file) outside tsconfig: more than
          // typescript-eslint's default of 8, and few enough to lint quickly.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 20,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      eqeqeq: ['error', 'always'],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unnecessary-condition': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: false }],
    },
  },
  {
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        {
          group: [
            '**/config/**',
            '**/cli/**',
            '**/git/**',
            '**/crypto/**',
            '**/snapshot/**',
            '**/restore/**',
            '**/diff/**',
            '**/services/**',
            '**/upgrade/**',
            '**/ops/**',
            '**/dump/**',
            'simple-git',
            'js-yaml',
            'yargs',
            'age-encryption',
          ],
          message: 'The engine knows nothing of config, git, age, YAML or the CLI.',
        },
      ]),
    },
  },
  {
    files: ['src/config/**/*.ts', 'src/git/**/*.ts', 'src/support/**/*.ts', 'src/crypto/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        {
          group: [
            '**/cli/**',
            '**/engine/**',
            '**/snapshot/**',
            '**/restore/**',
            '**/diff/**',
            '**/services/**',
            '**/upgrade/**',
            '**/ops/**',
            '**/dump/**',
            'mysql2',
            'mysql2/*',
          ],
          message: 'Lower layers import only support/ and errors.ts.',
        },
      ]),
    },
  },
  {
    files: [
      'src/snapshot/**/*.ts',
      'src/restore/**/*.ts',
      'src/diff/**/*.ts',
      'src/services/**/*.ts',
      'src/upgrade/**/*.ts',
      'src/ops/**/*.ts',
      'src/dump/**/*.ts',
      'src/offsite/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': restrict([
        {
          group: ['**/cli/**', 'mysql2', 'mysql2/*', 'yargs'],
          message: 'Workflows never reach into the CLI or the driver.',
        },
      ]),
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/engine/**'],
    rules: { 'no-restricted-syntax': noSqlText },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: globals.node },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
