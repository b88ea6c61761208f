import { Alert, Anchor, Badge, Button, Group, NativeSelect, Paper, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError, api, ifMatch, noContent, unwrap, type Schemas } from "../api/client";
import { Fields, companyLink } from "../components/Fields";
import { Empty, LoadError, Loading, QueryState } from "../components/States";
import { RecordTimeline, timelineKey } from "../components/Timeline";
import { useOwnerName } from "../components/owners";
import { ProblemAlert } from "../forms/parts";
import { useFormState } from "../forms/useFormState";
import { formatDate, formatDateTime, personName } from "../format";
import { exactMoney } from "./quotes/money";
import {
  CONTRACT_STATUS_COLORS,
  INSTALLMENT_COLORS,
  PAYMENT_METHODS,
  STATUS_MOVES,
  type ContractStatus,
  contractKey,
  receivablesKey,
  toUnits,
} from "./contracts/plan";

type Contract = Schemas["Contract"];
type Payment = Schemas["Payment"];

function paymentsKey(contractId: string) {
  return ["payments", contractId] as const;
}

/** After a payment or a move, what derives from the contract is read again: the contract, its payments, its
 * timeline and its company's receivables (the API's answers, never sums made here). */
function useRefresh(contract: Contract) {
  const queryClient = useQueryClient();
  return async () => {
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: contractKey(contract.id) }),
      queryClient.invalidateQueries({ queryKey: paymentsKey(contract.id) }),
      queryClient.invalidateQueries({ queryKey: timelineKey("contracts", contract.id) }),
      contract.company_id ? queryClient.invalidateQueries({ queryKey: receivablesKey(contract.company_id) }) : null,
    ]);
  };
}

/** The status, changed as it is chosen (a PATCH at the version shown, as the ticket view does): a 412 shows
 * the contract as it is now, to choose again; a 422 (a move the API refuses) shows under the select. */
function StatusMove({ contract }: { contract: Contract }) {
  const refresh = useRefresh(contract);
  const status = (contract.status ?? "draft") as ContractStatus;
  const move = useMutation({
    mutationFn: (next: ContractStatus) =>
      unwrap(api.PATCH("/v1/contracts/{record_id}", { params: { path: { record_id: contract.id } }, headers: ifMatch(contract.version), body: { status: next } })),
    onSuccess: refresh,
    onError: async (error) => {
      if (error instanceof ApiError && error.status === 412) await refresh();
    },
  });
  const failed = move.error instanceof ApiError ? move.error : null;
  const moves = STATUS_MOVES[status];
  return (
    <Stack gap="xs">
      <NativeSelect
        label="Status"
        description={moves.length ? "Saved as you choose" : "Final: no further moves"}
        value={status}
        disabled={moves.length === 0 || move.isPending}
        onChange={(event) => move.mutate(event.currentTarget.value as ContractStatus)}
        error={failed?.status === 422 ? (failed.fieldErrors().status ?? failed.message) : undefined}
        data={[status, ...moves].map((value) => ({ value, label: value }))}
        maw={240}
      />
      {failed && failed.status !== 422 && (
        <ProblemAlert error={failed} stale="This contract changed since the page loaded, so nothing was saved. It shows as it is now: choose again." />
      )}
    </Stack>
  );
}

