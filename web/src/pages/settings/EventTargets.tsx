import { Anchor, Button, Group, NativeSelect, SimpleGrid, Text, TextInput, Textarea } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, ifMatch, unwrap, type Schemas } from "../../api/client";
import { FormButtons, FormCard, ProblemAlert } from "../../forms/parts";
import { useFormState } from "../../forms/useFormState";
import { formatDateTime } from "../../format";
import { ConfirmButton, FormDialog, ListSection, SettingsTable, useArchiveRestore, useIsAdmin } from "./shared";
import { STATUS_MEANINGS, StatusBadge } from "./targetStatus";

type Target = Schemas["EventTarget"];
type Kind = "webhook" | "eventbridge";

/** Event type patterns as typed: separated by commas, spaces or lines. */
export function parseEventTypes(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((part) => part.trim())
    .filter(Boolean);
}

/** Errors on `event_types[2]` show on the one field that holds them all, naming the pattern. */
function eventTypesError(errors: Record<string, string>, typed: string[]): string | undefined {
  const messages = Object.entries(errors)
    .filter(([field, message]) => message && (field === "event_types" || field.startsWith("event_types[")))
    .map(([field, message]) => {
      const index = /\[(\d+)\]/.exec(field)?.[1];
      return index !== undefined && typed[Number(index)] ? `${typed[Number(index)]}: ${message}` : message;
    });
  return messages.length ? messages.join("; ") : undefined;
}

const FIELDS = ["type", "url", "secret", "event_bus_arn", "event_types", "description"] as const;

function CreateTarget({ onDone }: { onDone: () => void }) {
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<Kind>("webhook");
  const form = useFormState({ url: "", secret: "", event_bus_arn: "", event_types: "", description: "" }, FIELDS);
  const { values, errors, change, field } = form;
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/event-targets", {
          body:
            kind === "webhook"
              ? {
                  type: "webhook",
                  url: values.url.trim(),
                  secret: values.secret || null,
                  event_types: parseEventTypes(values.event_types),
                  description: values.description.trim() || null,
                }
              : {
                  type: "eventbridge",
                  event_bus_arn: values.event_bus_arn.trim(),
                  event_types: parseEventTypes(values.event_types),
                  description: values.description.trim() || null,
                },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["event-targets"] });
      onDone();
    },
    onError: form.fail,
  });
  return (
    <FormCard id="new-target-title" title="New event target" level={3} onSubmit={form.submit(create.mutate)}>
      <NativeSelect
        label="Kind"
        value={kind}
        onChange={(event) => setKind(event.currentTarget.value as Kind)}
        data={[
          { value: "webhook", label: "Webhook (HTTPS POST, signed)" },
          { value: "eventbridge", label: "EventBridge bus (the partner's AWS account)" },
        ]}
        maw={420}
      />
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        {kind === "webhook" ? (
          <>
            <TextInput label="URL" description="Where each event is POSTed." type="url" required {...field("url")} />
            <TextInput
              type="password"
              label="Signing secret"
              required
              description="16 characters or more; signs each delivery (CRM-Signature). Never shown again."
              {...field("secret")}
            />
          </>
        ) : (
          <TextInput
            label="Event bus ARN"
            description="The partner's EventBridge bus."
            required
            placeholder="arn:aws:events:us-east-1:123456789012:event-bus/partner"
            {...field("event_bus_arn")}
          />
        )}
        <TextInput label="Description" {...field("description")} />
      </SimpleGrid>
      <Textarea
        label="Event types"
        description="Separated by commas or spaces: contact.created, deal.* (every deal event), * (all)."
        required
        autosize
        minRows={2}
        value={values.event_types}
        onChange={(event) => change("event_types", event.currentTarget.value)}
        error={eventTypesError(errors, parseEventTypes(values.event_types))}
      />
      <ProblemAlert error={form.problem} />
      <FormButtons submit="Create target" pending={create.isPending} onCancel={onDone} />
    </FormCard>
  );
}

