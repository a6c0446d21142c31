/** Benchmark settings from the environment, shared by every bench script. */

/** A positive integer from `$name`, or `fallback` when unset; anything else is an error. */
export function intEnv(name, fallback) {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new Error(`${name} must be a positive integer, not ${value}`);
  return number;
}

/** The git identity of the commits the benchmarks' snapshots make. */
export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@localhost',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@localhost',
};
