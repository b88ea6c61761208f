import { Alert, Anchor, Badge, Button, Group, NativeSelect, SimpleGrid, Text, TextInput } from "@mantine/core";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, ifMatch, unwrap, type Schemas } from "../../api/client";
import { FormButtons, FormCard, ProblemAlert } from "../../forms/parts";
import { useFormState } from "../../forms/useFormState";
import { useMe } from "../../Shell";
import {
  ConfirmButton,
  FormDialog,
  ListSection,
  ROLES,
  ROLE_MEANINGS,
  SettingsTable,
  useArchiveRestore,
  useIsAdmin,
  useTeams,
  userLabel,
  type Role,
} from "./shared";

type User = Schemas["User"];

const roleOptions = ROLES.map((role) => ({ value: role, label: ROLE_MEANINGS[role] }));

function useTeamOptions() {
  const teams = useTeams();
  return [{ value: "", label: "No team" }, ...(teams.data?.items.map((team) => ({ value: team.id, label: team.name ?? team.id })) ?? [])];
}

/** Invites a user (in AWS through the user pool; locally the admin then issues it an API key). */
function InviteForm({ onDone, onCancel }: { onDone: (user: User) => void; onCancel: () => void }) {
  const queryClient = useQueryClient();
  const teamOptions = useTeamOptions();
  const form = useFormState({ email: "", name: "", role: "rep" as Role, team_id: "" }, ["email", "name", "role", "team_id"], {
    // A 409 is the email taken by another user of the tenant.
    conflict: (error) => ({ field: "email", message: error.message }),
  });
  const { values, field } = form;
  const invite = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/users", {
          body: {
            email: values.email.trim(),
            name: values.name.trim() || null,
            role: values.role,
            team_id: values.team_id || null,
          },
        }),
      ),
    onSuccess: async (user) => {
      await queryClient.invalidateQueries({ queryKey: ["users"] });
      onDone(user);
    },
    onError: form.fail,
  });
  return (
    <FormCard id="invite-title" title="Invite a user" level={3} onSubmit={form.submit(invite.mutate)}>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput label="Email" type="email" required {...field("email")} />
        <TextInput label="Name" {...field("name")} />
        <NativeSelect label="Role" data={roleOptions} {...field("role")} />
        <NativeSelect label="Team" data={teamOptions} {...field("team_id")} />
      </SimpleGrid>
      <ProblemAlert error={form.problem} />
      <FormButtons submit="Invite user" pending={invite.isPending} onCancel={onCancel} />
    </FormCard>
  );
}

/** Changes a user's name, role or team at the version the list showed (If-Match). */
function EditUser({ user, onClose }: { user: User; onClose: () => void }) {
  const queryClient = useQueryClient();
  const teamOptions = useTeamOptions();
  const form = useFormState({ name: user.name ?? "", role: (user.role ?? "rep") as Role, team_id: user.team_id ?? "" }, ["name", "role", "team_id"]);
  const { values, field } = form;
  const save = useMutation({
    mutationFn: () => {
      const body: Schemas["UserUpdate"] = {};
      if (values.name.trim() !== (user.name ?? "")) body.name = values.name.trim() || null;
      if (values.role !== user.role) body.role = values.role;
      if (values.team_id !== (user.team_id ?? "")) body.team_id = values.team_id || null;
      return unwrap(
        api.PATCH("/v1/users/{record_id}", { params: { path: { record_id: user.id } }, headers: ifMatch(user.version), body }),
      );
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["users"] });
      onClose();
    },
    onError: form.fail,
  });
  return (
    <FormDialog title={`Change ${userLabel(user)}`} onClose={onClose} onSubmit={form.submit(save.mutate)}>
      <TextInput label="Name" {...field("name")} />
      <NativeSelect label="Role" data={roleOptions} {...field("role")} />
      <NativeSelect label="Team" data={teamOptions} {...field("team_id")} />
      <ProblemAlert error={form.problem} />
      <FormButtons submit="Save" pending={save.isPending} onCancel={onClose} dialog />
    </FormDialog>
  );
}

