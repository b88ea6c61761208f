import { ActionIcon, Alert, Anchor, Badge, Button, Group, NativeSelect, Paper, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError, api, ifMatch, unwrap, type Schemas } from "../api/client";
import { recordKey } from "../components/ArchiveRestore";
import { type Picked, RecordPicker } from "../components/RecordPicker";
import { LoadError, Loading } from "../components/States";
import { RecordTimeline, timelineKey } from "../components/Timeline";
import { ProblemAlert } from "../forms/parts";
import { formErrors } from "../forms/useFormState";
import { formatDateTime, personName } from "../format";
import { currentCredential } from "../session";
import { STATUS_COLORS, exactMoney, quoteKey } from "./quotes/money";

type Quote = Schemas["Quote"];
type Line = { product_id: string; description: string; quantity: string; unit_price: string; discount: string; tax_rate: string };
const LINE_FIELDS = ["product_id", "description", "quantity", "unit_price", "discount", "tax_rate"] as const;
const NEW_LINE: Line = { product_id: "", description: "", quantity: "1", unit_price: "", discount: "", tax_rate: "" };

function linesOf(quote: Quote): Line[] {
  return (quote.line_items ?? []).map((line) => ({
    product_id: line.product_id ?? "",
    description: line.description ?? "",
    quantity: line.quantity,
    unit_price: line.unit_price,
    discount: line.discount === "0" ? "" : line.discount,
    tax_rate: line.tax_rate === "0" ? "" : line.tax_rate,
  }));
}

/** A line as sent: what is empty is left to the product's defaults (price, tax rate, name). */
function lineBody(line: Line) {
  return Object.fromEntries(
    LINE_FIELDS.filter((name) => line[name].trim() !== "").map((name) => [name, line[name].trim()]),
  ) as Schemas["LineItem"];
}

/** The quote's PDF, fetched with the session's credential (a link cannot send it) and shown in a frame. */
function PdfPreview({ quote }: { quote: Quote }) {
  const [url, setUrl] = useState<string | null>(null);
  const preview = useMutation({
    mutationFn: async () => {
      const credential = await currentCredential();
      const response = await fetch(`/v1/quotes/${quote.id}/pdf`, { headers: { Authorization: `Bearer ${credential}` } });
      if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
      return URL.createObjectURL(await response.blob());
    },
    onSuccess: (next) => setUrl((previous) => {
      if (previous) URL.revokeObjectURL(previous);
      return next;
    }),
  });
  useEffect(() => () => {
    if (url) URL.revokeObjectURL(url);
  }, [url]);
  return (
    <Stack gap="xs">
      <Group>
        <Button variant="default" onClick={() => preview.mutate()} loading={preview.isPending}>
          {url ? "Refresh PDF preview" : "Preview PDF"}
        </Button>
        {url && (
          <Anchor href={url} target="_blank" rel="noreferrer" download={`${quote.number}.pdf`}>
            Download {quote.number}.pdf
          </Anchor>
        )}
      </Group>
      {preview.isError && <ProblemAlert error={preview.error as ApiError} title="No PDF" />}
      {url && <iframe title={`PDF of quote ${quote.number}`} src={url} style={{ width: "100%", height: "32rem", border: "1px solid #ddd" }} />}
    </Stack>
  );
}

