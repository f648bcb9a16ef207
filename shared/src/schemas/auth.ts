import { z } from 'zod';
import { byId, newPassword, plainText } from './common.ts';

export const loginInput = z.object({
  username: z.string().trim().toLowerCase().min(1, 'is required').max(256),
  password: z.string().min(1, 'is required').max(1024),
});

export const changePasswordInput = z
  .object({ currentPassword: z.string().min(1, 'is required').max(1024), newPassword })
  .refine((input) => input.currentPassword !== input.newPassword, {
    message: 'must differ from the current password',
    path: ['newPassword'],
  });

export const revokeSessionInput = z.object({ id: z.string().min(1).max(64) });

export const createTokenInput = z.object({
  name: plainText(100),
});

export const revokeTokenInput = z.object({ id: z.string().min(1).max(64) });

export { byId };