export default function Users() {
  const admin = useIsAdmin();
  const me = useMe();
  const queryClient = useQueryClient();
  const teams = useTeams();
  const [inviting, setInviting] = useState(false);
  const [invited, setInvited] = useState<User | null>(null);
  const [editing, setEditing] = useState<User | null>(null);
  const users = useInfiniteQuery({
    queryKey: ["users", "settings"],
    queryFn: ({ pageParam }) => unwrap(api.GET("/v1/users", { params: { query: { limit: 50, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
  const rows = users.data?.pages.flatMap((page) => page.items) ?? [];
  const teamName = (teamId: string | null | undefined) =>
    teamId ? (teams.data?.items.find((team) => team.id === teamId)?.name ?? "Unknown team") : "—";

  // The API has no restore for users: DELETE deactivates (409 for the tenant's last active admin, shown in the
  // dialog) and PATCH `active: true` reactivates; deactivated users stay in the list.
  const { archive: deactivate } = useArchiveRestore("users");
  async function reactivate(user: User) {
    await unwrap(
      api.PATCH("/v1/users/{record_id}", { params: { path: { record_id: user.id } }, headers: ifMatch(user.version), body: { active: true } }),
    );
    await queryClient.invalidateQueries({ queryKey: ["users"] });
  }

  return (
    <ListSection
      id="users"
      title="Users"
      what="users"
      action={!inviting && <Button onClick={() => setInviting(true)}>Invite user</Button>}
      top={
        <>
          {inviting && (
            <InviteForm
              onCancel={() => setInviting(false)}
              onDone={(user) => {
                setInviting(false);
                setInvited(user);
              }}
            />
          )}
          {invited && (
            <Alert color="teal.9" variant="outline" title={`${userLabel(invited)} is invited`} withCloseButton closeButtonLabel="Dismiss" onClose={() => setInvited(null)}>
              <Text size="sm">
                Where the tenant signs in through its user pool, they get an invitation by email. Locally, issue them an API key.
              </Text>
              <Anchor component={Link} to={`/settings/api-keys?user=${invited.id}`} size="sm">
                Create an API key for {userLabel(invited)}
              </Anchor>
            </Alert>
          )}
        </>
      }
      query={users}
      count={rows.length}
      empty="No users yet."
      bottom={
        <>
          {users.hasNextPage && (
            <Group>
              <Button variant="default" onClick={() => users.fetchNextPage()} loading={users.isFetchingNextPage}>
                Load more
              </Button>
            </Group>
          )}
          {editing && <EditUser user={editing} onClose={() => setEditing(null)} />}
        </>
      }
    >
      <SettingsTable
        label="Users"
        head={
          <>
            <th>Name</th>
            <th>Role</th>
            <th className="from-sm">Team</th>
            <th>Status</th>
            {admin && <th>Actions</th>}
          </>
        }
      >
        {rows.map((user) => (
          <tr key={user.id}>
            <td>
              <Text size="sm" fw={500}>
                {user.name ?? "—"}
                {user.id === me.data?.user.id && " (you)"}
              </Text>
              <Text size="xs" c="dimmed">
                {user.email}
              </Text>
            </td>
            <td>{user.role ?? "—"}</td>
            <td className="from-sm">{teamName(user.team_id)}</td>
            <td>
              {user.active === false ? (
                <Badge color="gray.7" variant="outline">
                  deactivated
                </Badge>
              ) : (
                <Badge color="teal.9" variant="outline">
                  active
                </Badge>
              )}
            </td>
            {admin && (
              <td>
                <Group gap={6}>
                  <Button size="xs" variant="default" onClick={() => setEditing(user)} aria-label={`Change ${userLabel(user)}`}>
                    Change
                  </Button>
                  {user.active === false ? (
                    <ConfirmButton
                      label="Reactivate"
                      name={`Reactivate ${userLabel(user)}`}
                      title={`Reactivate ${userLabel(user)}?`}
                      confirmLabel="Reactivate"
                      color="indigo"
                      onConfirm={() => reactivate(user)}
                    >
                      Their API keys and sign-in work again from their next request.
                    </ConfirmButton>
                  ) : (
                    <ConfirmButton
                      label="Deactivate"
                      name={`Deactivate ${userLabel(user)}`}
                      title={`Deactivate ${userLabel(user)}?`}
                      confirmLabel="Deactivate"
                      onConfirm={() => deactivate(user)}
                    >
                      Every credential they hold (API keys, sign-in) is refused from their next request. What they
                      own stays theirs; you can reactivate them later.
                    </ConfirmButton>
                  )}
                </Group>
              </td>
            )}
          </tr>
        ))}
      </SettingsTable>
    </ListSection>
  );
}
