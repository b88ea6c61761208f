import { NativeSelect, SimpleGrid, TextInput } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { FormButtons, FormCard, ProblemAlert } from "../forms/parts";
import { leadingField, useFormState } from "../forms/useFormState";
import { useCustomForm } from "./CustomFields";
import { RecordPicker, type Picked } from "./RecordPicker";

type Deal = Schemas["Deal"];
type Pipeline = Schemas["Pipeline"];

// The form's own fields: an API error naming another (or none) is shown above the buttons instead.
const FIELDS = ["name", "amount", "currency", "stage_id", "company_id", "contact_ids", "close_date"];

/** A new deal in a pipeline's open stage, with the API's field errors next to their fields. */
export default function DealForm({
  pipeline,
  onSaved,
  onCancel,
}: {
  pipeline: Pipeline;
  onSaved: (deal: Deal) => void;
  onCancel: () => void;
}) {
  const openStages = (pipeline.stages ?? []).filter((stage) => stage.kind === "open" && stage.id);
  const custom = useCustomForm("deals", null, (name) => form.clearErrors((field) => field === name));
  const form = useFormState(
    {
      name: "",
      amount: "",
      currency: pipeline.currency ?? "",
      stage_id: openStages[0]?.id ?? "",
      company_id: null as Picked | null,
      contact_ids: null as Picked | null,
      close_date: "",
    },
    [...FIELDS, ...custom.fields],
    // "contact_ids[0]" or "contact_ids.0" is the contact picker's.
    // A custom property's error stays `custom.<name>`, at its input.
    { fieldOf: (apiField) => (apiField.startsWith("custom.") ? apiField : leadingField(apiField)) },
  );
  const { values, errors, problem, change, field } = form;

  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/deals", {
          body: {
            name: values.name.trim(),
            pipeline_id: pipeline.id,
            stage_id: values.stage_id || null,
            amount: values.amount.trim() || null,
            currency: values.currency.trim().toUpperCase() || null,
            company_id: values.company_id?.id ?? null,
            contact_ids: values.contact_ids ? [values.contact_ids.id] : null,
            close_date: values.close_date || null,
            custom: custom.body(false),
          },
        }),
      ),
    onSuccess: onSaved,
    onError: form.fail,
  });

  return (
    <FormCard id="deal-form-title" title="New deal" onSubmit={form.submit(save.mutate)}>
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
        <TextInput label="Name" required {...field("name")} />
        <TextInput label="Amount" inputMode="decimal" {...field("amount")} />
        <TextInput
          label="Currency"
          description="Three letters, e.g. EUR"
          maxLength={3}
          value={values.currency}
          onChange={(event) => change("currency", event.currentTarget.value.toUpperCase())}
          error={errors.currency}
        />
        <NativeSelect
          label="Stage"
          {...field("stage_id")}
          data={openStages.map((stage) => ({ value: stage.id ?? "", label: stage.name }))}
        />
        <RecordPicker
          object="companies"
          label="Company"
          value={values.company_id}
          onChange={(picked) => change("company_id", picked)}
          error={errors.company_id}
        />
        <RecordPicker
          object="contacts"
          label="Contact"
          value={values.contact_ids}
          onChange={(picked) => change("contact_ids", picked)}
          error={errors.contact_ids}
        />
        <TextInput label="Close date" type="date" {...field("close_date")} />
        {custom.inputs(errors)}
      </SimpleGrid>
      <ProblemAlert error={problem} title="Not saved" />
      <FormButtons submit="Create deal" pending={save.isPending} onCancel={onCancel} />
    </FormCard>
  );
}
