import { Alert, Anchor, Button, Group, NativeSelect, Paper, SimpleGrid, Stack, TextInput, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { ApiError, api, ifMatch, unwrap, type Schemas } from "../api/client";

type Contact = Schemas["Contact"];
const FIELDS = ["first_name", "last_name", "email", "phone", "title", "lifecycle_stage"] as const;
type Field = (typeof FIELDS)[number];
type Values = Record<Field, string>;
const LIFECYCLE_STAGES = ["subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist", "other"];

function valuesOf(contact?: Contact): Values {
  return Object.fromEntries(FIELDS.map((field) => [field, contact?.[field] ?? ""])) as Values;
}

/** Creates a contact, or changes one at the version it was read (If-Match), with the API's field errors
 * shown next to their fields. */
export function ContactForm({
  contact,
  onSaved,
  onCancel,
}: {
  contact?: Contact;
  onSaved: (saved: Contact) => void;
  onCancel: () => void;
}) {
  const queryClient = useQueryClient();
  // The version the form changes: the contact as opened, or as reloaded after a conflict.
  const [base, setBase] = useState<Contact | undefined>(contact);
  const [values, setValues] = useState<Values>(() => valuesOf(contact));
  const [errors, setErrors] = useState<Partial<Record<string, string>>>({});
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [existingId, setExistingId] = useState<string | null>(null);

  const save = useMutation({
    mutationFn: () => {
      if (!base) {
        const body = Object.fromEntries(
          FIELDS.filter((field) => values[field].trim()).map((field) => [field, values[field].trim()]),
        ) as Schemas["ContactCreate"];
        return unwrap(api.POST("/v1/contacts", { body }));
      }
      // Only what changed is sent; a field emptied is cleared (null).
      const body = Object.fromEntries(
        FIELDS.filter((field) => values[field].trim() !== (base[field] ?? "")).map((field) => [
          field,
          values[field].trim() || null,
        ]),
      ) as Schemas["ContactUpdate"];
      return unwrap(
        api.PATCH("/v1/contacts/{record_id}", {
          params: { path: { record_id: base.id } },
          headers: ifMatch(base.version),
          body,
        }),
      );
    },
    onSuccess: async (saved) => {
      queryClient.setQueryData(["contact", saved.id], saved);
      await queryClient.invalidateQueries({ queryKey: ["contacts"] });
      await queryClient.invalidateQueries({ queryKey: ["timeline", "contacts", saved.id] });
      onSaved(saved);
    },
    onError: (error) => {
      if (!(error instanceof ApiError)) {
        setProblem(new ApiError(0, { detail: "The CRM could not be reached. Try again." }));
        return;
      }
      const fieldErrors = error.fieldErrors();
      if (error.status === 409 && error.problem.existing_id) {
        fieldErrors.email ??= "Another contact has this email.";
        setExistingId(error.problem.existing_id);
      }
      setErrors(fieldErrors);
      const shownByFields = Object.keys(fieldErrors).some((field) => (FIELDS as readonly string[]).includes(field));
      setProblem(shownByFields ? null : error);
    },
  });

  /** After a 412: the current version becomes the base; what the user changed stays, every other field
   * takes the current value, so that saving again changes only what the user meant to. */
  const reload = useMutation({
    mutationFn: (id: string) => unwrap(api.GET("/v1/contacts/{record_id}", { params: { path: { record_id: id } } })),
    onSuccess: (current) => {
      const opened = valuesOf(base);
      const latest = valuesOf(current);
      setValues((typed) =>
        Object.fromEntries(
          FIELDS.map((field) => [field, typed[field] !== opened[field] ? typed[field] : latest[field]]),
        ) as Values,
      );
      setBase(current);
      setProblem(null);
      queryClient.setQueryData(["contact", current.id], current);
    },
  });

  function change(field: Field, value: string) {
    setValues((current) => ({ ...current, [field]: value }));
    setErrors((current) => ({ ...current, [field]: undefined }));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setExistingId(null);
    save.mutate();
  }

  const input = (field: Field, label: string, type = "text") => (
    <TextInput
      label={label}
      type={type}
      value={values[field]}
      onChange={(event) => change(field, event.currentTarget.value)}
      error={errors[field]}
    />
  );

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="contact-form-title">
      <form onSubmit={submit} noValidate>
        <Stack>
          <Title order={2} size="h3" id="contact-form-title">
            {contact ? "Edit contact" : "New contact"}
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {input("first_name", "First name")}
            {input("last_name", "Last name")}
            {input("email", "Email", "email")}
            {input("phone", "Phone", "tel")}
            {input("title", "Job title")}
            <NativeSelect
              label="Lifecycle stage"
              value={values.lifecycle_stage}
              onChange={(event) => change("lifecycle_stage", event.currentTarget.value)}
              error={errors.lifecycle_stage}
              data={[{ value: "", label: "—" }, ...LIFECYCLE_STAGES.map((stage) => ({ value: stage, label: stage }))]}
            />
          </SimpleGrid>
          {existingId && (
            <Anchor component={Link} to={`/contacts/${existingId}`} size="sm">
              Open the contact with this email
            </Anchor>
          )}
          {problem && (
            <Alert color="red" role="alert" title={problem.status === 412 ? "Changed by someone else" : "Not saved"}>
              {problem.status === 412
                ? "This contact changed since you opened it, so nothing was saved. Load the current version: your changes stay in the form."
                : problem.message}
              {problem.status === 412 && base && (
                <Button mt="sm" size="xs" variant="light" onClick={() => reload.mutate(base.id)} loading={reload.isPending}>
                  Load the current version
                </Button>
              )}
            </Alert>
          )}
          <Group>
            <Button type="submit" loading={save.isPending}>
              {contact ? "Save changes" : "Create contact"}
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
