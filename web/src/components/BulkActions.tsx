import { Alert, Button, Group, List, NativeSelect, Paper, Stack, Text, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap, type Problem } from "../api/client";
import { personName } from "../format";
import { useMe } from "../Shell";
import { LIFECYCLE_STAGES } from "./ListFilters";
import { useUsers } from "./owners";

type BulkObject = "contacts" | "companies";
type BatchAction = "update" | "archive";
type Input = { id: string; properties?: Record<string, unknown> };

interface Row {
  id: string;
  tags?: string[] | null;
  name?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  email?: string | null;
}

interface Outcome {
  done: string;
  succeeded: number;
  failed: { row: Row; problem: Partial<Problem> }[];
}

// The API takes at most this many inputs in one batch.
const BATCH_SIZE = 100;

function rowName(object: BulkObject, row: Row) {
  return object === "contacts" ? personName(row) : row.name || "(no name)";
}

async function batch(object: BulkObject, action: BatchAction, inputs: Input[]) {
  const results: { status: number; error?: Partial<Problem> | null }[] = [];
  for (let start = 0; start < inputs.length; start += BATCH_SIZE) {
    const request = { params: { path: { action } }, body: { inputs: inputs.slice(start, start + BATCH_SIZE) } };
    const answer =
      object === "contacts"
        ? await unwrap(api.POST("/v1/contacts/batch/{action}", request))
        : await unwrap(api.POST("/v1/companies/batch/{action}", request));
    results.push(...answer.results);
  }
  return results;
}

function problemText(problem: Partial<Problem>) {
  const fields = (problem.errors ?? []).map((error) => `${error.field.replace(/^inputs\[\d+\]\./, "")} ${error.message}`);
  return [problem.detail ?? problem.title ?? `failed (${problem.status ?? "?"})`, ...fields].join(" — ");
}

/** What to do with the selected rows, through the batch endpoint (one result per row); rows it failed on
 * are listed with the API's reason and stay selected. */
