import { z } from 'zod';
import { roles } from '../roles.ts';
import { id, newPassword, username } from './common.ts';

export const role = z.enum(roles);

export const createUserInput = z.object({
  username,
  role,
  /** Optional; when absent the server makes one up. Either way it must be changed at first sign-in. */
  temporaryPassword: newPassword.optional(),
});

export const changeRoleInput = z.object({ id, role });
