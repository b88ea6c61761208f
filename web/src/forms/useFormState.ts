import { useState, type ChangeEvent, type FormEvent } from "react";
import { ApiError } from "../api/client";

const UNREACHABLE = "The CRM could not be reached. Try again.";

/** Whether a field error names one of the form's fields (`stages[2].name` is the `stages` field's). */
function namesAField(errors: Record<string, string>, fields: readonly string[]) {
  return Object.keys(errors).some((field) => fields.some((name) => field === name || field.startsWith(`${name}[`)));
}

/** An error as a form shows it: the field errors by field, and the problem to show above the buttons when no
 * field of the form names it. `fieldOf` maps an API field to the form's (e.g. `amount.decimal` to `amount`). */
export function formErrors(
  error: unknown,
  fields: readonly string[],
  fieldOf: (apiField: string) => string = (apiField) => apiField,
): { fields: Record<string, string>; problem: ApiError | null } {
  if (!(error instanceof ApiError)) return { fields: {}, problem: new ApiError(0, { detail: UNREACHABLE }) };
  const byField: Record<string, string> = {};
  for (const [field, message] of Object.entries(error.fieldErrors())) byField[fieldOf(field)] ??= message;
  return { fields: byField, problem: namesAField(byField, fields) ? null : error };
}

/** The API field's leading name: `contact_ids[0]`, `contact_ids.0` and `amount.decimal` are form fields. */
export function leadingField(apiField: string): string {
  return apiField.split(/[.[]/)[0] ?? apiField;
}

/** A 409 shown at its field: the record's own unique field (`own`, with `message`), or the unique custom
 * property (`custom.<name>`) whose value another record has; with what the link to that record says. */
export function takenValue(error: ApiError, own: string, message: string, one: string) {
  if (!error.problem.existing_id) return undefined;
  const named = Object.keys(error.fieldErrors())[0] ?? own;
  if (named.startsWith("custom.")) {
    return { field: named, message: `Another ${one} has this value.`, link: `Open the ${one} with this value` };
  }
  return { field: own, message, link: `Open the ${one} with this ${own}` };
}

/** The fields that hold text (an input's or select's value). */
type TextField<Values> = { [Field in keyof Values & string]: Values[Field] extends string ? Field : never }[keyof Values & string];

type Options = {
  fieldOf?: (apiField: string) => string;
  /** The field a 409 belongs next to (a unique value taken), with its message; none: it shows as a problem. */
  conflict?: (error: ApiError) => { field: string; message: string } | undefined;
};

/** A form's values, the API's field errors next to their fields and the problem no field names (a 412, a 409,
 * the CRM unreachable) above its buttons. */
export function useFormState<Values extends Record<string, unknown>>(
  initial: Values | (() => Values),
  fields: readonly string[],
  { fieldOf, conflict }: Options = {},
) {
  const [values, setValues] = useState<Values>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<ApiError | null>(null);
  // The last refusal as the API sent it, for what a form shows beside its fields (a link to the record a 409
  // names).
  const [refusal, setRefusal] = useState<ApiError | null>(null);

  /** A field changed: its errors (and those of its items, `field[2]`) go until the next save. */
  function change<Field extends keyof Values & string>(field: Field, value: Values[Field]) {
    setValues((current) => ({ ...current, [field]: value }));
    clearErrors((name) => name === field || name.startsWith(`${field}[`) || name.startsWith(`${field}.`));
  }

  function clearErrors(which: (field: string) => boolean) {
    setErrors((current) => Object.fromEntries(Object.entries(current).filter(([field]) => !which(field))));
  }

  /** A text field's or select's value, change and error, to spread on its input. */
  function field<Field extends TextField<Values>>(name: Field) {
    return {
      value: values[name] as string,
      onChange: (event: ChangeEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>) =>
        change(name, event.currentTarget.value as Values[Field]),
      error: errors[name],
    };
  }

  /** A save's error, shown: a mutation's onError. */
  function fail(error: unknown) {
    const shown = formErrors(error, fields, fieldOf);
    const taken = error instanceof ApiError && error.status === 409 ? conflict?.(error) : undefined;
    if (taken) {
      shown.fields[taken.field] ??= taken.message;
      shown.problem = null;
    }
    setErrors(shown.fields);
    setProblem(shown.problem);
    setRefusal(error instanceof ApiError ? error : null);
  }

  /** The form's submit handler: the problem shown goes while the save runs again. */
  function submit(save: () => void) {
    return (event: FormEvent) => {
      event.preventDefault();
      setProblem(null);
      setRefusal(null);
      save();
    };
  }

  /** After a 412, the current version: what the user changed since `opened` stays, every other field takes
   * the current value, so that saving again changes only what the user meant to. */
  function rebase(opened: Values, latest: Values) {
    setValues((typed) => {
      const merged = { ...latest };
      for (const field of Object.keys(typed) as (keyof Values)[]) if (typed[field] !== opened[field]) merged[field] = typed[field];
      return merged;
    });
    setProblem(null);
  }

  /** The form starts over from these values, with nothing shown against them. */
  function reset(next: Values) {
    setValues(next);
    setErrors({});
    setProblem(null);
  }

  return { values, setValues, errors, clearErrors, problem, refusal, change, field, fail, submit, rebase, reset };
}
