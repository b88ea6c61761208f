import { Button, Group, SimpleGrid, Text, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ifMatch, unwrap, type Schemas } from "../../api/client";
import { FormButtons, ProblemAlert } from "../../forms/parts";
import { useFormState } from "../../forms/useFormState";
import { formatDateTime, formatNumber } from "../../format";
import { ConfirmButton, EditOrNewForm, ListSection, SettingsTable, useArchiveRestore, useIsAdmin } from "./shared";

type Source = Schemas["EventSource"];

const FIELDS = ["source", "account_id", "description"] as const;

/** Registers a source, or changes one's account and description at the version the list showed (If-Match):
 * the source name itself is the unique field and cannot change. */
function SourceForm({ source, onDone }: { source?: Source; onDone: () => void }) {
  const queryClient = useQueryClient();
  const form = useFormState(
    { source: source?.source ?? "partner.", account_id: source?.account_id ?? "", description: source?.description ?? "" },
    FIELDS,
    // A 409 on registering is the source name already taken: it belongs next to that field.
    { conflict: source ? undefined : (error) => ({ field: "source", message: error.message }) },
  );
  const { values, field } = form;
  const save = useMutation({
    mutationFn: () => {
      const changes = { account_id: values.account_id.trim() || null, description: values.description.trim() || null };
      return source
        ? unwrap(
            api.PATCH("/v1/event-sources/{record_id}", {
              params: { path: { record_id: source.id } },
              headers: ifMatch(source.version),
              body: changes,
            }),
          )
        : unwrap(api.POST("/v1/event-sources", { body: { source: values.source.trim(), ...changes } }));
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["event-sources"] });
      onDone();
    },
    onError: form.fail,
  });
  const body = (
    <>
      <SimpleGrid cols={{ base: 1, sm: source ? 1 : 3 }}>
        {!source && (
          <TextInput
            label="Source"
            description="The EventBridge source the partner sends with: partner.<name>."
            required
            {...field("source")}
          />
        )}
        <TextInput
          label="AWS account"
          description="The 12-digit account the partner sends from; empty for this CRM's own."
          inputMode="numeric"
          maxLength={12}
          {...field("account_id")}
        />
        <TextInput label="Description" {...field("description")} />
      </SimpleGrid>
      <ProblemAlert error={form.problem} />
      <FormButtons submit={source ? "Save" : "Register source"} pending={save.isPending} onCancel={onDone} dialog={Boolean(source)} />
    </>
  );
  return (
    <EditOrNewForm
      editing={Boolean(source)}
      id="new-source"
      title={`Change ${source?.source}`}
      newTitle="New event source"
      onClose={onDone}
      onSubmit={form.submit(save.mutate)}
    >
      {body}
    </EditOrNewForm>
  );
}

function Refusals({ source }: { source: Source }) {
  if (!source.refused_count) return <>0</>;
  return (
    <>
      {formatNumber(source.refused_count)}
      {source.last_refused_at && (
        <Text size="xs" c="dimmed">
          last {formatDateTime(source.last_refused_at)}
          {source.last_refused_reason && `: ${source.last_refused_reason}`}
        </Text>
      )}
    </>
  );
}

/** The partner accounts allowed to put inbound events (leads, tickets) on the CRM's bus for this tenant. */
export default function EventSources() {
  const admin = useIsAdmin();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Source | null>(null);
  const [archived, setArchived] = useState(false);
  const sources = useQuery({
    queryKey: ["event-sources", { archived }],
    queryFn: () => unwrap(api.GET("/v1/event-sources", { params: { query: { limit: 100, archived } } })),
  });
  const rows = sources.data?.items ?? [];
  const { archive, restore } = useArchiveRestore("event-sources");

  return (
    <ListSection
      id="sources"
      title="Event sources"
      what="event sources"
      action={!creating && <Button onClick={() => setCreating(true)}>New event source</Button>}
      intro={
        <Text size="sm" c="dimmed">
          Partners whose events (a lead.submitted, a ticket.submitted) the CRM takes in. Events of any other source,
          or sent from another AWS account, are refused.
        </Text>
      }
      top={creating && <SourceForm onDone={() => setCreating(false)} />}
      archived={archived}
      onArchivedChange={setArchived}
      query={sources}
      count={rows.length}
      empty="No event sources: no partner can send the CRM events yet."
      bottom={editing && <SourceForm source={editing} onDone={() => setEditing(null)} />}
    >
      <SettingsTable
        label={archived ? "Archived event sources" : "Event sources"}
        head={
          <>
            <th>Source</th>
            <th className="from-sm">AWS account</th>
            <th className="from-sm">Refused</th>
            <th className="from-md">{archived ? "Archived" : "Created"}</th>
            {admin && <th>Actions</th>}
          </>
        }
      >
        {rows.map((source) => (
          <tr key={source.id}>
            <td>
              {source.source}
              {source.description && (
                <Text size="xs" c="dimmed">
                  {source.description}
                </Text>
              )}
            </td>
            <td className="from-sm">{source.account_id ?? "This CRM's own"}</td>
            <td className="from-sm">
              <Refusals source={source} />
            </td>
            <td className="from-md">{formatDateTime(archived ? source.archived_at : source.created_at)}</td>
            {admin && (
              <td>
                <Group gap={6}>
                  {archived ? (
                    <ConfirmButton
                      label="Restore"
                      name={`Restore ${source.source}`}
                      title={`Restore ${source.source}?`}
                      confirmLabel="Restore source"
                      color="indigo"
                      onConfirm={() => restore(source)}
                    >
                      The CRM takes this partner's events again.
                    </ConfirmButton>
                  ) : (
                    <>
                      <Button size="xs" variant="default" onClick={() => setEditing(source)} aria-label={`Change ${source.source}`}>
                        Change
                      </Button>
                      <ConfirmButton
                        label="Archive"
                        name={`Archive ${source.source}`}
                        title={`Archive ${source.source}?`}
                        confirmLabel="Archive source"
                        onConfirm={() => archive(source)}
                      >
                        The CRM refuses this partner's events from now on. It can be restored for 30 days.
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
