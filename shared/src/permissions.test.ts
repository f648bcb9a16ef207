import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Access,
  accessOf,
  type Caller,
  judge,
  may,
  type ProcedurePath,
  permissions,
  type Verdict,
} from './permissions.ts';
import { type Role, roleAtLeast, roles } from './roles.ts';

const accesses = ['public', 'signedIn', 'viewer', 'user', 'admin', 'operator'] as const satisfies readonly Access[];

const caller = (role: Role, { isOperator = false, mustChangePassword = false } = {}): Caller => ({
  role,
  isOperator,
  mustChangePassword,
});

/** What each kind of caller gets for public, signedIn, viewer, user, admin and operator, in that order. */
const expected: Array<[string, Caller | null, Verdict[]]> = [
  [
    'anonymous',
    null,
    ['allowed', 'unauthenticated', 'unauthenticated', 'unauthenticated', 'unauthenticated', 'unauthenticated'],
  ],
  ['viewer', caller('viewer'), ['allowed', 'allowed', 'allowed', 'forbidden', 'forbidden', 'forbidden']],
  ['user', caller('user'), ['allowed', 'allowed', 'allowed', 'allowed', 'forbidden', 'forbidden']],
  ['admin', caller('admin'), ['allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'forbidden']],
  [
    'operator viewer',
    caller('viewer', { isOperator: true }),
    ['allowed', 'allowed', 'allowed', 'forbidden', 'forbidden', 'allowed'],
  ],
  [
    'operator user',
    caller('user', { isOperator: true }),
    ['allowed', 'allowed', 'allowed', 'allowed', 'forbidden', 'allowed'],
  ],
  [
    'operator admin',
    caller('admin', { isOperator: true }),
    ['allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed'],
  ],
  ...roles.flatMap((role) =>
    [false, true].map((isOperator): [string, Caller, Verdict[]] => [
      `${isOperator ? 'operator ' : ''}${role} with a temporary password`,
      caller(role, { isOperator, mustChangePassword: true }),
      [
        'allowed',
        'allowed',
        'passwordChangeRequired',
        'passwordChangeRequired',
        'passwordChangeRequired',
        'passwordChangeRequired',
      ],
    ]),
  ),
];

describe('judge', () => {
  describe.each(expected)('for a caller who is %s', (_kind, who, verdicts) => {
    it.each(accesses.map((access, index) => [access, verdicts[index]] as const))(
      'answers %s access with %s',
      (access, verdict) => {
        expect(judge(access, who)).toBe(verdict);
      },
    );
  });

  it('covers every role with and without the operator flag and a temporary password', () => {
    expect(expected).toHaveLength(1 + 3 * 2 + 3 * 2);
    for (const row of expected) expect(row[2]).toHaveLength(accesses.length);
  });

  it('allows a role access exactly when the caller is signed in, has changed the password and ranks high enough (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...roles),
        fc.constantFrom(...roles),
        fc.boolean(),
        fc.boolean(),
        (needed, role, isOperator, mustChangePassword) => {
          const allowed = judge(needed, caller(role, { isOperator, mustChangePassword })) === 'allowed';
          expect(allowed).toBe(!mustChangePassword && roleAtLeast(role, needed));
        },
      ),
    );
  });
});

describe('roleAtLeast', () => {
  it('orders the roles viewer < user < admin', () => {
    expect(roleAtLeast('viewer', 'viewer')).toBe(true);
    expect(roleAtLeast('viewer', 'user')).toBe(false);
    expect(roleAtLeast('viewer', 'admin')).toBe(false);
    expect(roleAtLeast('user', 'viewer')).toBe(true);
    expect(roleAtLeast('user', 'user')).toBe(true);
    expect(roleAtLeast('user', 'admin')).toBe(false);
    expect(roleAtLeast('admin', 'viewer')).toBe(true);
    expect(roleAtLeast('admin', 'user')).toBe(true);
    expect(roleAtLeast('admin', 'admin')).toBe(true);
  });
});