/** The plan with what is paid of each instalment (payments applied to the oldest first, by the API). */
function PaymentPlan({ contract }: { contract: Contract }) {
  const currency = contract.currency;
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="contract-plan-title">
      <Title order={2} size="h3" id="contract-plan-title">
        Payment plan
      </Title>
      <SimpleGrid cols={{ base: 2, sm: 4 }} my="sm">
        {(
          [
            ["Value", contract.value],
            ["Paid", contract.paid],
            ["Outstanding", contract.outstanding],
            ["Overdue", contract.overdue],
          ] as const
        ).map(([label, amount]) => (
          <div key={label}>
            <Text size="xs" c="dimmed">
              {label}
            </Text>
            <Text fw={600} data-testid={`contract-${label.toLowerCase()}`}>
              {exactMoney(amount, currency)}
            </Text>
          </div>
        ))}
      </SimpleGrid>
      <div className="table-box">
        <table className="data-table" aria-label="Instalments">
          <thead>
            <tr>
              <th>Due</th>
              <th className="num">Amount</th>
              <th className="num">Paid</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {(contract.installments ?? []).map((installment, index) => (
              <tr key={index} data-testid="installment">
                <td>{formatDate(installment.due_date)}</td>
                <td className="num">{exactMoney(installment.amount, currency)}</td>
                <td className="num">{exactMoney(installment.paid, currency)}</td>
                <td>
                  <Badge color={INSTALLMENT_COLORS[installment.status] ?? "gray.7"} variant="outline">
                    {installment.status}
                  </Badge>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Paper>
  );
}

/** A local date and time input's value (`2026-11-27T10:30`) as the instant it means, for `received_at`. */
function localToIso(value: string) {
  return value ? new Date(value).toISOString() : null;
}

type PaymentValues = { amount: string; received_at: string; method: string; reference: string };
const PAYMENT_FIELDS = ["amount", "received_at", "method", "reference"] as const;

/** Recording money received: at most what is outstanding, in the contract's currency (the API's 422s show at
 * their fields). Two people recording at once cannot both take the same cents: the API checks what is
 * outstanding when the payment commits, so this form sends no version. */
function RecordPayment({ contract }: { contract: Contract }) {
  const refresh = useRefresh(contract);
  const blank: PaymentValues = { amount: "", received_at: "", method: "bank_transfer", reference: "" };
  const form = useFormState<PaymentValues>(blank, PAYMENT_FIELDS);
  const record = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/payments", {
          body: {
            contract_id: contract.id,
            currency: contract.currency ?? "",
            amount: form.values.amount.trim(),
            received_at: localToIso(form.values.received_at),
            method: form.values.method as Payment["method"],
            reference: form.values.reference.trim() || null,
          },
        }),
      ),
    onSuccess: async () => {
      form.reset(blank);
      await refresh();
    },
    onError: form.fail,
  });
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="record-payment-title">
      <form noValidate onSubmit={form.submit(() => record.mutate())}>
        <Stack>
          <Title order={2} size="h3" id="record-payment-title">
            Record a payment
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Amount" inputMode="decimal" required description={`In ${contract.currency ?? "the contract's currency"}, at most ${exactMoney(contract.outstanding, contract.currency)}`} {...form.field("amount")} />
            <TextInput label="Received at" type="datetime-local" description="Empty: now" {...form.field("received_at")} />
            <NativeSelect label="Method" {...form.field("method")} data={PAYMENT_METHODS.map((value) => ({ value, label: value.replace("_", " ") }))} />
            <TextInput label="Reference" maxLength={200} {...form.field("reference")} />
          </SimpleGrid>
          <ProblemAlert error={form.problem} title="Not recorded" />
          <Group>
            <Button type="submit" loading={record.isPending}>
              Record payment
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

