import { Alert, Button, Group, NativeSelect, Paper, SimpleGrid, Stack, TextInput, Title } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ApiError, api, unwrap, type Schemas } from "../api/client";
import { RecordPicker, type Picked } from "./RecordPicker";

type Deal = Schemas["Deal"];
type Pipeline = Schemas["Pipeline"];

// The form's own fields: an API error naming another (or none) is shown above the buttons instead.
const FIELDS = ["name", "amount", "currency", "stage_id", "company_id", "contact_ids", "close_date"];

/** A field error's form field: "contact_ids[0]" or "contact_ids.0" is the contact picker's. */
function formField(apiField: string) {
  return apiField.split(/[.[]/)[0] ?? apiField;
}

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
  const [name, setName] = useState("");
  const [amount, setAmount] = useState("");
  const [currency, setCurrency] = useState(pipeline.currency ?? "");
  const [stageId, setStageId] = useState(openStages[0]?.id ?? "");
  const [company, setCompany] = useState<Picked | null>(null);
  const [contact, setContact] = useState<Picked | null>(null);
  const [closeDate, setCloseDate] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);

  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/deals", {
          body: {
            name: name.trim(),
            pipeline_id: pipeline.id,
            stage_id: stageId || null,
            amount: amount.trim() || null,
            currency: currency.trim().toUpperCase() || null,
            company_id: company?.id ?? null,
            contact_ids: contact ? [contact.id] : null,
            close_date: closeDate || null,
          },
        }),
      ),
    onSuccess: onSaved,
    onError: (error) => {
      if (!(error instanceof ApiError)) {
        setProblem("The CRM could not be reached. Try again.");
        return;
      }
      const byField: Record<string, string> = {};
      for (const [field, message] of Object.entries(error.fieldErrors())) byField[formField(field)] ??= message;
      setErrors(byField);
      setProblem(Object.keys(byField).some((field) => FIELDS.includes(field)) ? null : error.message);
    },
  });

  function cleared(field: string) {
    setErrors((current) => ({ ...current, [field]: "" }));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    save.mutate();
  }

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="deal-form-title">
      <form onSubmit={submit} noValidate>
        <Stack>
          <Title order={2} size="h3" id="deal-form-title">
            New deal
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
            <TextInput
              label="Name"
              required
              value={name}
              onChange={(event) => {
                setName(event.currentTarget.value);
                cleared("name");
              }}
              error={errors.name}
            />
            <TextInput
              label="Amount"
              inputMode="decimal"
              value={amount}
              onChange={(event) => {
                setAmount(event.currentTarget.value);
                cleared("amount");
              }}
              error={errors.amount}
            />
            <TextInput
              label="Currency"
              description="Three letters, e.g. EUR"
              maxLength={3}
              value={currency}
              onChange={(event) => {
                setCurrency(event.currentTarget.value.toUpperCase());
                cleared("currency");
              }}
              error={errors.currency}
            />
            <NativeSelect
              label="Stage"
              value={stageId}
              onChange={(event) => {
                setStageId(event.currentTarget.value);
                cleared("stage_id");
              }}
              error={errors.stage_id}
              data={openStages.map((stage) => ({ value: stage.id ?? "", label: stage.name }))}
            />
            <RecordPicker
              object="companies"
              label="Company"
              value={company}
              onChange={(picked) => {
                setCompany(picked);
                cleared("company_id");
              }}
              error={errors.company_id}
            />
            <RecordPicker
              object="contacts"
              label="Contact"
              value={contact}
              onChange={(picked) => {
                setContact(picked);
                cleared("contact_ids");
              }}
              error={errors.contact_ids}
            />
            <TextInput
              label="Close date"
              type="date"
              value={closeDate}
              onChange={(event) => {
                setCloseDate(event.currentTarget.value);
                cleared("close_date");
              }}
              error={errors.close_date}
            />
          </SimpleGrid>
          {problem && (
            <Alert color="red" role="alert" title="Not saved">
              {problem}
            </Alert>
          )}
          <Group>
            <Button type="submit" loading={save.isPending}>
              Create deal
            </Button>
            <Button variant="default" onClick={onCancel}>
              Cancel
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}
