import { type Role, roleAtLeast } from './roles.ts';

/**
 * Who may call a procedure:
 * - `public`: anyone, signed in or not;
 * - `signedIn`: any signed-in person, even one who still has to change a temporary password;
 * - a role: a signed-in person of at least that role in their company, password already changed;
 * - `operator`: the instance operator flag.
 */
export type Access = 'public' | 'signedIn' | Role | 'operator';

/**
 * The permission table: every procedure of the API, by its `area.verb` path. The server refuses any
 * procedure missing from it, and the web app hides controls with the same table.
 */
export const permissions = {
  'auth.login': 'public',
  'auth.logout': 'signedIn',
  'auth.me': 'signedIn',
  'auth.changePassword': 'signedIn',
  'auth.sessions': 'viewer',
  'auth.revokeSession': 'viewer',
  'tokens.list': 'viewer',
  'tokens.create': 'viewer',
  'tokens.revoke': 'viewer',
  'companies.list': 'operator',
  'companies.create': 'operator',
  'users.list': 'admin',
  'users.create': 'admin',
  'users.changeRole': 'admin',
  'users.disable': 'admin',
  'users.enable': 'admin',
  'users.resetPassword': 'admin',
  'projects.list': 'viewer',
  'projects.get': 'viewer',
  'projects.create': 'admin',
  'projects.update': 'admin',
  'projects.archive': 'admin',
  'projects.unarchive': 'admin',
  'projects.setWebhook': 'admin',
  'cycles.list': 'viewer',
  'cycles.get': 'viewer',
  'cycles.totals': 'viewer',
  // Reads the ledger and lists the bucket, changing nothing: whoever may see the cycle may check it.
  'cycles.verify': 'viewer',
  'cycles.create': 'admin',
  'cycles.update': 'admin',
  'cycles.close': 'admin',
  'cycles.reopen': 'admin',
  'audit.list': 'admin',
  'uploads.begin': 'user',
  'uploads.plan': 'user',
  'uploads.sign': 'user',
  'uploads.signBatch': 'user',
  'uploads.confirm': 'user',
  'uploads.fail': 'user',
  'uploads.finish': 'user',
  'uploads.abort': 'user',
  'sessions.list': 'viewer',
  'sessions.get': 'viewer',
  'sessions.files': 'viewer',
  'jobs.startImport': 'admin',
  'jobs.list': 'admin',
  'jobs.cancel': 'admin',
  'stats.projectCycles': 'viewer',
  'stats.sessionThroughput': 'viewer',
  'stats.successRate': 'viewer',
  'stats.fileTypes': 'viewer',
  'stats.coverage': 'viewer',
} as const satisfies Record<string, Access>;

export type ProcedurePath = keyof typeof permissions;

export interface Caller {
  role: Role;
  isOperator: boolean;
  mustChangePassword: boolean;
}

export type Verdict = 'allowed' | 'unauthenticated' | 'passwordChangeRequired' | 'forbidden';

/** Decides one call; `caller` is null for an anonymous request. */
export function judge(access: Access, caller: Caller | null): Verdict {
  if (access === 'public') return 'allowed';
  if (!caller) return 'unauthenticated';
  if (access === 'signedIn') return 'allowed';
  if (caller.mustChangePassword) return 'passwordChangeRequired';
  if (access === 'operator') return caller.isOperator ? 'allowed' : 'forbidden';
  return roleAtLeast(caller.role, access) ? 'allowed' : 'forbidden';
}

export function accessOf(path: string): Access | undefined {
  return Object.hasOwn(permissions, path) ? (permissions as Record<string, Access>)[path] : undefined;
}

/** What the web app asks before it shows a control. */
export function may(caller: Caller | null, path: ProcedurePath): boolean {
  return judge(permissions[path], caller) === 'allowed';
}
