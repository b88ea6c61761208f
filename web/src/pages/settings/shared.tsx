import { Button, Group, Modal, Stack, Switch, Text, Title } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";
import { ApiError, api, ifMatch, noContent, unwrap, type Schemas } from "../../api/client";
import { Empty, QueryState } from "../../components/States";
import { FormCard, ProblemAlert } from "../../forms/parts";
import { formErrors } from "../../forms/useFormState";
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

/** A form in a dialog (changing a record a list shows); here, not in forms/, so that the first pages' forms
 * do without the Modal. */
export function FormDialog({
  title,
  onClose,
  onSubmit,
  children,
}: {
  title: string;
  onClose: () => void;
  onSubmit: (event: FormEvent) => void;
  children: ReactNode;
}) {
  return (
    <Modal closeButtonProps={{ "aria-label": "Close" }} opened onClose={onClose} title={title}>
      <form onSubmit={onSubmit} noValidate>
        <Stack>{children}</Stack>
      </form>
    </Modal>
  );
}

/** A settings form that changes a listed record in a dialog (`editing`, titled `title`), or makes a new one in a
 * card above the list (titled `newTitle`, named by `${id}-title`). */
export function EditOrNewForm({
  editing,
  id,
  title,
  newTitle,
  onClose,
  onSubmit,
  children,
}: {
  editing: boolean;
  id: string;
  title: string;
  newTitle: string;
  onClose: () => void;
  onSubmit: (event: FormEvent) => void;
  children: ReactNode;
}) {
  return editing ? (
    <FormDialog title={title} onClose={onClose} onSubmit={onSubmit}>
      {children}
    </FormDialog>
  ) : (
    <FormCard id={`${id}-title`} title={newTitle} level={3} onSubmit={onSubmit}>
      {children}
    </FormCard>
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

/** A settings list's table: its header cells and its rows. */
export function SettingsTable({ label, head, children }: { label: string; head: ReactNode; children: ReactNode }) {
  return (
    <TableBox>
      <table className="data-table" aria-label={label}>
        <thead>
          <tr>{head}</tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </TableBox>
  );
}

/** A settings page's list of records: its title and the admin's action beside it, what others may not
 * change, the "Show archived" switch where records can be archived, the query's loading and error states,
 * the empty text (`No archived …` for archived ones), then the list itself (`children`, shown once there are
 * records). */
export function ListSection({
  id,
  title,
  what,
  action,
  intro,
  top,
  archived,
  onArchivedChange,
  query,
  count,
  empty,
  bottom,
  children,
}: {
  /** Names the section's title: `${id}-title`. */
  id: string;
  title: string;
  /** The records' plural, as "Only an admin can change …" and "The … could not be loaded" say it. */
  what: string;
  /** Shown to admins only (a "New …" button). */
  action?: ReactNode;
  intro?: ReactNode;
  /** Between the admin-only note and the list (a form that adds one). */
  top?: ReactNode;
  archived?: boolean;
  onArchivedChange?: (checked: boolean) => void;
  query: { isPending: boolean; isError: boolean; isSuccess: boolean; error: Error | null; refetch: () => unknown };
  count: number;
  /** What an empty list of the active records says. */
  empty: string;
  /** After the list (Load more, a dialog). */
  bottom?: ReactNode;
  children: ReactNode;
}) {
  const admin = useIsAdmin();
  return (
    <Stack component="section" aria-labelledby={`${id}-title`}>
      <Group justify="space-between">
        <Title order={2} id={`${id}-title`}>
          {title}
        </Title>
        {admin && action}
      </Group>
      {intro}
      {admin === false && <AdminOnlyNote what={what} />}
      {top}
      {onArchivedChange && <ArchivedSwitch checked={archived ?? false} onChange={onArchivedChange} />}
      <QueryState query={query} what={what} />
      {query.isSuccess && count === 0 && <Empty>{archived ? `No archived ${what}.` : empty}</Empty>}
      {count > 0 && children}
      {bottom}
    </Stack>
  );
}

type Restorable = "event-sources" | "event-targets" | "pipelines" | "teams";
/** The settings collections whose records are archived (DELETE: for API keys a revoke, for users a
 * deactivation); each list reads them under a query key of the collection's name. */
type Collection = Restorable | "api-keys" | "users";

// Each path spelled out, as the API's types (and tests/unit/test_web_covers_the_api.py) know them.
function archiveCall(collection: Collection, recordId: string, version: number) {
  const options = { params: { path: { record_id: recordId } }, headers: ifMatch(version) };
  if (collection === "event-sources") return api.DELETE("/v1/event-sources/{record_id}", options);
  if (collection === "event-targets") return api.DELETE("/v1/event-targets/{record_id}", options);
  if (collection === "pipelines") return api.DELETE("/v1/pipelines/{record_id}", options);
  if (collection === "teams") return api.DELETE("/v1/teams/{record_id}", options);
  if (collection === "api-keys") return api.DELETE("/v1/api-keys/{record_id}", options);
  return api.DELETE("/v1/users/{record_id}", options);
}

function restoreCall(collection: Restorable, recordId: string) {
  const options = { params: { path: { record_id: recordId } } };
  if (collection === "event-sources") return unwrap(api.POST("/v1/event-sources/{record_id}/restore", options));
  if (collection === "event-targets") return unwrap(api.POST("/v1/event-targets/{record_id}/restore", options));
  if (collection === "pipelines") return unwrap(api.POST("/v1/pipelines/{record_id}/restore", options));
  return unwrap(api.POST("/v1/teams/{record_id}/restore", options));
}

/** Archives a record at the version its list showed (If-Match), or restores it, then reads the collection's
 * lists again; a refusal is thrown, for the ConfirmButton that asked to show in its dialog. API keys and users
 * have no restore (a key is revoked for good, a user is reactivated by PATCH). */
export function useArchiveRestore(collection: Collection) {
  const queryClient = useQueryClient();
  const reread = () => queryClient.invalidateQueries({ queryKey: [collection] });
  return {
    archive: async (record: { id: string; version: number }) => {
      await noContent(archiveCall(collection, record.id, record.version));
      await reread();
    },
    restore: async (record: { id: string }) => {
      if (collection === "api-keys" || collection === "users") throw new Error(`The API restores no ${collection}.`);
      await restoreCall(collection, record.id);
      await reread();
    },
  };
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