export default function BulkActions({
  object,
  selected,
  onDone,
  onClose,
}: {
  object: BulkObject;
  selected: Row[];
  onDone: (keepSelected: string[]) => void;
  onClose: () => void;
}) {
  const queryClient = useQueryClient();
  const users = useUsers();
  const me = useMe();
  const [tag, setTag] = useState("");
  const [owner, setOwner] = useState("");
  const [stage, setStage] = useState("");
  const [confirmArchive, setConfirmArchive] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const noun = object === "contacts" ? "contact" : "company";
  const nouns = object === "contacts" ? "contacts" : "companies";

  const run = useMutation({
    mutationFn: async ({ action, inputs, done }: { action: BatchAction; inputs: Input[]; done: string }) => {
      const rows = [...selected];
      const results = await batch(object, action, inputs);
      // Results come one per input, in order.
      const failed = results.flatMap((result, index) => {
        const row = rows[index];
        return row && result.status >= 400 ? [{ row, problem: result.error ?? { status: result.status } }] : [];
      });
      return { done, succeeded: results.length - failed.length, failed };
    },
    onSuccess: async (result) => {
      setOutcome(result);
      setConfirmArchive(false);
      onDone(result.failed.map(({ row }) => row.id));
      await queryClient.invalidateQueries({ queryKey: [object] });
    },
  });

  function update(done: string, properties: (row: Row) => Record<string, unknown>) {
    setOutcome(null);
    run.mutate({ action: "update", done, inputs: selected.map((row) => ({ id: row.id, properties: properties(row) })) });
  }

  const trimmedTag = tag.trim();
  // Nothing to act on, or an action still running.
  const idle = selected.length === 0 || run.isPending;
  const userOptions = (users.data?.items ?? []).map((user) => ({
    value: user.id,
    label: user.id === me.data?.user.id ? "Me" : (user.name ?? user.email ?? user.id),
  }));

  return (
    <Paper withBorder p="sm" component="section" aria-label="Bulk actions" bg="indigo.0">
      <Stack gap="xs">
        <Text fw={600} role="status" data-testid="selected-count">
          {selected.length} selected
        </Text>
        <Group align="flex-end" gap="xs">
          <TextInput label="Tag to add or remove" value={tag} onChange={(event) => setTag(event.currentTarget.value)} maw={200} />
          <Button
            variant="default"
            disabled={idle || !trimmedTag}
            onClick={() =>
              update(`Tag “${trimmedTag}” added`, (row) => ({
                tags: [...new Set([...(row.tags ?? []), trimmedTag])],
              }))
            }
          >
            Add tag
          </Button>
          <Button
            variant="default"
            disabled={idle || !trimmedTag}
            onClick={() =>
              update(`Tag “${trimmedTag}” removed`, (row) => {
                const rest = (row.tags ?? []).filter((one) => one !== trimmedTag);
                return { tags: rest.length ? rest : null };
              })
            }
          >
            Remove tag
          </Button>
        </Group>
        <Group align="flex-end" gap="xs">
          <NativeSelect
            label="New owner"
            value={owner}
            onChange={(event) => setOwner(event.currentTarget.value)}
            data={[{ value: "", label: "Choose…" }, ...userOptions]}
          />
          <Button
            variant="default"
            disabled={idle || !owner}
            onClick={() => update("Owner changed", () => ({ owner_id: owner }))}
          >
            Change owner
          </Button>
          {object === "contacts" && (
            <>
              <NativeSelect
                label="New lifecycle stage"
                value={stage}
                onChange={(event) => setStage(event.currentTarget.value)}
                data={[{ value: "", label: "Choose…" }, ...LIFECYCLE_STAGES]}
              />
              <Button
                variant="default"
                disabled={idle || !stage}
                onClick={() => update(`Lifecycle stage set to ${stage}`, () => ({ lifecycle_stage: stage }))}
              >
                Set stage
              </Button>
            </>
          )}
        </Group>
        <Group gap="xs">
          {confirmArchive ? (
            <>
              <Text size="sm">
                Archive {selected.length} {selected.length === 1 ? noun : nouns}? They can be restored for 30 days.
              </Text>
              <Button
                color="red"
                loading={run.isPending}
                onClick={() => {
                  setOutcome(null);
                  run.mutate({ action: "archive", done: "Archived", inputs: selected.map((row) => ({ id: row.id })) });
                }}
              >
                Yes, archive
              </Button>
              <Button variant="default" onClick={() => setConfirmArchive(false)}>
                Cancel
              </Button>
            </>
          ) : (
            <Button color="red" variant="light" disabled={idle} onClick={() => setConfirmArchive(true)}>
              Archive
            </Button>
          )}
          <Button variant="subtle" onClick={onClose}>
            {selected.length ? "Clear selection" : "Close"}
          </Button>
        </Group>
        {run.isPending && <Text size="sm">Working…</Text>}
        {run.isError && (
          <Alert color="red" role="alert" title="Nothing was changed">
            {run.error.message}
          </Alert>
        )}
        {outcome && (
          <Alert
            color={outcome.failed.length ? "orange" : "green"}
            role={outcome.failed.length ? "alert" : "status"}
            title={`${outcome.done}: ${outcome.succeeded} ${outcome.succeeded === 1 ? noun : nouns} done${
              outcome.failed.length ? `, ${outcome.failed.length} failed` : ""
            }`}
            data-testid="bulk-outcome"
          >
            {outcome.failed.length > 0 && (
              <>
                <Text size="sm">These stay selected, to try again:</Text>
                <List size="sm">
                  {outcome.failed.map(({ row, problem }) => (
                    <List.Item key={row.id}>
                      {rowName(object, row)}: {problemText(problem)}
                    </List.Item>
                  ))}
                </List>
              </>
            )}
          </Alert>
        )}
      </Stack>
    </Paper>
  );
}
