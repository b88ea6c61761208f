import { Badge, Button, Group, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { ApiError, api, ifMatch, noContent, unwrap, type Schemas } from "../../api/client";
import { Empty, QueryState } from "../../components/States";
import { FormButtons, FormCard, ProblemAlert } from "../../forms/parts";
import { useFormState } from "../../forms/useFormState";
import { useMe } from "../../Shell";
import { exactMoney } from "./money";

const FIELDS = ["sku", "name", "currency", "unit_price", "tax_rate"] as const;
type Values = Record<(typeof FIELDS)[number], string>;
const EMPTY: Values = { sku: "", name: "", currency: "EUR", unit_price: "", tax_rate: "" };

// The API names a price's fields by its place: prices[0].currency, prices[0].unit_price.
function fieldOf(apiField: string): string {
  const price = /^prices\[0\]\.(currency|unit_price)$/.exec(apiField);
  return price ? price[1]! : apiField;
}

type Product = Schemas["Product"];

function valuesOf(product: Product): Values {
  const first = product.prices?.[0];
  return {
    sku: product.sku ?? "",
    name: product.name ?? "",
    currency: first?.currency ?? "EUR",
    unit_price: first?.unit_price ?? "",
    tax_rate: product.tax_rate ?? "",
  };
}

/** A new product, or a change of one (``product``): its SKU, name, first price and tax rate (managers and
 * admins). A change keeps the product's other prices. */
function ProductForm({ product, onDone }: { product?: Product; onDone: () => void }) {
  const queryClient = useQueryClient();
  const form = useFormState<Values>(product ? valuesOf(product) : EMPTY, FIELDS, {
    fieldOf,
    conflict: (error) => (error.problem.existing_id ? { field: "sku", message: "Another product has this SKU." } : undefined),
  });
  const { values, problem, field } = form;
  const save = useMutation({
    mutationFn: () => {
      const currency = values.currency.trim().toUpperCase();
      const others = (product?.prices ?? []).slice(1).filter((price) => price.currency !== currency);
      const body = {
        sku: values.sku.trim(),
        name: values.name.trim(),
        prices: [...(values.unit_price.trim() ? [{ currency, unit_price: values.unit_price.trim() }] : []), ...others],
        tax_rate: values.tax_rate.trim() || null,
      };
      if (!product) return unwrap(api.POST("/v1/products", { body: body as Schemas["ProductCreate"] }));
      return unwrap(
        api.PATCH("/v1/products/{record_id}", {
          params: { path: { record_id: product.id } },
          headers: ifMatch(product.version),
          body: body as Schemas["ProductUpdate"],
        }),
      );
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["products"] });
      form.reset(EMPTY);
      onDone();
    },
    onError: form.fail,
  });
  const title = product ? `Edit ${product.name}` : "New product";
  return (
    <FormCard id={product ? `product-${product.id}-title` : "product-new-title"} title={title} onSubmit={form.submit(save.mutate)}>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput label="SKU" required {...field("sku")} />
        <TextInput label="Name" required {...field("name")} />
        <TextInput label="Currency" maxLength={3} description="ISO 4217, e.g. EUR" {...field("currency")} />
        <TextInput label="Unit price" inputMode="decimal" description="e.g. 1250.00" {...field("unit_price")} />
        <TextInput label="Tax rate" inputMode="decimal" description="A fraction: 0.2 is 20%" {...field("tax_rate")} />
      </SimpleGrid>
      <ProblemAlert
        error={problem}
        title="Not saved"
        stale="This product changed since the page loaded, so it was not saved. Cancel and edit it again."
      />
      <FormButtons submit={product ? "Save product" : "Create product"} pending={save.isPending} onCancel={onDone} />
    </FormCard>
  );
}

/** A product's actions: edit, (de)activate (an inactive product is not offered on new quote lines) and archive
 * (after a confirmation; quotes made from it keep their lines). */