/** Changes which events a target gets, at the version the list showed (If-Match). */
export function EditEventTypes({ target, onClose }: { target: Target; onClose: () => void }) {
  const queryClient = useQueryClient();
  const form = useFormState({ event_types: target.event_types?.join(", ") ?? "" }, ["event_types"]);
  const text = form.values.event_types;
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH("/v1/event-targets/{record_id}", {
          params: { path: { record_id: target.id } },
          headers: ifMatch(target.version),
          body: { event_types: parseEventTypes(text) },
        }),
      ),
    onSuccess: async (saved) => {
      queryClient.setQueryData(["event-target", saved.id], saved);
      await queryClient.invalidateQueries({ queryKey: ["event-targets"] });
      onClose();
    },
    onError: form.fail,
  });
  return (
    <FormDialog title="Event types" onClose={onClose} onSubmit={form.submit(save.mutate)}>
      <Textarea
        label="Event types"
        description="Separated by commas or spaces: contact.created, deal.*, *."
        autosize
        minRows={2}
        value={text}
        onChange={(event) => form.change("event_types", event.currentTarget.value)}
        error={eventTypesError(form.errors, parseEventTypes(text))}
      />
      <Text size="xs" c="dimmed">
        The target is pending again until routing follows the change (usually seconds).
      </Text>
      <ProblemAlert error={form.problem} />
      <FormButtons submit="Save" pending={save.isPending} onCancel={onClose} dialog />
    </FormDialog>
  );
}

export function targetWhere(target: Target) {
  return (target.type === "webhook" ? target.url : target.event_bus_arn) ?? "—";
}

export default function EventTargets() {
  const admin = useIsAdmin();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Target | null>(null);
  const [archived, setArchived] = useState(false);
  const targets = useQuery({
    queryKey: ["event-targets", { archived }],
    queryFn: () => unwrap(api.GET("/v1/event-targets", { params: { query: { limit: 100, archived } } })),
    // A pending target turns active within seconds: look again until none is.
    refetchInterval: (query) => (query.state.data?.items.some((target) => target.status === "pending") ? 2000 : false),
  });
  const rows = targets.data?.items ?? [];
  const { archive, restore } = useArchiveRestore("event-targets");

  return (
    <ListSection
      id="targets"
      title="Event targets"
      what="event targets"
      action={!creating && <Button onClick={() => setCreating(true)}>New event target</Button>}
      top={creating && <CreateTarget onDone={() => setCreating(false)} />}
      archived={archived}
      onArchivedChange={setArchived}
      query={targets}
      count={rows.length}
      empty="No event targets: events reach no partner yet."
      bottom={editing && <EditEventTypes target={editing} onClose={() => setEditing(null)} />}
    >
      <SettingsTable
        label={archived ? "Archived event targets" : "Event targets"}
        head={
          <>
            <th>Where</th>
            <th>Status</th>
            <th className="from-sm">Events</th>
            <th className="from-md">Created</th>
            <th>Actions</th>
          </>
        }
      >
        {rows.map((target) => (
          <tr key={target.id}>
            <td>
              <Text size="xs" c="dimmed">
                {target.type === "webhook" ? "Webhook" : "EventBridge"}
                {target.description && ` · ${target.description}`}
              </Text>
              {targetWhere(target)}
            </td>
            <td>
              <StatusBadge status={target.status} />
              <Text size="xs" c="dimmed" className="from-sm" mt={4}>
                {STATUS_MEANINGS[target.status ?? "pending"]}
              </Text>
            </td>
            <td className="from-sm">{target.event_types?.join(", ")}</td>
            <td className="from-md">{formatDateTime(target.created_at)}</td>
            <td>
              <Group gap={6}>
                <Anchor component={Link} to={`/settings/event-targets/${target.id}`} size="sm">
                  Delivery log<span className="visually-hidden"> of {targetWhere(target)}</span>
                </Anchor>
                {admin && archived && (
                  <ConfirmButton
                    label="Restore"
                    name={`Restore ${targetWhere(target)}`}
                    title="Restore this event target?"
                    confirmLabel="Restore target"
                    color="indigo"
                    onConfirm={() => restore(target)}
                  >
                    Events committed once its routing is in place reach {targetWhere(target)} again.
                  </ConfirmButton>
                )}
                {admin && !archived && (
                  <>
                    <Button size="xs" variant="default" onClick={() => setEditing(target)} aria-label={`Event types of ${targetWhere(target)}`}>
                      Event types
                    </Button>
                    <ConfirmButton
                      label="Archive"
                      name={`Archive ${targetWhere(target)}`}
                      title="Archive this event target?"
                      confirmLabel="Archive target"
                      onConfirm={() => archive(target)}
                    >
                      Events stop reaching {targetWhere(target)}. It can be restored for 30 days.
                    </ConfirmButton>
                  </>
                )}
              </Group>
            </td>
          </tr>
        ))}
      </SettingsTable>
    </ListSection>
  );
}
