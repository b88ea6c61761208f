import { Grid, SimpleGrid, Stack, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useParams } from "react-router";
import { api, ifMatch, unwrap, type Schemas } from "../api/client";
import { RecordHeader, recordKey } from "../components/ArchiveRestore";
import { customFields, useCustomForm, useCustomProperties } from "../components/CustomFields";
import { Fields, companyLink } from "../components/Fields";
import { QuickActivity } from "../components/QuickActivity";
import { LoadError, Loading } from "../components/States";
import { RecordTimeline, timelineKey } from "../components/Timeline";
import { useOwnerName } from "../components/owners";
import { FormButtons, FormCard, ProblemAlert } from "../forms/parts";
import { leadingField, useFormState } from "../forms/useFormState";
import { formatDate, formatDateTime, formatMoney } from "../format";
import { DealQuotes } from "./quotes/DealQuotes";

type Deal = Schemas["Deal"];
const FIELDS = ["name", "amount", "currency", "close_date"] as const;
type Field = (typeof FIELDS)[number];
type Values = Record<Field, string>;

function valuesOf(deal: Deal): Values {
  return Object.fromEntries(FIELDS.map((field) => [field, deal[field] ?? ""])) as Values;
}

/** Changes a deal at the version it was read (If-Match); a 412 keeps what was typed and offers the current
 * version to save over. */
function DealEditForm({ deal, onDone }: { deal: Deal; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [base, setBase] = useState(deal);
  // "amount" or "amount.decimal" alike are the amount's errors.
  const custom = useCustomForm("deals", base.custom, (name) => form.clearErrors((field) => field === name));
  const form = useFormState<Values>(() => valuesOf(deal), [...FIELDS, ...custom.fields], {
    fieldOf: (apiField) => (apiField.startsWith("custom.") ? apiField : leadingField(apiField)),
  });
  const { values, problem, field } = form;

  const save = useMutation({
    mutationFn: () => {
      const opened = valuesOf(base);
      // Only what changed is sent; a field emptied is cleared (null).
      const body = Object.fromEntries(
        FIELDS.filter((field) => values[field].trim() !== opened[field]).map((field) => [
          field,
          values[field].trim() || null,
        ]),
      ) as Schemas["DealUpdate"];
      const changed = custom.body(true);
      if (changed) body.custom = changed;
      return unwrap(
        api.PATCH("/v1/deals/{record_id}", {
          params: { path: { record_id: base.id } },
          headers: ifMatch(base.version),
          body,
        }),
      );
    },
    onSuccess: async (saved) => {
      queryClient.setQueryData(recordKey("deals", saved.id), saved);
      await queryClient.invalidateQueries({ queryKey: timelineKey("deals", saved.id) });
      await queryClient.invalidateQueries({ queryKey: ["board"] });
      onDone();
    },
    onError: form.fail,
  });

  /** After a 412: the current version becomes the base, under what the user changed. */
  const reload = useMutation({
    mutationFn: () => unwrap(api.GET("/v1/deals/{record_id}", { params: { path: { record_id: base.id } } })),
    onSuccess: (current) => {
      form.rebase(valuesOf(base), valuesOf(current));
      setBase(current);
      queryClient.setQueryData(recordKey("deals", current.id), current);
    },
  });

  return (
    <FormCard id="deal-edit-title" title="Edit deal" onSubmit={form.submit(save.mutate)}>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput label="Name" required {...field("name")} />
        <TextInput label="Amount" inputMode="decimal" {...field("amount")} />
        <TextInput label="Currency" maxLength={3} description="Three letters, e.g. EUR" {...field("currency")} />
        <TextInput label="Close date" type="date" {...field("close_date")} />
        {custom.inputs(form.errors)}
      </SimpleGrid>
      <ProblemAlert
        error={problem}
        title="Not saved"
        stale="This deal changed since you opened it, so nothing was saved. Load the current version: your changes stay in the form."
        onReload={() => reload.mutate()}
        reloading={reload.isPending}
      />
      <FormButtons submit="Save changes" pending={save.isPending} onCancel={onDone} />
    </FormCard>
  );
}

export default function DealDetail() {
  const { id = "" } = useParams();
  const [editing, setEditing] = useState(false);
  const ownerName = useOwnerName();
  const properties = useCustomProperties("deals");
  const deal = useQuery({
    queryKey: recordKey("deals", id),
    // Archived ones too: archiving leaves the page showing it, with its Restore button.
    queryFn: () =>
      unwrap(api.GET("/v1/deals/{record_id}", { params: { path: { record_id: id }, query: { archived: true } } })),
  });
  // The board's own query: its stage names, read once for both pages.
  const pipelines = useQuery({
    queryKey: ["pipelines"],
    queryFn: () => unwrap(api.GET("/v1/pipelines", { params: { query: { limit: 100 } } })),
  });
  const company = useQuery({
    queryKey: ["company", deal.data?.company_id],
    queryFn: () =>
      unwrap(api.GET("/v1/companies/{record_id}", { params: { path: { record_id: deal.data!.company_id! } } })),
    enabled: Boolean(deal.data?.company_id),
  });

  if (deal.isPending) return <Loading what="deal" />;
  if (deal.isError) return <LoadError what="deal" error={deal.error} retry={() => deal.refetch()} />;
  const record = deal.data;
  const pipeline = pipelines.data?.items.find((item) => item.id === record.pipeline_id);
  const stage = pipeline?.stages?.find((item) => item.id === record.stage_id);

  return (
    <Stack>
      <RecordHeader
        object="deals"
        title={record.name ?? "(no name)"}
        record={record}
        editing={editing}
        onEdit={() => setEditing(true)}
      />
      {editing ? (
        <DealEditForm deal={record} onDone={() => setEditing(false)} />
      ) : (
        <Fields
          fields={[
            ["Amount", formatMoney(record.amount, record.currency)],
            ["Stage", stage?.name ?? record.stage_id],
            ["Status", record.status],
            ["Pipeline", pipeline?.name],
            ["Company", companyLink(record.company_id, company.data)],
            ["Close date", record.close_date ? formatDate(`${record.close_date}T00:00:00`) : null],
            ["Owner", ownerName(record.owner_id)],
            ["Updated", formatDateTime(record.updated_at)],
            ...customFields(properties.data, record.custom),
          ]}
        />
      )}
      <Grid>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack>
            <DealQuotes deal={record} />
            {!record.archived && <QuickActivity object="deals" id={record.id} />}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <RecordTimeline object="deals" id={record.id} />
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