/** A draft's lines and terms, saved at the version read; the totals shown are the server's answer. */
function DraftEditor({ quote }: { quote: Quote }) {
  const queryClient = useQueryClient();
  const [lines, setLines] = useState<Line[]>(() => linesOf(quote));
  const [title, setTitle] = useState(quote.title ?? "");
  const [currency, setCurrency] = useState(quote.currency ?? "");
  const [validUntil, setValidUntil] = useState(quote.valid_until ?? "");
  const [contact, setContact] = useState<Picked | null>(quote.contact_id ? { id: quote.contact_id, label: "The quote's contact" } : null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<ApiError | null>(null);
  const products = useQuery({
    queryKey: ["products"],
    queryFn: () => unwrap(api.GET("/v1/products", { params: { query: { limit: 100, sort: "name" } } })),
  });
  const offered = (products.data?.items ?? []).filter((product) => product.active !== false || lines.some((line) => line.product_id === product.id));

  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH("/v1/quotes/{record_id}", {
          params: { path: { record_id: quote.id } },
          headers: ifMatch(quote.version),
          body: {
            title: title.trim() || null,
            currency: currency.trim().toUpperCase(),
            valid_until: validUntil || null,
            contact_id: contact?.id ?? null,
            line_items: lines.map(lineBody),
          } as Schemas["QuoteUpdate"],
        }),
      ),
    onSuccess: async (saved) => {
      setErrors({});
      setProblem(null);
      setLines(linesOf(saved));
      queryClient.setQueryData(quoteKey(saved.id), saved);
      await queryClient.invalidateQueries({ queryKey: timelineKey("quotes", saved.id) });
    },
    onError: (error) => {
      const shown = formErrors(error, ["title", "currency", "valid_until", "contact_id", "line_items"]);
      setErrors(shown.fields);
      setProblem(shown.problem);
    },
  });

  function change(index: number, name: keyof Line, value: string) {
    setLines((current) => current.map((line, at) => (at === index ? { ...line, [name]: value } : line)));
    setErrors((current) => Object.fromEntries(Object.entries(current).filter(([field]) => field !== `line_items[${index}].${name}`)));
  }
  const error = (index: number, name: keyof Line) => errors[`line_items[${index}].${name}`];

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="quote-lines-title">
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          setProblem(null);
          save.mutate();
        }}
      >
        <Stack>
          <Title order={2} size="h3" id="quote-lines-title">
            Quote builder
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Title" value={title} onChange={(event) => setTitle(event.currentTarget.value)} error={errors.title} />
            <TextInput label="Currency" maxLength={3} value={currency} onChange={(event) => setCurrency(event.currentTarget.value)} error={errors.currency} />
            <TextInput label="Valid until" type="date" value={validUntil} onChange={(event) => setValidUntil(event.currentTarget.value)} error={errors.valid_until} />
            <RecordPicker object="contacts" label="Contact" description="Whom it is sent to" value={contact} onChange={setContact} error={errors.contact_id} />
          </SimpleGrid>
          {errors.line_items && (
            <Text c="red" size="sm" role="alert">
              Lines: {errors.line_items}
            </Text>
          )}
          <div className="table-box">
            <table className="data-table" aria-label="Lines">
              <thead>
                <tr>
                  <th>Product</th>
                  <th>Description</th>
                  <th>Quantity</th>
                  <th>Unit price</th>
                  <th>Discount</th>
                  <th>Tax rate</th>
                  <th>
                    <span className="visually-hidden">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {lines.map((line, index) => (
                  <tr key={index} data-testid="quote-line">
                    <td>
                      <NativeSelect
                        aria-label={`Line ${index + 1} product`}
                        value={line.product_id}
                        onChange={(event) => change(index, "product_id", event.currentTarget.value)}
                        error={error(index, "product_id")}
                        data={[{ value: "", label: "No product" }, ...offered.map((product) => ({ value: product.id, label: `${product.sku} · ${product.name}` }))]}
                      />
                    </td>
                    <td>
                      <TextInput aria-label={`Line ${index + 1} description`} placeholder="The product's name" value={line.description} onChange={(event) => change(index, "description", event.currentTarget.value)} error={error(index, "description")} />
                    </td>
                    <td>
                      <TextInput aria-label={`Line ${index + 1} quantity`} inputMode="decimal" value={line.quantity} onChange={(event) => change(index, "quantity", event.currentTarget.value)} error={error(index, "quantity")} w={90} />
                    </td>
                    <td>
                      <TextInput aria-label={`Line ${index + 1} unit price`} inputMode="decimal" placeholder="The product's" value={line.unit_price} onChange={(event) => change(index, "unit_price", event.currentTarget.value)} error={error(index, "unit_price")} w={130} />
                    </td>
                    <td>
                      <TextInput aria-label={`Line ${index + 1} discount`} inputMode="decimal" placeholder="0.1 is 10%" value={line.discount} onChange={(event) => change(index, "discount", event.currentTarget.value)} error={error(index, "discount")} w={100} />
                    </td>
                    <td>
                      <TextInput aria-label={`Line ${index + 1} tax rate`} inputMode="decimal" placeholder="The product's" value={line.tax_rate} onChange={(event) => change(index, "tax_rate", event.currentTarget.value)} error={error(index, "tax_rate")} w={110} />
                    </td>
                    <td>
                      <ActionIcon variant="subtle" color="red" aria-label={`Remove line ${index + 1}`} onClick={() => setLines((current) => current.filter((_, at) => at !== index))}>
                        ×
                      </ActionIcon>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Group>
            <Button variant="default" onClick={() => setLines((current) => [...current, { ...NEW_LINE }])} disabled={lines.length >= 100}>
              Add line
            </Button>
            <Button type="submit" loading={save.isPending}>
              Save and total
            </Button>
          </Group>
          <ProblemAlert error={problem} title="Not saved" stale="This quote changed since you opened it: reload the page." />
        </Stack>
      </form>
    </Paper>
  );
}

function Totals({ quote }: { quote: Quote }) {
  const rows: [string, string][] = [
    ["Subtotal", quote.subtotal],
    ["Discount", quote.discount_total],
    ["Tax", quote.tax_total],
    ["Total", quote.total],
  ];
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="quote-totals-title">
      <Title order={2} size="h3" id="quote-totals-title">
        Totals
      </Title>
      <Text size="xs" c="dimmed">
        As saved, computed by the CRM: each line rounded to the currency's smallest unit.
      </Text>
      <table className="data-table" aria-label="Totals">
        <tbody>
          {(quote.line_items ?? []).map((line, index) => (
            <tr key={index}>
              <td>{line.description ?? `Line ${index + 1}`}</td>
              <td className="num">{exactMoney(line.total, quote.currency)}</td>
            </tr>
          ))}
          {rows.map(([label, amount]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td className="num" data-testid={`quote-${label.toLowerCase()}`}>
                {exactMoney(amount, quote.currency)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Paper>
  );
}

function SendQuote({ quote }: { quote: Quote }) {
  const queryClient = useQueryClient();
  const send = useMutation({
    mutationFn: () => unwrap(api.POST("/v1/quotes/{record_id}/send", { params: { path: { record_id: quote.id } }, body: {} })),
    onSuccess: async (sent) => {
      queryClient.setQueryData(quoteKey(sent.id), sent);
      await queryClient.invalidateQueries({ queryKey: timelineKey("quotes", sent.id) });
    },
  });
  if (quote.status !== "draft" && quote.status !== "sent") return null;
  return (
    <Stack gap="xs">
      <Group>
        <Button onClick={() => send.mutate()} loading={send.isPending}>
          {quote.status === "draft" ? "Send to the contact" : "Send the link again"}
        </Button>
      </Group>
      {send.isError && <ProblemAlert error={send.error as ApiError} title="Not sent" />}
      {send.isSuccess && (
        <Alert color="green" role="status">
          The contact was emailed a link to accept or decline it.
        </Alert>
      )}
    </Stack>
  );
}

/** An accepted quote becomes a contract: its total, currency, deal, contact and lines, over the term asked
 * here (POST /v1/contracts with its quote_id); the new contract opens. */
function CreateContract({ quote }: { quote: Quote }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const create = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/v1/contracts", { body: { quote_id: quote.id, start_date: start, end_date: end } as Schemas["ContractCreate"] })),
    onSuccess: async (created) => {
      await queryClient.invalidateQueries({ queryKey: ["contracts"] });
      navigate(`/contracts/${created.id}`);
    },
  });
  if (quote.status !== "accepted") return null;
  if (!open)
    return (
      <Group>
        <Button onClick={() => setOpen(true)}>Create contract</Button>
      </Group>
    );
  const shown = create.isError ? formErrors(create.error, ["start_date", "end_date"]) : { fields: {} as Record<string, string>, problem: null };
  return (
    <Paper withBorder p="md" component="section" aria-label="New contract from this quote">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate();
        }}
      >
        <Stack gap="xs">
          <Text size="sm">
            A contract for {exactMoney(quote.total, quote.currency)}, with this quote&apos;s deal, contact and lines.
          </Text>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput
              label="Start date"
              type="date"
              required
              value={start}
              error={shown.fields.start_date}
              onChange={(event) => setStart(event.currentTarget.value)}
            />
            <TextInput
              label="End date"
              type="date"
              required
              value={end}
              error={shown.fields.end_date}
              onChange={(event) => setEnd(event.currentTarget.value)}
            />
          </SimpleGrid>
          {shown.problem && <ProblemAlert error={shown.problem} title="No contract made" />}
          <Group>
            <Button type="submit" loading={create.isPending}>
              Create the contract
            </Button>
            <Button variant="default" onClick={() => setOpen(false)}>
              Cancel
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

/** One quote: its builder while a draft, its totals, its PDF, sending it, and its history. */
export default function QuoteDetail() {
  const { id = "" } = useParams();
  const quote = useQuery({
    queryKey: quoteKey(id),
    queryFn: () => unwrap(api.GET("/v1/quotes/{record_id}", { params: { path: { record_id: id } } })),
  });
  const deal = useQuery({
    queryKey: recordKey("deals", quote.data?.deal_id ?? ""),
    queryFn: () => unwrap(api.GET("/v1/deals/{record_id}", { params: { path: { record_id: quote.data!.deal_id! } } })),
    enabled: Boolean(quote.data?.deal_id),
  });
  const contact = useQuery({
    queryKey: recordKey("contacts", quote.data?.contact_id ?? ""),
    queryFn: () => unwrap(api.GET("/v1/contacts/{record_id}", { params: { path: { record_id: quote.data!.contact_id! } } })),
    enabled: Boolean(quote.data?.contact_id),
  });
  if (quote.isPending) return <Loading what="quote" />;
  if (quote.isError) return <LoadError what="quote" error={quote.error} retry={() => quote.refetch()} />;
  const record = quote.data;
  return (
    <Stack>
      <Group justify="space-between">
        <Group gap="sm">
          <Title order={1}>Quote {record.number}</Title>
          <Badge color={STATUS_COLORS[record.status] ?? "gray.7"} variant="outline" size="lg">
            {record.status}
          </Badge>
        </Group>
        <Anchor component={Link} to="/quotes">
          All quotes
        </Anchor>
      </Group>
      <Text size="sm">
        {record.title ? `${record.title} · ` : ""}On{" "}
        <Anchor component={Link} to={`/deals/${record.deal_id}`}>
          {deal.data?.name ?? "its deal"}
        </Anchor>
        {contact.data ? ` · for ${personName(contact.data)}` : ""} · updated {formatDateTime(record.updated_at)}
      </Text>
      {record.status === "draft" ? <DraftEditor key={record.version} quote={record} /> : null}
      <Totals quote={record} />
      <SendQuote quote={record} />
      <CreateContract quote={record} />
      <PdfPreview quote={record} />
      <RecordTimeline object="quotes" id={record.id} />
    </Stack>
  );
}
