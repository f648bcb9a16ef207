import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { listAuditInput } from './audit.ts';
import { changePasswordInput, loginInput } from './auth.ts';
import { newPassword, page, plainText, username } from './common.ts';
import { companySlug, createCompanyInput } from './companies.ts';
import { createCycleInput, updateCycleInput } from './cycles.ts';
import { createProjectInput, endpoint, keyPrefix, listProjectsInput, updateProjectInput } from './projects.ts';
import { changeRoleInput, createUserInput } from './users.ts';

const someId = '7f1d6a52-3c1e-4b7a-9d0e-2f4c8b1a6e53';

/** The messages zod gives per field, as the server flattens them. */
function fieldErrors(schema: z.ZodType, input: unknown): Record<string, string[]> {
  const result = schema.safeParse(input);
  if (result.success) return {};
  const fields: Record<string, string[]> = {};
  for (const issue of result.error.issues) {
    const field = issue.path.join('.') || 'input';
    fields[field] = [...(fields[field] ?? []), issue.message];
  }
  return fields;
}

describe('username', () => {
  it.each([
    [' Alice ', 'alice'],
    ['ALICE@Example.COM', 'alice@example.com'],
    ['\tbob.smith\n', 'bob.smith'],
    ['Field_Tech-07', 'field_tech-07'],
  ])('normalises %j to %j', (raw, normalised) => {
    expect(username.parse(raw)).toBe(normalised);
  });

  it('accepts 3 to 64 characters after trimming', () => {
    expect(username.parse('abc')).toBe('abc');
    expect(username.parse(` ${'a'.repeat(64)} `)).toBe('a'.repeat(64));
    expect(username.safeParse('ab').success).toBe(false);
    expect(username.safeParse(' ab ').success).toBe(false);
    expect(username.safeParse('a'.repeat(65)).success).toBe(false);
  });

  it.each([
    ['.alice'],
    ['-alice'],
    ['_alice'],
    ['@alice'],
    ['al ice'],
    ['alice!'],
    ['alïce'],
    ['al/ice'],
    ['al\u0000ice'],
    [''],
  ])('refuses %j', (raw) => {
    expect(username.safeParse(raw).success).toBe(false);
  });

  it('gives the same username however it is cased or padded (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9._@-]{2,63}$/), fc.boolean(), (name, upper) => {
        const typed = ` ${upper ? name.toUpperCase() : name}  `;
        expect(username.parse(typed)).toBe(name);
      }),
    );
  });

  it('is normalised the same way at sign-in', () => {
    expect(loginInput.parse({ username: '  Alice ', password: 'x' })).toEqual({ username: 'alice', password: 'x' });
    expect(loginInput.safeParse({ username: '   ', password: 'x' }).success).toBe(false);
    expect(loginInput.safeParse({ username: 'alice', password: '' }).success).toBe(false);
  });
});

describe('newPassword', () => {
  it('refuses 11 characters and accepts 12', () => {
    expect(fieldErrors(newPassword, 'a'.repeat(11))).toEqual({ input: ['must be at least 12 characters'] });
    expect(newPassword.safeParse('a'.repeat(12)).success).toBe(true);
  });

  it('accepts 256 characters and refuses 257', () => {
    expect(newPassword.safeParse('a'.repeat(256)).success).toBe(true);
    expect(fieldErrors(newPassword, 'a'.repeat(257))).toEqual({ input: ['must be at most 256 characters'] });
  });

  it('keeps a passphrase exactly as typed, spaces and all', () => {
    expect(newPassword.parse('  correct horse battery staple  ')).toBe('  correct horse battery staple  ');
  });

  it('is what a new temporary password must satisfy', () => {
    expect(createUserInput.safeParse({ username: 'bob', role: 'user', temporaryPassword: 'short' }).success).toBe(
      false,
    );
    expect(createUserInput.parse({ username: 'Bob', role: 'user' })).toEqual({ username: 'bob', role: 'user' });
  });

  it('must differ from the current one when changed', () => {
    expect(
      fieldErrors(changePasswordInput, {
        currentPassword: 'long enough password',
        newPassword: 'long enough password',
      }),
    ).toEqual({ newPassword: ['must differ from the current password'] });
    expect(fieldErrors(changePasswordInput, { currentPassword: 'old', newPassword: 'too short' })).toHaveProperty(
      'newPassword',
    );
    expect(
      changePasswordInput.safeParse({ currentPassword: 'old', newPassword: 'a brand new passphrase' }).success,
    ).toBe(true);
  });
});

