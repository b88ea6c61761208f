import { Button, Group, Modal, NativeSelect, Paper, SimpleGrid, Stack, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ApiError, api, ifMatch, noContent, unwrap, type Schemas } from "../../api/client";
import { Empty, QueryState } from "../../components/States";
import { formatDateTime } from "../../format";
import { AdminOnlyNote, ArchivedSwitch, ConfirmButton, ProblemAlert, TableBox, formErrors, useIsAdmin, useTeams, useUserName, useUsers, userLabel } from "./shared";

type Team = Schemas["Team"];

/** Creates a team, or changes one at the version the list showed. */
function TeamForm({ team, onDone }: { team?: Team; onDone: () => void }) {
  const queryClient = useQueryClient();
  const users = useUsers();
  const [name, setName] = useState(team?.name ?? "");
  const [managerId, setManagerId] = useState(team?.manager_id ?? "");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<ApiError | null>(null);
  const save = useMutation({
    mutationFn: () =>
      team
        ? unwrap(
            api.PATCH("/v1/teams/{record_id}", {
              params: { path: { record_id: team.id } },
              headers: ifMatch(team.version),
              body: { name: name.trim(), manager_id: managerId || null },
            }),
          )
        : unwrap(api.POST("/v1/teams", { body: { name: name.trim(), manager_id: managerId || null } })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["teams"] });
      onDone();
    },
    onError: (error) => {
      const shown = formErrors(error, ["name", "manager_id"]);
      setErrors(shown.fields);
      setProblem(shown.problem);
    },
  });
  const managers = [
    { value: "", label: "No manager" },
    ...(users.data?.items.filter((user) => user.active !== false).map((user) => ({ value: user.id, label: userLabel(user) })) ?? []),
  ];
  function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    save.mutate();
  }
  const fields = (
    <form onSubmit={submit} noValidate>
      <Stack>
        <SimpleGrid cols={{ base: 1, sm: team ? 1 : 2 }}>
          <TextInput
            label="Team name"
            required
            value={name}
            onChange={(event) => {
              setName(event.currentTarget.value);
              setErrors({ ...errors, name: "" });
            }}
            error={errors.name}
          />
          <NativeSelect label="Manager" value={managerId} data={managers} onChange={(event) => setManagerId(event.currentTarget.value)} error={errors.manager_id} />
        </SimpleGrid>
        <ProblemAlert error={problem} />
        <Group justify={team ? "flex-end" : "flex-start"}>
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            {team ? "Save" : "Create team"}
          </Button>
        </Group>
      </Stack>
    </form>
  );
  if (team) {
    return (
      <Modal closeButtonProps={{ "aria-label": "Close" }} opened onClose={onDone} title={`Rename ${team.name ?? "team"}`}>
        {fields}
      </Modal>
    );
  }
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="new-team-title">
      <Title order={3} size="h4" id="new-team-title" mb="sm">
        New team
      </Title>
      {fields}
    </Paper>
  );
}

export default function Teams() {
  const admin = useIsAdmin();
  const queryClient = useQueryClient();
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

  async function remove(team: Team) {
    await noContent(api.DELETE("/v1/teams/{record_id}", { params: { path: { record_id: team.id } }, headers: ifMatch(team.version) }));
    await queryClient.invalidateQueries({ queryKey: ["teams"] });
  }
  async function restore(team: Team) {
    await unwrap(api.POST("/v1/teams/{record_id}/restore", { params: { path: { record_id: team.id } } }));
    await queryClient.invalidateQueries({ queryKey: ["teams"] });
  }

  return (
    <Stack component="section" aria-labelledby="teams-title">
      <Group justify="space-between">
        <Title order={2} id="teams-title">
          Teams
        </Title>
        {admin && !creating && <Button onClick={() => setCreating(true)}>New team</Button>}
      </Group>
      {admin === false && <AdminOnlyNote what="teams" />}
      {creating && <TeamForm onDone={() => setCreating(false)} />}
      <ArchivedSwitch checked={showArchived} onChange={setShowArchived} />
      <QueryState query={teams} what="teams" />
      {teams.isSuccess && rows.length === 0 && (
        <Empty>{showArchived ? "No archived teams." : "No teams yet: a manager changes what its team owns once there is one."}</Empty>
      )}
      {rows.length > 0 && (
        <TableBox>
          <table className="data-table" aria-label={showArchived ? "Archived teams" : "Teams"}>
            <thead>
              <tr>
                <th>Name</th>
                <th>Manager</th>
                <th className="from-sm">Created</th>
                {admin && <th>Actions</th>}
              </tr>
            </thead>
            <tbody>
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
                              onConfirm={() => remove(team)}
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
            </tbody>
          </table>
        </TableBox>
      )}
      {editing && <TeamForm team={editing} onDone={() => setEditing(null)} />}
    </Stack>
  );
}
