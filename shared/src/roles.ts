/** Roles a person has inside their company, weakest first. Operator is a separate, instance-wide flag. */
export const roles = ['viewer', 'user', 'admin'] as const;
export type Role = (typeof roles)[number];

const rank: Record<Role, number> = { viewer: 0, user: 1, admin: 2 };

export function roleAtLeast(actual: Role, needed: Role): boolean {
  return rank[actual] >= rank[needed];
}
