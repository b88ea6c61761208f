import { Alert, Anchor, Button, Group, Paper, SimpleGrid, Stack, TextInput, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { ApiError, api, unwrap, type Schemas } from "../api/client";

type Company = Schemas["Company"];
const FIELDS = ["name", "domain", "industry", "employees"] as const;
type Field = (typeof FIELDS)[number];

/** A new company, with the API's field errors shown next to their fields (a domain taken: a link to the
 * company that has it). */
export function CompanyForm({ onSaved, onCancel }: { onSaved: (saved: Company) => void; onCancel: () => void }) {
  const queryClient = useQueryClient();
  const [values, setValues] = useState<Record<Field, string>>({ name: "", domain: "", industry: "", employees: "" });
  const [errors, setErrors] = useState<Partial<Record<string, string>>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [existingId, setExistingId] = useState<string | null>(null);

  const save = useMutation({
    mutationFn: () => {
      const employees = values.employees.trim();
      const body: Schemas["CompanyCreate"] = {
        name: values.name.trim(),
        domain: values.domain.trim() || null,
        industry: values.industry.trim() || null,
        // A number typed is sent as one; anything else as typed, for the API to name the field.
        employees: employees ? (/^\d+$/.test(employees) ? Number(employees) : (employees as unknown as number)) : null,
      };
      return unwrap(api.POST("/v1/companies", { body }));
    },
    onSuccess: async (saved) => {
      queryClient.setQueryData(["company", saved.id], saved);
      await queryClient.invalidateQueries({ queryKey: ["companies"] });
      onSaved(saved);
    },
    onError: (error) => {
      if (!(error instanceof ApiError)) {
        setProblem("The CRM could not be reached. Try again.");
        return;
      }
      const fieldErrors = error.fieldErrors();
      if (error.status === 409 && error.problem.existing_id) {
        fieldErrors.domain ??= "Another company has this domain.";
        setExistingId(error.problem.existing_id);
      }
      setErrors(fieldErrors);
      const shownByFields = Object.keys(fieldErrors).some((field) => (FIELDS as readonly string[]).includes(field));
      setProblem(shownByFields ? null : error.message);
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

  const input = (field: Field, label: string, extra: { required?: boolean; inputMode?: "numeric" } = {}) => (
    <TextInput
      label={label}
      value={values[field]}
      onChange={(event) => change(field, event.currentTarget.value)}
      error={errors[field]}
      {...extra}
    />
  );

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="company-form-title">
      <form onSubmit={submit} noValidate>
        <Stack>
          <Title order={2} size="h3" id="company-form-title">
            New company
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {input("name", "Name", { required: true })}
            {input("domain", "Domain")}
            {input("industry", "Industry")}
            {input("employees", "Employees", { inputMode: "numeric" })}
          </SimpleGrid>
          {existingId && (
            <Anchor component={Link} to={`/companies/${existingId}`} size="sm">
              Open the company with this domain
            </Anchor>
          )}
          {problem && (
            <Alert color="red" role="alert" title="Not saved">
              {problem}
            </Alert>
          )}
          <Group>
            <Button type="submit" loading={save.isPending}>
              Create company
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
