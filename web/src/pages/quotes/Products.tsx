import { Badge, Button, Group, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
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

/** A new product: its SKU, name, one price and a tax rate (managers and admins). */
function ProductForm({ onDone }: { onDone: () => void }) {
  const queryClient = useQueryClient();
  const form = useFormState<Values>(EMPTY, FIELDS, {
    fieldOf,
    conflict: (error) => (error.problem.existing_id ? { field: "sku", message: "Another product has this SKU." } : undefined),
  });
  const { values, problem, field } = form;
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/products", {
          body: {
            sku: values.sku.trim(),
            name: values.name.trim(),
            prices: values.unit_price.trim() ? [{ currency: values.currency.trim().toUpperCase(), unit_price: values.unit_price.trim() }] : [],
            tax_rate: values.tax_rate.trim() || null,
          } as Schemas["ProductCreate"],
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["products"] });
      form.reset(EMPTY);
      onDone();
    },
    onError: form.fail,
  });
  return (
    <FormCard id="product-new-title" title="New product" onSubmit={form.submit(save.mutate)}>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput label="SKU" required {...field("sku")} />
        <TextInput label="Name" required {...field("name")} />
        <TextInput label="Currency" maxLength={3} description="ISO 4217, e.g. EUR" {...field("currency")} />
        <TextInput label="Unit price" inputMode="decimal" description="e.g. 1250.00" {...field("unit_price")} />
        <TextInput label="Tax rate" inputMode="decimal" description="A fraction: 0.2 is 20%" {...field("tax_rate")} />
      </SimpleGrid>
      <ProblemAlert error={problem} title="Not saved" />
      <FormButtons submit="Create product" pending={save.isPending} onCancel={onDone} />
    </FormCard>
  );
}

/** The product catalogue quotes are made from; managers and admins change it, everyone reads it. */
export default function Products() {
  const me = useMe();
  const [creating, setCreating] = useState(false);
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