function ProductActions({ product, onEdit }: { product: Product; onEdit: () => void }) {
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["products"] });
  const options = { params: { path: { record_id: product.id } }, headers: ifMatch(product.version) };
  const activation = useMutation({
    mutationFn: () => unwrap(api.PATCH("/v1/products/{record_id}", { ...options, body: { active: product.active === false } })),
    onSettled: refresh,
  });
  const archiving = useMutation({
    mutationFn: () => noContent(api.DELETE("/v1/products/{record_id}", options)),
    onSettled: async () => {
      setConfirming(false);
      await refresh();
    },
  });
  const error = activation.error ?? archiving.error;
  const inactive = product.active === false;
  return (
    <Stack gap={4}>
      <Group gap="xs" wrap="nowrap">
        <Button size="xs" variant="default" onClick={onEdit} aria-label={`Edit ${product.name}`}>
          Edit
        </Button>
        <Button size="xs" variant="default" loading={activation.isPending} onClick={() => activation.mutate()} aria-label={`${inactive ? "Activate" : "Deactivate"} ${product.name}`}>
          {inactive ? "Activate" : "Deactivate"}
        </Button>
        {confirming ? (
          <>
            <Button size="xs" color="red" loading={archiving.isPending} onClick={() => archiving.mutate()}>
              Archive {product.sku}
            </Button>
            <Button size="xs" variant="default" onClick={() => setConfirming(false)}>
              Keep
            </Button>
          </>
        ) : (
          <Button size="xs" variant="subtle" color="red" onClick={() => setConfirming(true)} aria-label={`Archive ${product.name}`}>
            Archive…
          </Button>
        )}
      </Group>
      {error instanceof ApiError && (
        <ProblemAlert error={error} title="Not changed" stale="This product changed since the page loaded; the list shows it as it is now." />
      )}
    </Stack>
  );
}

/** The product catalogue quotes are made from; managers and admins change it, everyone reads it. */
export default function Products() {
  const me = useMe();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const products = useQuery({
    queryKey: ["products"],
    queryFn: () => unwrap(api.GET("/v1/products", { params: { query: { limit: 100, sort: "name" } } })),
  });
  const role = me.data?.role;
  const manages = role === "admin" || role === "manager";
  const rows = products.data?.items ?? [];
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>Products</Title>
        <Group gap="xs">
          <Button component={Link} to="/quotes" variant="default">
            Quotes
          </Button>
          {manages && !creating && <Button onClick={() => setCreating(true)}>New product</Button>}
        </Group>
      </Group>
      {!manages && me.isSuccess && (
        <Text size="sm" c="dimmed">
          Managers and admins change the products.
        </Text>
      )}
      {creating && <ProductForm onDone={() => setCreating(false)} />}
      {rows
        .filter((product) => product.id === editing)
        .map((product) => (
          <ProductForm key={`${product.id}-${product.version}`} product={product} onDone={() => setEditing(null)} />
        ))}
      <QueryState query={products} what="products" />
      {products.isSuccess && rows.length === 0 && <Empty>No products yet.</Empty>}
      {rows.length > 0 && (
        <div className="table-box">
          <table className="data-table" aria-label="Products">
            <thead>
              <tr>
                <th>SKU</th>
                <th>Name</th>
                <th>Prices</th>
                <th className="from-sm">Tax rate</th>
                <th className="from-sm">Active</th>
                {manages && (
                  <th>
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {rows.map((product) => (
                <tr key={product.id} data-testid="product-row">
                  <td>{product.sku}</td>
                  <td>{product.name}</td>
                  <td>{(product.prices ?? []).map((price) => exactMoney(price.unit_price, price.currency)).join(", ") || "—"}</td>
                  <td className="from-sm">{product.tax_rate ?? "—"}</td>
                  <td className="from-sm">
                    <Badge variant="outline" color={product.active === false ? "gray.7" : "teal.9"}>
                      {product.active === false ? "inactive" : "active"}
                    </Badge>
                  </td>
                  {manages && (
                    <td>
                      <ProductActions product={product} onEdit={() => setEditing(product.id)} />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {products.data?.next_cursor && (
        <Text size="sm" c="dimmed">
          The first 100 products by name.
        </Text>
      )}
    </Stack>
  );
}
