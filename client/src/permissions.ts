import { may, type ProcedurePath } from '@data-uploader/shared';
import { me } from './me.ts';

/** Whether the signed-in person may call a procedure; controls they may not use are not shown at all. */
export function allowed(path: ProcedurePath): boolean {
  const person = me();
  return person ? may(person, path) : false;
}
