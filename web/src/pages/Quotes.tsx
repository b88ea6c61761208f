import { Anchor, Badge, Button, Group, NativeSelect, Stack, Text, Title } from "@mantine/core";
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { DebouncedFilter, useUrlFilters } from "../components/ListFilters";
import { useOwnerName } from "../components/owners";
import { Empty, QueryState } from "../components/States";
import { formatDateTime } from "../format";
import { QUOTE_STATUSES, STATUS_COLORS, exactMoney } from "./quotes/money";

const FILTERS = ["q", "status"] as const;
type Status = (typeof QUOTE_STATUSES)[number];

/** Every quote of the tenant, newest first; a quote is made on its deal's page (the quote builder). */
export default function Quotes() {
  const filters = useUrlFilters(FILTERS);
  const { q, status } = filters.values;
  const ownerName = useOwnerName();
  const quotes = useInfiniteQuery({
    queryKey: ["quotes", filters.values],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/v1/quotes", {
          params: {
            query: {
              q: q || undefined,
              status: (status || undefined) as Status | undefined,
              cursor: pageParam,
              limit: 25,
            },
          },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const rows = quotes.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>Quotes</Title>
        <Button component={Link} to="/quotes/products" variant="default">
          Products
        </Button>
      </Group>
      <Text size="sm" c="dimmed">
        A quote is made on its deal: open the deal and press New quote.
      </Text>
      <Group align="flex-end" gap="sm" role="search" aria-label="Filter quotes">
        <DebouncedFilter label="Search" description="Number or title" type="search" value={q} onChange={(value) => filters.set("q", value)} maw={260} />
        <NativeSelect
          label="Status"
          value={status}
          onChange={(event) => filters.set("status", event.currentTarget.value)}
          data={[{ value: "", label: "Any status" }, ...QUOTE_STATUSES.map((value) => ({ value, label: value }))]}
        />
      </Group>
      <QueryState query={quotes} what="quotes" />
      {quotes.isSuccess && rows.length === 0 && <Empty>{filters.active ? "No quote matches these filters." : "No quotes yet."}</Empty>}
      {rows.length > 0 && (
        <div className="table-box">
          <table className="data-table" aria-label="Quotes" aria-busy={quotes.isFetching}>
            <thead>
              <tr>
                <th>Number</th>
                <th className="from-sm">Title</th>
                <th>Status</th>
                <th className="num">Total</th>
                <th className="from-md">Owner</th>
                <th className="from-md">Updated</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((quote) => (
                <tr key={quote.id} data-testid="quote-row">
                  <td>
                    <Anchor component={Link} to={`/quotes/${quote.id}`}>
                      {quote.number}
                    </Anchor>
                  </td>
                  <td className="from-sm">{quote.title ?? "—"}</td>
                  <td>
                    <Badge color={STATUS_COLORS[quote.status] ?? "gray.7"} variant="outline">
                      {quote.status}
                    </Badge>
                  </td>
                  <td className="num">{exactMoney(quote.total, quote.currency)}</td>
                  <td className="from-md">{ownerName(quote.owner_id)}</td>
                  <td className="from-md">{formatDateTime(quote.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {quotes.hasNextPage && (
        <Group>
          <Button variant="default" onClick={() => quotes.fetchNextPage()} loading={quotes.isFetchingNextPage}>
            Load more
          </Button>
        </Group>
      )}
    </Stack>
  );
}
