import { Anchor, SimpleGrid, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { FormButtons, FormCard, ProblemAlert } from "../forms/parts";
import { takenValue, useFormState } from "../forms/useFormState";
import { useCustomForm } from "./CustomFields";

type Company = Schemas["Company"];
const FIELDS = ["name", "domain", "industry", "employees"] as const;
type Field = (typeof FIELDS)[number];

/** A new company, with the API's field errors shown next to their fields (a domain taken: a link to the
 * company that has it). */
export function CompanyForm({ onSaved, onCancel }: { onSaved: (saved: Company) => void; onCancel: () => void }) {
  const queryClient = useQueryClient();
  const custom = useCustomForm("companies", null, (name) => form.clearErrors((field) => field === name));
  const form = useFormState<Record<Field, string>>({ name: "", domain: "", industry: "", employees: "" }, [...FIELDS, ...custom.fields], {
    conflict: (error) => takenValue(error, "domain", "Another company has this domain.", "company"),
  });
  const { values, problem, field } = form;
  // A 409 names the company that has the domain already.
  const existingId = form.refusal?.status === 409 ? form.refusal.problem.existing_id : null;
  const taken = form.refusal ? takenValue(form.refusal, "domain", "Another company has this domain.", "company") : undefined;

  const save = useMutation({
    mutationFn: () => {
      const employees = values.employees.trim();
      const body: Schemas["CompanyCreate"] = {
        name: values.name.trim(),
        domain: values.domain.trim() || null,
        industry: values.industry.trim() || null,
        // A number typed is sent as one; anything else as typed, for the API to name the field.
        employees: employees ? (/^\d+$/.test(employees) ? Number(employees) : (employees as unknown as number)) : null,
        custom: custom.body(false),
      };
      return unwrap(api.POST("/v1/companies", { body }));
    },
    onSuccess: async (saved) => {
      queryClient.setQueryData(["company", saved.id], saved);
      await queryClient.invalidateQueries({ queryKey: ["companies"] });
      onSaved(saved);
    },
    onError: form.fail,
  });

  return (
    <FormCard id="company-form-title" title="New company" onSubmit={form.submit(save.mutate)}>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput label="Name" required {...field("name")} />
        <TextInput label="Domain" {...field("domain")} />
        <TextInput label="Industry" {...field("industry")} />
        <TextInput label="Employees" inputMode="numeric" {...field("employees")} />
        {custom.inputs(form.errors)}
      </SimpleGrid>
      {existingId && (
        <Anchor component={Link} to={`/companies/${existingId}`} size="sm">
          {taken?.link}
        </Anchor>
      )}
      <ProblemAlert error={problem} title="Not saved" />
      <FormButtons submit="Create company" pending={save.isPending} onCancel={onCancel} />
    </FormCard>
  );
}
