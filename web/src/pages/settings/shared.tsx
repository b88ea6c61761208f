import { Alert, Button, Group, Modal, Stack, Switch, Text } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { ApiError, api, unwrap, type Schemas } from "../../api/client";
import { useMe } from "../../Shell";

export type Role = "admin" | "manager" | "rep" | "viewer";
export const ROLES: Role[] = ["admin", "manager", "rep", "viewer"];
export const ROLE_MEANINGS: Record<Role, string> = {
  admin: "admin: changes everything and manages the settings",
  manager: "manager: changes what its team owns",
  rep: "rep: changes what it owns",
  viewer: "viewer: only reads",
};

/** Whether the caller may change settings: true, false, or undefined while /v1/me loads. The API decides
 * anyway; this only keeps actions it would refuse out of the way. */
export function useIsAdmin(): boolean | undefined {
  const me = useMe();
  return me.data ? me.data.role === "admin" : undefined;
}

/** The tenant's users (one request, cached: the key and request are owners.ts's, so they share it). */
export function useUsers() {
  return useQuery({
    queryKey: ["users"],
    queryFn: () => unwrap(api.GET("/v1/users", { params: { query: { limit: 100 } } })),
    staleTime: 5 * 60_000,
  });
}

export function useTeams() {
  return useQuery({
    queryKey: ["teams"],
    queryFn: () => unwrap(api.GET("/v1/teams", { params: { query: { limit: 100, sort: "name" } } })),
  });
}

export function userLabel(user: Pick<Schemas["User"], "name" | "email">) {
  return user.name ?? user.email ?? "(no name)";
}

/** A user's name by id from the cached directory ("Unknown user" for one not in it, e.g. on a later page). */
export function useUserName() {
  const users = useUsers();
  return (userId: string | null | undefined) => {
    if (!userId) return "—";
    const user = users.data?.items.find((item) => item.id === userId);
    return user ? userLabel(user) : "Unknown user";
  };
}

export function AdminOnlyNote({ what }: { what: string }) {
  return (
    <Text size="sm" c="dimmed">
      Only an admin can change {what}; you can look.
    </Text>
  );
}

/** An error as a form shows it: the field errors by field, and the problem to show above the buttons when no
 * field of the form names it. */
export function formErrors(error: unknown, fields: readonly string[]): { fields: Record<string, string>; problem: ApiError | null } {
  if (!(error instanceof ApiError)) {
    return { fields: {}, problem: new ApiError(0, { detail: "The CRM could not be reached. Try again." }) };
  }
  const byField = error.fieldErrors();
  const shown = Object.keys(byField).some((field) => fields.some((name) => field === name || field.startsWith(`${name}[`)));
  return { fields: byField, problem: shown ? null : error };
}

const PROBLEM_TITLES: Record<number, string> = {
  403: "Not allowed",
  404: "Not found",
  409: "Conflict",
  412: "Changed by someone else",
  422: "Not valid",
};

export function ProblemAlert({
  error,
  action,
  stale = "It changed since you opened it, so nothing was saved. Reload it and try again.",
}: {
  error: ApiError | null;
  action?: ReactNode;
  /** What a 412 means here. */
  stale?: string;
}) {
  if (!error) return null;
  return (
    <Alert color="red" role="alert" title={PROBLEM_TITLES[error.status] ?? "Not saved"}>
      {error.status === 412 ? stale : error.message}
      {action}
    </Alert>
  );
}

/** A button that asks before it does something hard to undo; the API's refusal shows in the dialog. */
export function ConfirmButton({
  label,
  name,
  title,
  children,
  confirmLabel,
  onConfirm,
  color = "red",
  size = "xs",
}: {
  label: string;
  /** The button's accessible name when its label alone does not say which record (a row's action). */
  name?: string;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  color?: string;
  size?: string;
}) {
  const queryClient = useQueryClient();
  const [opened, setOpened] = useState(false);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  async function confirm() {
    setPending(true);
    setError(null);
    try {
      await onConfirm();
      setOpened(false);
    } catch (caught) {
      setError(formErrors(caught, []).problem);
      // The record changed since the list was read: read it again, so that confirming again acts on the
      // current version (this button's onConfirm comes with the reloaded row).
      if (caught instanceof ApiError && caught.status === 412) await queryClient.invalidateQueries();
    } finally {
      setPending(false);
    }
  }

  return (
    <>
      <Button size={size} variant="light" color={color} onClick={() => setOpened(true)} aria-label={name}>
        {label}
      </Button>
      <Modal closeButtonProps={{ "aria-label": "Close" }} opened={opened} onClose={() => setOpened(false)} title={title}>
        <Stack>
          <Text size="sm">{children}</Text>
          <ProblemAlert
            error={error}
            stale="It changed since the list was read, so nothing was done. The list is read again: confirm again to go on."
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpened(false)} data-autofocus>
              Cancel
            </Button>
            <Button color={color} loading={pending} onClick={confirm}>
              {confirmLabel}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

/** The "Show archived" switch of a list: the API lists archived records alone (`archived=true`), restorable for
 * 30 days. */
export function ArchivedSwitch({ checked, onChange }: { checked: boolean; onChange: (checked: boolean) => void }) {
  return (
    <Switch
      label="Show archived"
      description={checked ? "Archived ones only, restorable for 30 days." : undefined}
      checked={checked}
      onChange={(event) => onChange(event.currentTarget.checked)}
    />
  );
}

/** A table that scrolls inside its own box at narrow widths, so the page never scrolls sideways. */
export function TableBox({ children }: { children: ReactNode }) {
  return <div className="table-box">{children}</div>;
}

/** The end of an RFC 3339 day in the user's time zone, from a date input's YYYY-MM-DD. */
export function endOfLocalDay(date: string): string {
  // A date-time without an offset is read in the user's own time zone.
  return new Date(`${date}T23:59:59.999`).toISOString();
}

/** The start of a local day (a date input's YYYY-MM-DD) as RFC 3339. */
export function startOfLocalDay(date: string): string {
  return new Date(`${date}T00:00:00`).toISOString();
}
