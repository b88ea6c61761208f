import { Anchor, NativeSelect, SimpleGrid, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, ifMatch, unwrap, type Schemas } from "../api/client";
import { FormButtons, FormCard, ProblemAlert } from "../forms/parts";
import { takenValue, useFormState } from "../forms/useFormState";
import { useCustomForm } from "./CustomFields";

type Contact = Schemas["Contact"];
const FIELDS = ["first_name", "last_name", "email", "phone", "title", "lifecycle_stage", "birthday"] as const;
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
  // The tenant's own properties: inputs after the contact's fields, their errors (`custom.<name>`) at them.
  const custom = useCustomForm("contacts", base?.custom, (name) => form.clearErrors((field) => field === name));
  const form = useFormState<Values>(() => valuesOf(contact), [...FIELDS, ...custom.fields], {
    conflict: (error) => takenValue(error, "email", "Another contact has this email.", "contact"),
  });
  const { values, problem, field } = form;
  // A 409 names the contact that has the email already.
  const existingId = form.refusal?.status === 409 ? form.refusal.problem.existing_id : null;
  const taken = form.refusal ? takenValue(form.refusal, "email", "Another contact has this email.", "contact") : undefined;

  const save = useMutation({
    mutationFn: () => {
      if (!base) {
        const body = Object.fromEntries(
          FIELDS.filter((field) => values[field].trim()).map((field) => [field, values[field].trim()]),
        ) as Schemas["ContactCreate"];
        body.custom = custom.body(false);
        return unwrap(api.POST("/v1/contacts", { body }));
      }
      // Only what changed is sent; a field emptied is cleared (null).
      const body = Object.fromEntries(
        FIELDS.filter((field) => values[field].trim() !== (base[field] ?? "")).map((field) => [
          field,
          values[field].trim() || null,
        ]),
      ) as Schemas["ContactUpdate"];
      const changed = custom.body(true);
      // Sent key by key: the API merges them into the contact's (null removes one).
      if (changed) body.custom = changed;
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
    onError: form.fail,
  });

  /** After a 412: the current version becomes the base, under what the user changed. */
  const reload = useMutation({
    mutationFn: (id: string) => unwrap(api.GET("/v1/contacts/{record_id}", { params: { path: { record_id: id } } })),
    onSuccess: (current) => {
      form.rebase(valuesOf(base), valuesOf(current));
      setBase(current);
      queryClient.setQueryData(["contact", current.id], current);
    },
  });

  return (
    <FormCard id="contact-form-title" title={contact ? "Edit contact" : "New contact"} onSubmit={form.submit(save.mutate)}>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput label="First name" type="text" {...field("first_name")} />
        <TextInput label="Last name" type="text" {...field("last_name")} />
        <TextInput label="Email" type="email" {...field("email")} />
        <TextInput label="Phone" type="tel" {...field("phone")} />
        <TextInput label="Job title" type="text" {...field("title")} />
        <NativeSelect
          label="Lifecycle stage"
          {...field("lifecycle_stage")}
          data={[{ value: "", label: "—" }, ...LIFECYCLE_STAGES.map((stage) => ({ value: stage, label: stage }))]}
        />
        <TextInput
          label="Birthday"
          type="text"
          description="YYYY-MM-DD, or --MM-DD without the year: the owner is told on the day"
          {...field("birthday")}
        />
        {custom.inputs(form.errors)}
      </SimpleGrid>
      {existingId && (
        <Anchor component={Link} to={`/contacts/${existingId}`} size="sm">
          {taken?.link}
        </Anchor>
      )}
      <ProblemAlert
        error={problem}
        title="Not saved"
        stale="This contact changed since you opened it, so nothing was saved. Load the current version: your changes stay in the form."
        onReload={base ? () => reload.mutate(base.id) : undefined}
        reloading={reload.isPending}
      />
      <FormButtons submit={contact ? "Save changes" : "Create contact"} pending={save.isPending} onCancel={onCancel} />
    </FormCard>
  );
}
