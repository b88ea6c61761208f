import { ActionIcon, Anchor, Button, Group, NativeSelect, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { type Picked, RecordPicker } from "../../components/RecordPicker";
import { FormCard, ProblemAlert } from "../../forms/parts";
import { useFormState } from "../../forms/useFormState";
import { contractKey, fromUnits, planDifference, receivablesKey } from "./plan";

type Row = { due_date: string; amount: string };
type Values = { value: string; currency: string; start_date: string; end_date: string; status: string; deal_id: string };
const FIELDS = ["company_id", "contact_id", "deal_id", "value", "currency", "start_date", "end_date", "status", "payment_plan"] as const;

/** A new contract: its company, contact and deal, its value and term, and a plan whose rows must sum to the
 * value (the difference shown as it is typed, exactly). No rows: the whole value is due on the start date. */
export default function NewContract() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  // undefined: not chosen here, the company of the link (`?company=`) stands; null: cleared.
  const [company, setCompany] = useState<Picked | null | undefined>(undefined);
  const [contact, setContact] = useState<Picked | null>(null);
  const [rows, setRows] = useState<Row[]>([]);
  const form = useFormState<Values>(
    { value: "", currency: "EUR", start_date: "", end_date: "", status: "active", deal_id: "" },
    FIELDS,
  );
  const companyId = company === undefined ? (params.get("company") ?? "") : (company?.id ?? "");
  const presetCompany = useQuery({
    queryKey: ["company-name", params.get("company")],
    queryFn: () => unwrap(api.GET("/v1/companies/{record_id}", { params: { path: { record_id: params.get("company")! } } })),
    enabled: Boolean(params.get("company")) && company === undefined,
  });
  const shownCompany =
    company !== undefined ? company : presetCompany.data ? { id: presetCompany.data.id, label: presetCompany.data.name ?? "(no name)" } : null;
  const deals = useQuery({
    queryKey: ["company-deals", companyId],
    queryFn: () => unwrap(api.GET("/v1/companies/{record_id}/deals", { params: { path: { record_id: companyId }, query: { limit: 50 } } })),
    enabled: Boolean(companyId),
  });

  const create = useMutation({
    mutationFn: () => {
      const { values } = form;
      const body = {
        company_id: companyId || null,
        contact_id: contact?.id ?? null,
        deal_id: values.deal_id || null,
        value: values.value.trim() || null,
        currency: values.currency.trim().toUpperCase() || null,
        start_date: values.start_date,
        end_date: values.end_date,
        status: values.status,
        ...(rows.length > 0 ? { payment_plan: rows.map((row) => ({ due_date: row.due_date, amount: row.amount.trim() })) } : {}),
      } as Schemas["ContractCreate"];
      return unwrap(api.POST("/v1/contracts", { body }));
    },
    onSuccess: async (created) => {
      queryClient.setQueryData(contractKey(created.id), created);
      if (created.company_id) await queryClient.invalidateQueries({ queryKey: receivablesKey(created.company_id) });
      await queryClient.invalidateQueries({ queryKey: ["contracts"] });
      navigate(`/contracts/${created.id}`);
    },
    onError: form.fail,
  });

  const difference = rows.length > 0 ? planDifference(form.values.value, rows.map((row) => row.amount)) : null;
  const currency = form.values.currency.trim().toUpperCase();
  function changeRow(index: number, name: keyof Row, value: string) {
    setRows((current) => current.map((row, at) => (at === index ? { ...row, [name]: value } : row)));
    form.clearErrors((field) => field === "payment_plan" || field.startsWith(`payment_plan[${index}]`));
  }
  const rowError = (index: number, name: keyof Row) => form.errors[`payment_plan[${index}].${name}`];

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>New contract</Title>
        <Anchor component={Link} to={companyId ? `/contracts?company=${companyId}` : "/contracts"}>
          All contracts
        </Anchor>
      </Group>
      <FormCard id="new-contract-title" title="Contract" onSubmit={form.submit(() => create.mutate())}>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <RecordPicker object="companies" label="Company" value={shownCompany} onChange={(next) => {
            setCompany(next);
            form.change("deal_id", "");
          }} error={form.errors.company_id} />
          <RecordPicker object="contacts" label="Contact" value={contact} onChange={setContact} error={form.errors.contact_id} />
          <NativeSelect
            label="Deal"
            description={companyId ? "One of the company's deals" : "Choose the company first"}
            {...form.field("deal_id")}
            data={[{ value: "", label: "No deal" }, ...(deals.data?.items ?? []).map((deal) => ({ value: deal.id, label: deal.name ?? "(no name)" }))]}
          />
          <NativeSelect label="Status" {...form.field("status")} data={[{ value: "active", label: "active" }, { value: "draft", label: "draft" }]} />
          <TextInput label="Value" inputMode="decimal" required {...form.field("value")} />
          <TextInput label="Currency" maxLength={3} required {...form.field("currency")} />
          <TextInput label="Start date" type="date" required {...form.field("start_date")} />
          <TextInput label="End date" type="date" description="The term's last day" required {...form.field("end_date")} />
        </SimpleGrid>
        <Stack gap="xs" component="fieldset" className="plain-fieldset">
          <Text component="legend" fw={600}>
            Payment plan
          </Text>
          {rows.length === 0 && (
            <Text size="sm" c="dimmed">
              No instalments: the whole value is due on the start date.
            </Text>
          )}
          {rows.map((row, index) => (
            <Group key={index} align="flex-start" data-testid="plan-row">
              <TextInput label={`Instalment ${index + 1} due date`} type="date" value={row.due_date} onChange={(event) => changeRow(index, "due_date", event.currentTarget.value)} error={rowError(index, "due_date")} />
              <TextInput label={`Instalment ${index + 1} amount`} inputMode="decimal" value={row.amount} onChange={(event) => changeRow(index, "amount", event.currentTarget.value)} error={rowError(index, "amount")} />
              <ActionIcon mt={26} variant="subtle" color="red" aria-label={`Remove instalment ${index + 1}`} onClick={() => setRows((current) => current.filter((_, at) => at !== index))}>
                ×
              </ActionIcon>
            </Group>
          ))}
          {rows.length > 0 && (
            <Text size="sm" aria-live="polite" data-testid="plan-difference" c={difference === 0n ? "teal.9" : "red.9"}>
              {difference === null
                ? "The value and every amount must be numbers (at most 4 decimal places) to compare them."
                : difference === 0n
                  ? "The instalments sum to the value."
                  : difference > 0n
                    ? `${fromUnits(difference)} ${currency} of the value is not in the plan yet.`
                    : `The instalments are ${fromUnits(-difference)} ${currency} over the value.`}
            </Text>
          )}
          {form.errors.payment_plan && (
            <Text c="red.9" size="sm" role="alert">
              Payment plan: {form.errors.payment_plan}
            </Text>
          )}
          <Group>
            <Button variant="default" onClick={() => setRows((current) => [...current, { due_date: "", amount: "" }])} disabled={rows.length >= 60}>
              Add instalment
            </Button>
          </Group>
        </Stack>
        <ProblemAlert error={form.problem} title="Not created" />
        <Group>
          <Button type="submit" loading={create.isPending}>
            Create contract
          </Button>
        </Group>
      </FormCard>
    </Stack>
  );
}