describe('plainText', () => {
  const name = plainText(10);

  it('trims and accepts visible text up to its bound', () => {
    expect(name.parse('  Acme  ')).toBe('Acme');
    expect(name.parse('Forêt 🎉')).toBe('Forêt 🎉');
    expect(name.parse('a'.repeat(10))).toBe('a'.repeat(10));
  });

  it('refuses empty, blank and too long text', () => {
    expect(fieldErrors(name, '')).toEqual({ input: ['must not be empty'] });
    expect(fieldErrors(name, '   ')).toEqual({ input: ['must not be empty'] });
    expect(fieldErrors(name, 'a'.repeat(11))).toEqual({ input: ['must be at most 10 characters'] });
  });

  it.each([['a\u0000b'], ['a\nb'], ['a\tb'], ['a\rb'], ['a\u001bb'], ['a\u007fb'], ['a\u0085b'], ['a\u009fb']])(
    'refuses the control character inside %j',
    (text) => {
      expect(fieldErrors(name, text)).toEqual({ input: ['must not contain control characters'] });
    },
  );

  it('refuses any text with a C0 or C1 control character inside (property)', () => {
    const control = fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f }));
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,4}$/), control, fc.stringMatching(/^[a-z]{1,4}$/), (a, code, b) => {
        expect(name.safeParse(`${a}${String.fromCharCode(code)}${b}`).success).toBe(false);
      }),
    );
  });

  it('refuses a value that is not a string', () => {
    for (const value of [42, null, undefined, {}, ['a'], true]) expect(name.safeParse(value).success).toBe(false);
  });
});

describe('project endpoint', () => {
  it.each([
    ['https://s3.eu-west-1.amazonaws.com'],
    ['http://localhost:9000'],
    ['http://127.0.0.1:9000/'],
    ['https://minio.example.org/s3'],
    ['HTTPS://S3.EXAMPLE.COM'],
  ])('accepts %j', (url) => {
    expect(endpoint.safeParse(url).success).toBe(true);
  });

  it.each([
    ['https://user:secret@s3.example.com'],
    ['https://AKIAEXAMPLE@s3.example.com'],
    ['https://user:@s3.example.com'],
    ['HTTP://user:secret@s3.example.com'],
    ['https:///user:secret@s3.example.com'],
    ['https:////user:secret@s3.example.com'],
    ['https://\\/user:secret@s3.example.com'],
  ])('refuses %j, which carries credentials', (url) => {
    expect(endpoint.safeParse(url).success).toBe(false);
  });

  it.each([
    ['https://s3.example.com?X-Amz-Credential=AKIA'],
    ['https://s3.example.com/?a=b'],
    ['https://s3.example.com/x?'],
    ['https://s3.example.com#top'],
  ])('refuses %j, which has a query or a fragment', (url) => {
    expect(fieldErrors(endpoint, url)).toEqual({ input: ['must not contain credentials, a query or a fragment'] });
  });

  it.each([['ftp://s3.example.com'], ['file:///etc/passwd'], ['javascript:alert(1)'], ['s3.example.com'], ['']])(
    'refuses %j, which is not an http(s) URL',
    (url) => {
      expect(endpoint.safeParse(url).success).toBe(false);
    },
  );

  it('refuses endpoints longer than 2048 characters', () => {
    expect(endpoint.safeParse(`https://s3.example.com/${'a'.repeat(2048)}`).success).toBe(false);
  });

  it('is optional and may be null on a project', () => {
    const base = { name: 'Birds', bucket: 'my-bucket' };
    expect(createProjectInput.parse(base)).toEqual({ ...base, region: 'us-east-1' });
    expect(createProjectInput.parse({ ...base, endpoint: null }).endpoint).toBeNull();
    expect(fieldErrors(createProjectInput, { ...base, endpoint: 'https://u:p@s3.example.com' })).toHaveProperty(
      'endpoint',
    );
  });
});

