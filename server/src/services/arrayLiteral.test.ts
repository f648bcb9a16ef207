import { sql, sqlRows } from '@data-uploader/drizzle';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.ts';
import { arrayLiteral } from './arrayLiteral.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

/** The array PostgreSQL reads from a literal, back as JSON (text and numbers as they are). */
async function read(literal: string, type: 'text' | 'bigint' | 'float8') {
  const [row] = await sqlRows<{ values: unknown[] }>(
    database.db,
    sql`select coalesce(array_to_json(${literal}::${sql.raw(type)}[]), '[]') as values`,
  );
  return row?.values;
}

describe('arrayLiteral', () => {
  it('reads back as the same strings, whatever they hold (quotes, backslashes, braces, commas, spaces, NULL as a word, any unicode)', async () => {
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 20 }).filter((value) => !value.includes('\0')),
      fc.string({ unit: fc.constantFrom('"', '\\', '{', '}', ',', ' ', 'N', 'U', 'L', "'", '\t'), maxLength: 12 }),
      fc.constantFrom('NULL', 'null', '', ' ', '""', '\\'),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(text, { nil: null }), { maxLength: 30 }), async (values) => {
        expect(await read(arrayLiteral(values), 'text')).toEqual(values);
      }),
      { numRuns: 300 },
    );
  });

  it('reads back as the same numbers, with nulls', async () => {
    const values = [0, 1, -7, 5 * 1024 ** 4, Number.MAX_SAFE_INTEGER, null];
    expect(await read(arrayLiteral(values), 'bigint')).toEqual(values);
    expect(await read(arrayLiteral([1.5, 1e21, -0.25]), 'float8')).toEqual([1.5, 1e21, -0.25]);
  });
});