/** The contract's payments, newest first; voiding one (at the version listed) takes it off `paid`. */
function Payments({ contract }: { contract: Contract }) {
  const refresh = useRefresh(contract);
  const [confirming, setConfirming] = useState<string | null>(null);
  const payments = useQuery({
    queryKey: paymentsKey(contract.id),
    queryFn: () => unwrap(api.GET("/v1/payments", { params: { query: { contract_id: contract.id, limit: 100, sort: "-received_at" } } })),
  });
  const voiding = useMutation({
    mutationFn: (payment: Payment) =>
      noContent(api.DELETE("/v1/payments/{record_id}", { params: { path: { record_id: payment.id } }, headers: ifMatch(payment.version) })),
    onSuccess: async () => {
      setConfirming(null);
      await refresh();
    },
    onError: async (error) => {
      setConfirming(null);
      if (error instanceof ApiError && error.status === 412) await refresh();
    },
  });
  const items = payments.data?.items ?? [];
  return (
    <Stack gap="xs" component="section" aria-labelledby="payments-title">
      <Title order={2} size="h3" id="payments-title">
        Payments received
      </Title>
      <QueryState query={payments} what="payments" />
      {payments.isSuccess && items.length === 0 && <Empty>No payments yet.</Empty>}
      {items.length > 0 && (
        <div className="table-box">
          <table className="data-table" aria-label="Payments">
            <thead>
              <tr>
                <th>Received</th>
                <th className="num">Amount</th>
                <th className="from-sm">Method</th>
                <th className="from-sm">Reference</th>
                <th>
                  <span className="visually-hidden">Void</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((payment) => (
                <tr key={payment.id} data-testid="payment-row">
                  <td>{formatDateTime(payment.received_at)}</td>
                  <td className="num">{exactMoney(payment.amount, payment.currency)}</td>
                  <td className="from-sm">{payment.method?.replace("_", " ") ?? "—"}</td>
                  <td className="from-sm">{payment.reference ?? "—"}</td>
                  <td>
                    {confirming === payment.id ? (
                      <Group gap="xs" wrap="nowrap">
                        <Button size="xs" color="red" loading={voiding.isPending} onClick={() => voiding.mutate(payment)}>
                          Void {payment.amount}
                        </Button>
                        <Button size="xs" variant="default" onClick={() => setConfirming(null)}>
                          Keep
                        </Button>
                      </Group>
                    ) : (
                      <Button size="xs" variant="subtle" color="red" onClick={() => setConfirming(payment.id)} aria-label={`Void the payment of ${payment.amount} ${payment.currency}`}>
                        Void…
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {voiding.error instanceof ApiError && (
        <ProblemAlert error={voiding.error} title="Not voided" stale="This payment changed since the page loaded, so it was not voided. The list shows it as it is now." />
      )}
      <Text size="xs" c="dimmed">
        A voided payment is not restored: record it again.
      </Text>
    </Stack>
  );
}

/** Renewal makes the next term's contract (the API fills in what the old one implies) and opens it. */
function Renew({ contract }: { contract: Contract }) {
  const navigate = useNavigate();
  const refresh = useRefresh(contract);
  const renew = useMutation({
    mutationFn: () => unwrap(api.POST("/v1/contracts/{record_id}/renew", { params: { path: { record_id: contract.id } }, body: {} })),
    onSuccess: async (next) => {
      await refresh();
      navigate(`/contracts/${next.id}`);
    },
  });
  if (contract.renewed_to) {
    return (
      <Text size="sm">
        Renewed:{" "}
        <Anchor component={Link} to={`/contracts/${contract.renewed_to}`}>
          the next term's contract
        </Anchor>
      </Text>
    );
  }
  if (contract.status !== "active" && contract.status !== "expired") return null;
  return (
    <Stack gap="xs">
      <Group>
        <Button variant="default" onClick={() => renew.mutate()} loading={renew.isPending}>
          Renew for another term
        </Button>
      </Group>
      <Text size="xs" c="dimmed">
        The new contract starts the day after this one ends, as long, at the same value and plan.
      </Text>
      {renew.error instanceof ApiError && <ProblemAlert error={renew.error} title="Not renewed" />}
    </Stack>
  );
}

/** One contract: its term and value, its status and moves, the plan's state, its payments, and renewal. */
export default function ContractDetail() {
  const { id = "" } = useParams();
  const ownerName = useOwnerName();
  const contract = useQuery({
    queryKey: contractKey(id),
    queryFn: () => unwrap(api.GET("/v1/contracts/{record_id}", { params: { path: { record_id: id }, query: { expand: "company,contact,deal" } } })),
  });
  if (contract.isPending) return <Loading what="contract" />;
  if (contract.isError) return <LoadError what="contract" error={contract.error} retry={() => contract.refetch()} />;
  const record = contract.data as Schemas["ContractWithRelated"];
  return (
    <Stack>
      <Group justify="space-between">
        <Group gap="sm">
          <Title order={1}>Contract {record.number}</Title>
          <Badge color={CONTRACT_STATUS_COLORS[record.status ?? ""] ?? "gray.7"} variant="outline" size="lg" data-testid="contract-status">
            {record.status}
          </Badge>
        </Group>
        <Anchor component={Link} to={record.company_id ? `/contracts?company=${record.company_id}` : "/contracts"}>
          {record.company_id ? "The company's contracts" : "All contracts"}
        </Anchor>
      </Group>
      {record.archived && (
        <Alert color="gray" role="status">
          This contract is archived.
        </Alert>
      )}
      <Fields
        fields={[
          ["Company", companyLink(record.company_id, record.company ?? undefined)],
          ["Contact", record.contact ? <Anchor component={Link} to={`/contacts/${record.contact.id}`}>{personName(record.contact)}</Anchor> : null],
          ["Deal", record.deal ? <Anchor component={Link} to={`/deals/${record.deal.id}`}>{record.deal.name}</Anchor> : null],
          ["Term", `${formatDate(record.start_date)} – ${formatDate(record.end_date)}`],
          ["Value", exactMoney(record.value, record.currency)],
          ["Owner", ownerName(record.owner_id)],
          ["Renewed from", record.renewed_from ? <Anchor component={Link} to={`/contracts/${record.renewed_from}`}>the previous term's contract</Anchor> : null],
          ["Updated", formatDateTime(record.updated_at)],
        ]}
      />
      <StatusMove key={`${record.version}-status`} contract={record} />
      <PaymentPlan contract={record} />
      {!record.archived && (toUnits(record.outstanding ?? "") ?? 0n) > 0n && <RecordPayment contract={record} />}
      <Payments contract={record} />
      <Renew contract={record} />
      <RecordTimeline object="contracts" id={record.id} />
    </Stack>
  );
}
