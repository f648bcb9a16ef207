import { fieldError } from '../errors.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

/**
 * A form's error as a whole, unless it is only about fields the form shows its complaints beside (then
 * saying it twice would send the eye to the wrong place).
 */
export function FormError(props: { error: unknown; fields: readonly string[] }) {
  const shownBesideFields = () => props.fields.some((field) => fieldError(props.error, field));
  return <ErrorMessage error={shownBesideFields() ? undefined : props.error} />;
}
