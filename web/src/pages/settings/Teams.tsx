import { Button, Group, NativeSelect, SimpleGrid, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ifMatch, unwrap, type Schemas } from "../../api/client";
import { FormButtons, ProblemAlert } from "../../forms/parts";
import { useFormState } from "../../forms/useFormState";
import { formatDateTime } from "../../format";
import { ConfirmButton, EditOrNewForm, ListSection, SettingsTable, useArchiveRestore, useIsAdmin, useTeams, useUserName, useUsers, userLabel } from "./shared";

type Team = Schemas["Team"];

/** Creates a team, or changes one at the version the list showed. */
function TeamForm({ team, onDone }: { team?: Team; onDone: () => void }) {
  const queryClient = useQueryClient();
  const users = useUsers();
  const form = useFormState({ name: team?.name ?? "", manager_id: team?.manager_id ?? "" }, ["name", "manager_id"]);
  const { values, field } = form;
  const save = useMutation({
    mutationFn: () => {
      const body = { name: values.name.trim(), manager_id: values.manager_id || null };
      return team
        ? unwrap(api.PATCH("/v1/teams/{record_id}", { params: { path: { record_id: team.id } }, headers: ifMatch(team.version), body }))
        : unwrap(api.POST("/v1/teams", { body }));
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["teams"] });
      onDone();
    },
    onError: form.fail,
  });
  const managers = [
    { value: "", label: "No manager" },
    ...(users.data?.items.filter((user) => user.active !== false).map((user) => ({ value: user.id, label: userLabel(user) })) ?? []),
  ];
  const body = (
    <>
      <SimpleGrid cols={{ base: 1, sm: team ? 1 : 2 }}>
        <TextInput label="Team name" required {...field("name")} />
        <NativeSelect label="Manager" data={managers} {...field("manager_id")} />
      </SimpleGrid>
      <ProblemAlert error={form.problem} />
      <FormButtons submit={team ? "Save" : "Create team"} pending={save.isPending} onCancel={onDone} dialog={Boolean(team)} />
    </>
  );
  return (
    <EditOrNewForm
      editing={Boolean(team)}
      id="new-team"
      title={`Rename ${team?.name ?? "team"}`}
      newTitle="New team"
      onClose={onDone}
      onSubmit={form.submit(save.mutate)}
    >
      {body}
    </EditOrNewForm>
  );
}

export default function Teams() {
  const admin = useIsAdmin();
  const active = useTeams();
  const userName = useUserName();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Team | null>(null);
  const [showArchived, setShowArchived] = useState(false);
  // Under the ["teams"] key, so that a change to a team refreshes both lists.
  const archived = useQuery({
    queryKey: ["teams", "archived"],
    queryFn: () => unwrap(api.GET("/v1/teams", { params: { query: { limit: 100, sort: "name", archived: true } } })),
    enabled: showArchived,
  });
  const teams = showArchived ? archived : active;
  const rows = teams.data?.items ?? [];
  const { archive, restore } = useArchiveRestore("teams");

  return (
    <ListSection
      id="teams"
      title="Teams"
      what="teams"
      action={!creating && <Button onClick={() => setCreating(true)}>New team</Button>}
      top={creating && <TeamForm onDone={() => setCreating(false)} />}
      archived={showArchived}
      onArchivedChange={setShowArchived}
      query={teams}
      count={rows.length}
      empty="No teams yet: a manager changes what its team owns once there is one."
      bottom={editing && <TeamForm team={editing} onDone={() => setEditing(null)} />}
    >
      <SettingsTable
        label={showArchived ? "Archived teams" : "Teams"}
        head={
          <>
            <th>Name</th>
            <th>Manager</th>
            <th className="from-sm">Created</th>
            {admin && <th>Actions</th>}
          </>
        }
      >
        {rows.map((team) => (
          <tr key={team.id}>
            <td>{team.name}</td>
            <td>{userName(team.manager_id)}</td>
            <td className="from-sm">{formatDateTime(team.created_at)}</td>
            {admin && (
              <td>
                <Group gap={6}>
                  {showArchived ? (
                    <ConfirmButton
                      label="Restore"
                      name={`Restore ${team.name}`}
                      title={`Restore the team ${team.name}?`}
                      confirmLabel="Restore team"
                      color="indigo"
                      onConfirm={() => restore(team)}
                    >
                      It is listed and can be given members again.
                    </ConfirmButton>
                  ) : (
                    <>
                      <Button size="xs" variant="default" onClick={() => setEditing(team)} aria-label={`Rename ${team.name}`}>
                        Rename
                      </Button>
                      <ConfirmButton
                        label="Delete"
                        name={`Delete ${team.name}`}
                        title={`Delete the team ${team.name}?`}
                        confirmLabel="Delete team"
                        onConfirm={() => archive(team)}
                      >
                        A team with members cannot be deleted: move them to another team first. A deleted team can be restored for 30 days.
                      </ConfirmButton>
                    </>
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
