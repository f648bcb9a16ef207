const quoted = /["\\]/;
const quotedEverywhere = /["\\]/g;

const element = (value: string | number | null) => {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  return `"${quoted.test(value) ? value.replace(quotedEverywhere, '\\$&') : value}"`;
};

/**
 * A PostgreSQL array literal (`{"a","b",NULL}`) of these values, sent as one text parameter and cast in SQL
 * (`::text[]`, `::bigint[]`). PostgreSQL reads such a literal about three times faster than the same values as
 * JSON (measured: 0.43 s instead of 1.3 s for the columns of 300,000 planned files), and building it here costs
 * less than the driver's escaping of an array parameter element by element. Text must hold no NUL, which
 * PostgreSQL's text cannot; numbers must be finite.
 */
export function arrayLiteral(values: ReadonlyArray<string | number | null>): string {
  // The common columns (all numbers, or all strings without a quote or backslash) are joined natively: escaping
  // element by element was a tenth of a 300k-file plan's JavaScript.
  if (values.every((value) => typeof value === 'number')) return `{${values.join(',')}}`;
  if (values.every((value) => typeof value === 'string') && !quoted.test(values.join(''))) {
    return values.length === 0 ? '{}' : `{"${values.join('","')}"}`;
  }
  return `{${values.map(element).join(',')}}`;
}
