const quoted = /["\\]/;
const quotedEverywhere = /["\\]/g;

/**
 * A PostgreSQL array literal (`{"a","b",NULL}`) of these values, sent as one text parameter and cast in SQL
 * (`::text[]`, `::bigint[]`). PostgreSQL reads such a literal about three times faster than the same values as
 * JSON (measured: 0.43 s instead of 1.3 s for the columns of 300,000 planned files), and building it here costs
 * less than the driver's escaping of an array parameter element by element. Text must hold no NUL, which
 * PostgreSQL's text cannot; numbers must be finite.
 */
export function arrayLiteral(values: ReadonlyArray<string | number | null>): string {
  const elements = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as string | number | null;
    if (value === null) elements[i] = 'NULL';
    else if (typeof value === 'number') elements[i] = String(value);
    else elements[i] = `"${quoted.test(value) ? value.replace(quotedEverywhere, '\\$&') : value}"`;
  }
  return `{${elements.join(',')}}`;
}