describe('the permission table', () => {
  const paths = Object.keys(permissions) as ProcedurePath[];

  it('gives every procedure one of the known kinds of access', () => {
    for (const path of paths) expect(accesses).toContain(permissions[path]);
  });

  it('names every procedure area.verb', () => {
    for (const path of paths) expect(path).toMatch(/^[a-z]+\.[a-zA-Z]+$/);
  });

  it('leaves only sign-in open to anonymous callers', () => {
    expect(paths.filter((path) => permissions[path] === 'public')).toEqual(['auth.login']);
  });

  it('lets a person with a temporary password only sign out, see who they are and change it', () => {
    expect(paths.filter((path) => permissions[path] === 'signedIn').sort()).toEqual([
      'auth.changePassword',
      'auth.logout',
      'auth.me',
    ]);
  });

  it('keeps company management to operators and people, project, cycle and audit management to admins', () => {
    for (const path of paths.filter((p) => p.startsWith('companies.'))) expect(permissions[path]).toBe('operator');
    for (const path of paths.filter((p) => p.startsWith('users.') || p.startsWith('audit.'))) {
      expect(permissions[path]).toBe('admin');
    }
    for (const verb of ['create', 'update', 'archive', 'unarchive']) {
      expect(permissions[`projects.${verb}` as ProcedurePath]).toBe('admin');
    }
    for (const verb of ['create', 'update', 'close', 'reopen']) {
      expect(permissions[`cycles.${verb}` as ProcedurePath]).toBe('admin');
    }
  });

  it('lets viewers read projects and cycles', () => {
    for (const path of ['projects.list', 'projects.get', 'cycles.list', 'cycles.get'] as const) {
      expect(permissions[path]).toBe('viewer');
    }
  });
});

describe('accessOf', () => {
  it('gives the access of a procedure in the table', () => {
    expect(accessOf('auth.login')).toBe('public');
    expect(accessOf('users.create')).toBe('admin');
    expect(accessOf('companies.create')).toBe('operator');
  });

  it('gives undefined for a procedure missing from the table', () => {
    expect(accessOf('users.delete')).toBeUndefined();
    expect(accessOf('')).toBeUndefined();
    expect(accessOf('auth')).toBeUndefined();
    expect(accessOf('AUTH.LOGIN')).toBeUndefined();
  });
});

describe('may', () => {
  it('shows an anonymous visitor only the sign-in', () => {
    for (const path of Object.keys(permissions) as ProcedurePath[]) {
      expect(may(null, path)).toBe(path === 'auth.login');
    }
  });

  it('shows a viewer the readers but not the admin controls', () => {
    const viewer = caller('viewer');
    expect(may(viewer, 'projects.list')).toBe(true);
    expect(may(viewer, 'cycles.get')).toBe(true);
    expect(may(viewer, 'tokens.create')).toBe(true);
    expect(may(viewer, 'projects.create')).toBe(false);
    expect(may(viewer, 'users.list')).toBe(false);
  });

  it('shows an admin the management of their company but not the creation of companies', () => {
    const admin = caller('admin');
    expect(may(admin, 'users.create')).toBe(true);
    expect(may(admin, 'projects.archive')).toBe(true);
    expect(may(admin, 'audit.list')).toBe(true);
    expect(may(admin, 'companies.create')).toBe(false);
    expect(may(admin, 'companies.list')).toBe(false);
  });

  it('shows an operator the companies whatever their role', () => {
    expect(may(caller('viewer', { isOperator: true }), 'companies.create')).toBe(true);
    expect(may(caller('viewer', { isOperator: true }), 'users.create')).toBe(false);
  });

  it('shows a person with a temporary password only the password change, sign-out and who they are', () => {
    const admin = caller('admin', { isOperator: true, mustChangePassword: true });
    expect(may(admin, 'auth.changePassword')).toBe(true);
    expect(may(admin, 'auth.logout')).toBe(true);
    expect(may(admin, 'auth.me')).toBe(true);
    expect(may(admin, 'projects.list')).toBe(false);
    expect(may(admin, 'users.create')).toBe(false);
    expect(may(admin, 'companies.create')).toBe(false);
  });

  it('never shows a role-gated procedure to a caller below that role or with a temporary password (property)', () => {
    const paths = Object.keys(permissions) as ProcedurePath[];
    const someone = fc.option(
      fc.record({ role: fc.constantFrom(...roles), isOperator: fc.boolean(), mustChangePassword: fc.boolean() }),
    );
    fc.assert(
      fc.property(someone, fc.constantFrom(...paths), (who, path) => {
        const access: Access = permissions[path];
        if (!may(who, path)) return;
        if (access === 'public') return;
        expect(who).not.toBeNull();
        if (!who || access === 'signedIn') return;
        expect(who.mustChangePassword).toBe(false);
        if (access === 'operator') expect(who.isOperator).toBe(true);
        else expect(roleAtLeast(who.role, access)).toBe(true);
      }),
    );
  });
});
