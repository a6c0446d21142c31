/**
 * The one check of every command's numeric options: a yargs `coerce` function that lets a
 * finite number within bounds through and throws a {@link UsageError} (exit 2) naming the
 * option for anything else. yargs itself turns `--threads abc` into NaN and takes `-1` or `0`
 * as given, so without it such values reached the workflows (issue 20).
 */
import { UsageError } from '../errors.js';

export interface NumberRule {
  /** The smallest value allowed. */
  readonly min: number;
  /** The largest value allowed; default none. */
  readonly max?: number | undefined;
  /** Only whole numbers (counts, connections); default false (seconds). */
  readonly whole?: boolean | undefined;
}

/**
 * A `coerce` for the option `flag` (as the user writes it, `--threads`): returns the value
 * unchanged (undefined when the option is absent and has no default). Throws UsageError for a
 * value that is not a number, not whole where `rule.whole`, out of `rule`'s bounds, or given
 * more than once (yargs then hands over an array).
 */
export function numberOption(
  flag: string,
  rule: NumberRule,
): (value: unknown) => number | undefined {
  const wanted =
    rule.max !== undefined
      ? `${rule.whole === true ? 'a whole number' : 'a number'} from ${String(rule.min)} to ${String(rule.max)}`
      : `${rule.whole === true ? 'a whole number' : 'a number'} of ${String(rule.min)} or more`;
  return (value: unknown): number | undefined => {
    if (value === undefined) return undefined;
    if (Array.isArray(value))
      throw new UsageError(`${flag} is given more than once`, { hint: `Give ${flag} once.` });
    const fits =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (rule.whole !== true || Number.isInteger(value)) &&
      value >= rule.min &&
      (rule.max === undefined || value <= rule.max);
    if (fits) return value;
    const given =
      typeof value === 'number' && !Number.isNaN(value)
        ? `, not ${String(value)}`
        : ' (what was given is not a number)';
    throw new UsageError(`${flag} must be ${wanted}${given}`);
  };
}
