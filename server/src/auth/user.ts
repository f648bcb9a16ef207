import { schema } from '@data-uploader/drizzle';

const { users } = schema;

/** The columns that describe who is calling; never the password hash. */
export const currentUserColumns = {
  id: users.id,
  companyId: users.companyId,
  username: users.username,
  role: users.role,
  isOperator: users.isOperator,
  mustChangePassword: users.mustChangePassword,
};

export interface CurrentUser {
  id: string;
  companyId: string;
  username: string;
  role: 'viewer' | 'user' | 'admin';
  isOperator: boolean;
  mustChangePassword: boolean;
}
