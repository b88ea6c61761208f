import { Alert, Button, Group, Paper, Stack, Title } from "@mantine/core";
import type { FormEvent, ReactNode } from "react";
import type { ApiError } from "../api/client";

const PROBLEM_TITLES: Record<number, string> = {
  403: "Not allowed",
  404: "Not found",
  409: "Conflict",
  412: "Changed by someone else",
  422: "Not valid",
};

/** The problem a form or action shows above its buttons (nothing without one). */
export function ProblemAlert({
  error,
  stale = "It changed since you opened it, so nothing was saved. Reload it and try again.",
  title,
  onReload,
  reloading = false,
}: {
  error: ApiError | null;
  /** What a 412 means here. */
  stale?: string;
  /** The title for any status but a 412; by default one by status. */
  title?: string;
  /** After a 412: loads the current version to save over. */
  onReload?: () => void;
  reloading?: boolean;
}) {
  if (!error) return null;
  const changed = error.status === 412;
  return (
    <Alert color="red" role="alert" title={changed ? PROBLEM_TITLES[412] : (title ?? PROBLEM_TITLES[error.status] ?? "Not saved")}>
      {changed ? stale : error.message}
      {changed && onReload && (
        <Button mt="sm" size="xs" variant="light" onClick={onReload} loading={reloading}>
          Load the current version
        </Button>
      )}
    </Alert>
  );
}

/** A form's submit and Cancel buttons: in a dialog Cancel comes first, at the right; in a card, the submit. */
export function FormButtons({
  submit,
  pending,
  onCancel,
  dialog = false,
}: {
  submit: string;
  pending: boolean;
  onCancel: () => void;
  dialog?: boolean;
}) {
  const save = (
    <Button type="submit" loading={pending}>
      {submit}
    </Button>
  );
  const cancel = (
    <Button variant="default" onClick={onCancel}>
      Cancel
    </Button>
  );
  return dialog ? (
    <Group justify="flex-end">
      {cancel}
      {save}
    </Group>
  ) : (
    <Group>
      {save}
      {cancel}
    </Group>
  );
}

/** A form in a card of its own, named by its title: a heading under the page's (2) or under a section's (3). */
export function FormCard({
  id,
  title,
  level = 2,
  onSubmit,
  children,
}: {
  /** The title's id, which names the card. */
  id: string;
  title: string;
  level?: 2 | 3;
  onSubmit: (event: FormEvent) => void;
  children: ReactNode;
}) {
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={id}>
      <form onSubmit={onSubmit} noValidate>
        <Stack>
          <Title order={level} size={level === 2 ? "h3" : "h4"} id={id}>
            {title}
          </Title>
          {children}
        </Stack>
      </form>
    </Paper>
  );
}
