import { Group, NativeSelect, Paper, SimpleGrid, Stack, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { ApiError, api, ifMatch, unwrap, type Schemas } from "../../api/client";
import { FormButtons, ProblemAlert } from "../../forms/parts";
import { type Example, TEMPLATE_FIELDS, renderBody, unknownFields } from "./template";

type Campaign = Schemas["Campaign"];

type Trigger = "once" | "birthday";

interface Draft {
  name: string;
  trigger: Trigger;
  segment_id: string;
  subject: string;
  from: string;
  body: string;
}

const EXAMPLE: Example = {
  first_name: "Ada",
  last_name: "Lovelace",
  email: "ada@example.com",
  title: "Analyst",
  company_name: "Analytical Engines",
  unsubscribe_url: "#unsubscribe",
};

const STARTER = '<p>Hello {{ first_name }},</p>\n<p>…</p>\n<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>';

export function useSegmentChoices() {
  return useQuery({
    queryKey: ["segments", "list"],
    queryFn: () => unwrap(api.GET("/v1/segments", { params: { query: { limit: 100 } } })),
    staleTime: 60_000,
  });
}

/** The example contact the preview renders: the chosen segment's first member, else a made-up person. */
function useExample(segmentId: string): { example: Example; who: string } {
  const member = useQuery({
    queryKey: ["segments", "members", segmentId, "first"],
    queryFn: () => unwrap(api.GET("/v1/segments/{record_id}/members", { params: { path: { record_id: segmentId }, query: { limit: 1 } } })),
    enabled: segmentId !== "",
    staleTime: 60_000,
    retry: false,
  });
  const first = member.data?.items[0];
  if (!first) return { example: EXAMPLE, who: "an example contact (Ada Lovelace)" };
  const example: Example = {
    ...EXAMPLE,
    first_name: first.first_name ?? "",
    last_name: first.last_name ?? "",
    email: first.email ?? "",
    title: first.title ?? "",
    company_name: "",
  };
  const name = [first.first_name, first.last_name].filter(Boolean).join(" ") || first.email || first.id;
  return { example, who: `${name}, the segment's first member` };
}

function fromCampaign(campaign?: Campaign): Draft {
  return {
    name: campaign?.name ?? "",
    trigger: campaign?.trigger === "birthday" ? "birthday" : "once",
    segment_id: campaign?.segment_id ?? "",
    subject: campaign?.subject ?? "",
    from: campaign?.from ?? "",
    body: campaign?.body ?? (campaign ? "" : STARTER),
  };
}

/** The fields as the API takes them: an empty one is "not set yet" (null), so a draft saves part-way. */
function toBody(draft: Draft) {
  const or = (value: string) => (value.trim() === "" ? null : value.trim());
  return { name: draft.name.trim(), trigger: draft.trigger, segment_id: or(draft.segment_id), subject: or(draft.subject), from: or(draft.from), body: draft.body.trim() === "" ? null : draft.body };
}

/** Creates a campaign, or changes a draft at the version read: its segment, subject, sender and body, with a
 * live preview of the body rendered for an example contact. `problemFields` are a send's field errors. */
export function CampaignEditor({
  campaign,
  problemFields = {},
  onSaved,
  onCancel,
  onDirty,
}: {
  campaign?: Campaign;
  problemFields?: Record<string, string>;
  onSaved: (saved: Campaign) => void;
  onCancel: () => void;
  onDirty?: (dirty: boolean) => void;
}) {
  const queryClient = useQueryClient();
  const segments = useSegmentChoices();
  const [draft, setDraft] = useState<Draft>(() => fromCampaign(campaign));
  const dirty = JSON.stringify(draft) !== JSON.stringify(fromCampaign(campaign));
  useEffect(() => onDirty?.(dirty), [dirty, onDirty]);
  const { example, who } = useExample(draft.segment_id);
  const [body] = useDebouncedValue(draft.body, 250);
  const save = useMutation({
    mutationFn: () =>
      campaign
        ? unwrap(api.PATCH("/v1/campaigns/{record_id}", { params: { path: { record_id: campaign.id } }, headers: ifMatch(campaign.version), body: toBody(draft) }))
        : unwrap(api.POST("/v1/campaigns", { body: toBody(draft) })),
    onSuccess: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: ["campaigns"] });
      onSaved(saved);
    },
  });
  const problem = save.error instanceof ApiError ? save.error : null;
  const errors = { ...problemFields, ...(problem?.fieldErrors() ?? {}) };
  const unknown = unknownFields(draft.body);
  const set = (field: keyof Draft) => (event: { currentTarget: { value: string } }) => setDraft({ ...draft, [field]: event.currentTarget.value });
  const title = campaign ? `Edit ${campaign.name ?? "campaign"}` : "New campaign";
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <Paper withBorder p="md" component="form" aria-labelledby="campaign-editor-title" onSubmit={submit} noValidate>
      <Stack gap="sm">
        <Title order={3} id="campaign-editor-title">
          {title}
        </Title>
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
          <TextInput label="Campaign name" required value={draft.name} onChange={set("name")} error={errors.name} />
          <NativeSelect
            label="Trigger"
            description={draft.trigger === "birthday" ? "Active once you activate it: each contact gets it on their birthday, once a year" : "Sent once, now or at a time you choose"}
            value={draft.trigger}
            onChange={set("trigger")}
            error={errors.trigger}
            data={[
              { value: "once", label: "Once (send or schedule)" },
              { value: "birthday", label: "Birthday (each contact on their birthday)" },
            ]}
          />
          <NativeSelect
            label="Segment"
            description={draft.trigger === "birthday" ? "Optional: only its members are greeted (with email consent)" : "Who it is sent to (members with email consent only)"}
            value={draft.segment_id}
            onChange={set("segment_id")}
            error={errors.segment_id ?? (segments.isError ? "The segments could not be loaded" : undefined)}
            data={[{ value: "", label: segments.isPending ? "Loading segments…" : draft.trigger === "birthday" ? "Every contact" : "Choose a segment" }, ...(segments.data?.items ?? []).map((s) => ({ value: s.id, label: s.name ?? s.id }))]}
          />
          <TextInput label="Subject" value={draft.subject} onChange={set("subject")} error={errors.subject} />
          <TextInput label="From" description="Name <address> or an address" placeholder="Sales <sales@example.com>" value={draft.from} onChange={set("from")} error={errors.from} />
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="sm">
          <Textarea
            label="Body (HTML)"
            description={`Fields: ${TEMPLATE_FIELDS.map((f) => `{{ ${f} }}`).join(", ")}`}
            autosize
            minRows={8}
            maxRows={20}
            value={draft.body}
            onChange={set("body")}
            error={errors.body ?? (unknown.length > 0 ? `Not a template field: ${unknown.join(", ")}` : undefined)}
            styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
          />
          <Stack gap={4}>
            <Text size="sm" fw={500} id="campaign-preview-label">
              Preview
            </Text>
            <Text size="xs" c="dimmed">
              As {who} would get it{draft.subject ? `, subject “${draft.subject}”` : ""}
            </Text>
            <iframe className="campaign-preview" title="Email preview" sandbox="" srcDoc={renderBody(body, example)} data-testid="campaign-preview" />
          </Stack>
        </SimpleGrid>
        <ProblemAlert
          error={problem}
          stale="Someone changed this campaign since you opened it, so nothing was saved. Load it again and redo your changes."
          onReload={campaign ? () => queryClient.invalidateQueries({ queryKey: ["campaigns", "one", campaign.id] }) : undefined}
        />
        <Group>
          <FormButtons submit={campaign ? "Save campaign" : "Create campaign"} pending={save.isPending} onCancel={onCancel} />
          {dirty && campaign && <Text size="sm" c="dimmed">Unsaved changes</Text>}
        </Group>
      </Stack>
    </Paper>
  );
}
