import { Anchor, Badge, Button, Group, Stack, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { api, unwrap, type ApiError, type Schemas } from "../../api/client";
import { Empty, QueryState } from "../../components/States";
import { ProblemAlert } from "../../forms/parts";
import { STATUS_COLORS, exactMoney } from "./money";

/** A deal's quotes, and a new draft quote on it (in the deal's currency, for its first contact), opened in
 * the quote builder. */
export function DealQuotes({ deal }: { deal: Schemas["Deal"] }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const quotes = useQuery({
    queryKey: ["quotes", { deal: deal.id }],
    queryFn: () => unwrap(api.GET("/v1/quotes", { params: { query: { deal_id: deal.id, limit: 100 } } })),
  });
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/quotes", {
          body: { deal_id: deal.id, currency: deal.currency ?? "EUR", contact_id: deal.contact_ids?.[0] ?? null, title: deal.name ?? null },
        }),
      ),
    onSuccess: async (quote) => {
      await queryClient.invalidateQueries({ queryKey: ["quotes"] });
      navigate(`/quotes/${quote.id}`);
    },
  });
  const rows = quotes.data?.items ?? [];
  return (
    <Stack component="section" aria-labelledby="deal-quotes-title" gap="xs">
      <Group justify="space-between">
        <Title order={2} size="h3" id="deal-quotes-title">
          Quotes
        </Title>
        {!deal.archived && (
          <Button size="xs" onClick={() => create.mutate()} loading={create.isPending}>
            New quote
          </Button>
        )}
      </Group>
      {create.isError && <ProblemAlert error={create.error as ApiError} title="No quote made" />}
      <QueryState query={quotes} what="quotes" />
      {quotes.isSuccess && rows.length === 0 && <Empty>No quotes on this deal yet.</Empty>}
      {rows.length > 0 && (
        <table className="data-table" aria-label="Quotes of this deal">
          <tbody>
            {rows.map((quote) => (
              <tr key={quote.id}>
                <td>
                  <Anchor component={Link} to={`/quotes/${quote.id}`}>
                    {quote.number}
                  </Anchor>
                </td>
                <td>
                  <Badge color={STATUS_COLORS[quote.status] ?? "gray.7"} variant="outline">
                    {quote.status}
                  </Badge>
                </td>
                <td className="num">{exactMoney(quote.total, quote.currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Stack>
  );
}