describe('project input', () => {
  const base = { name: 'Birds 2025', bucket: 'my-bucket.2025' };

  it('trims the bucket and key prefix before checking them', () => {
    expect(createProjectInput.parse({ ...base, bucket: ' my-bucket ', keyPrefix: ' campaigns/2025 ' })).toMatchObject({
      bucket: 'my-bucket',
      keyPrefix: 'campaigns/2025',
    });
  });

  it('names the field of each problem', () => {
    expect(Object.keys(fieldErrors(createProjectInput, { ...base, bucket: 'My_Bucket' }))).toEqual(['bucket']);
    expect(Object.keys(fieldErrors(createProjectInput, { ...base, region: 'EU WEST' }))).toEqual(['region']);
    expect(Object.keys(fieldErrors(createProjectInput, { ...base, keyPrefix: '../x' }))).toEqual(['keyPrefix']);
    expect(Object.keys(fieldErrors(createProjectInput, { ...base, keyPrefix: '/x' }))).toEqual(['keyPrefix']);
    expect(Object.keys(fieldErrors(createProjectInput, { ...base, name: 'a'.repeat(101) }))).toEqual(['name']);
    expect(Object.keys(fieldErrors(createProjectInput, { ...base, name: 'a\u0000b' }))).toEqual(['name']);
  });

  it('gives the S3 rule a bucket name breaks', () => {
    expect(fieldErrors(createProjectInput, { ...base, bucket: '192.168.5.4' })).toEqual({
      bucket: ['must not look like an IP address'],
    });
  });

  it('refuses a key prefix that keyPrefix refuses', () => {
    expect(keyPrefix.safeParse('a//b').success).toBe(false);
    expect(keyPrefix.safeParse('').success).toBe(false);
    expect(keyPrefix.parse('a/b')).toBe('a/b');
  });

  it('lets an update clear the endpoint and key prefix with null and refuses a bad id', () => {
    expect(updateProjectInput.parse({ id: someId, endpoint: null, keyPrefix: null })).toEqual({
      id: someId,
      endpoint: null,
      keyPrefix: null,
    });
    expect(Object.keys(fieldErrors(updateProjectInput, { id: 'not-a-uuid', name: 'x' }))).toEqual(['id']);
  });

  it('lists unarchived projects unless asked otherwise', () => {
    expect(listProjectsInput.parse(undefined)).toEqual({ includeArchived: false });
    expect(listProjectsInput.parse({})).toEqual({ includeArchived: false });
    expect(listProjectsInput.parse({ includeArchived: true })).toEqual({ includeArchived: true });
  });
});

describe('company input', () => {
  it('accepts slugs of 1 to 40 lowercase letters, digits and inner hyphens', () => {
    for (const slug of ['a', 'acme', 'acme-2', 'a1', 'a'.repeat(40)]) expect(companySlug.parse(slug)).toBe(slug);
  });

  it.each([['-acme'], ['acme-'], ['Acme'], ['ac me'], ['acme_co'], ['a'.repeat(41)], ['']])(
    'refuses the slug %j',
    (slug) => {
      expect(companySlug.safeParse(slug).success).toBe(false);
    },
  );

  it('normalises the first admin username', () => {
    expect(createCompanyInput.parse({ name: ' Acme ', adminUsername: ' Boss@Acme.COM ' })).toEqual({
      name: 'Acme',
      adminUsername: 'boss@acme.com',
    });
  });
});

describe('cycle, user, audit and paging input', () => {
  it('lets a cycle name be left out for the default and bounds the notes', () => {
    expect(createCycleInput.parse({ projectId: someId })).toEqual({ projectId: someId });
    expect(createCycleInput.parse({ projectId: someId, name: ' Spring ' }).name).toBe('Spring');
    expect(Object.keys(fieldErrors(createCycleInput, { projectId: someId, name: 'a'.repeat(65) }))).toEqual(['name']);
    expect(Object.keys(fieldErrors(createCycleInput, { projectId: someId, notes: 'a'.repeat(10_001) }))).toEqual([
      'notes',
    ]);
    expect(createCycleInput.parse({ projectId: someId, notes: 'line one\nline two' }).notes).toBe('line one\nline two');
    expect(Object.keys(fieldErrors(updateCycleInput, { id: someId, name: 'C\u00001' }))).toEqual(['name']);
  });

  it('accepts only the three roles', () => {
    expect(changeRoleInput.parse({ id: someId, role: 'viewer' }).role).toBe('viewer');
    expect(Object.keys(fieldErrors(changeRoleInput, { id: someId, role: 'operator' }))).toEqual(['role']);
    expect(Object.keys(fieldErrors(changeRoleInput, { id: someId, role: 'Admin' }))).toEqual(['role']);
  });

  it('defaults and bounds the audit and paging limits', () => {
    expect(listAuditInput.parse(undefined)).toEqual({ limit: 100 });
    expect(listAuditInput.safeParse({ limit: 501 }).success).toBe(false);
    expect(listAuditInput.safeParse({ limit: 0 }).success).toBe(false);
    expect(listAuditInput.safeParse({ beforeId: -1 }).success).toBe(false);
    expect(page.parse({})).toEqual({ limit: 100, offset: 0 });
    expect(page.safeParse({ offset: -1 }).success).toBe(false);
    expect(page.safeParse({ limit: 1.5 }).success).toBe(false);
  });
});
