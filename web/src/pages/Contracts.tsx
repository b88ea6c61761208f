import { Anchor, Badge, Button, Group, NativeSelect, Stack, Text, Title } from "@mantine/core";
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { DebouncedFilter, useUrlFilters } from "../components/ListFilters";
import { useOwnerName } from "../components/owners";
import { Empty, QueryState } from "../components/States";
import { formatDate } from "../format";
import { exactMoney } from "./quotes/money";
import { CONTRACT_STATUSES, CONTRACT_STATUS_COLORS, type ContractStatus } from "./contracts/plan";

const FILTERS = ["q", "status", "company"] as const;

/** The tenant's contracts (or one company's, `?company=`), newest first, with what each has outstanding. */
export default function Contracts() {
  const filters = useUrlFilters(FILTERS);
  const { q, status, company } = filters.values;
  const ownerName = useOwnerName();
  const contracts = useInfiniteQuery({
    queryKey: ["contracts", filters.values],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/v1/contracts", {
          params: {
            query: {
              q: q || undefined,
              status: (status || undefined) as ContractStatus | undefined,
              company_id: company || undefined,
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
  const rows = contracts.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>Contracts</Title>
        <Button component={Link} to={company ? `/contracts/new?company=${company}` : "/contracts/new"}>
          New contract
        </Button>
      </Group>
      {company && (
        <Text size="sm">
          Of one company.{" "}
          <Anchor component={Link} to={`/companies/${company}`}>
            Open the company
          </Anchor>{" "}
          ·{" "}
          <Anchor component={Link} to="/contracts">
            All contracts
          </Anchor>
        </Text>
      )}
      <Group align="flex-end" gap="sm" role="search" aria-label="Filter contracts">
        <DebouncedFilter label="Search" description="Number or name" type="search" value={q} onChange={(value) => filters.set("q", value)} maw={260} />
        <NativeSelect
          label="Status"
          value={status}
          onChange={(event) => filters.set("status", event.currentTarget.value)}
          data={[{ value: "", label: "Any status" }, ...CONTRACT_STATUSES.map((value) => ({ value, label: value }))]}
        />
      </Group>
      <QueryState query={contracts} what="contracts" />
      {contracts.isSuccess && rows.length === 0 && <Empty>{filters.active ? "No contract matches these filters." : "No contracts yet."}</Empty>}
      {rows.length > 0 && (
        <div className="table-box">
          <table className="data-table" aria-label="Contracts" aria-busy={contracts.isFetching}>
            <thead>
              <tr>
                <th>Number</th>
                <th>Status</th>
                <th className="from-sm">Term</th>
                <th className="num">Value</th>
                <th className="num">Outstanding</th>
                <th className="num from-sm">Overdue</th>
                <th className="from-md">Owner</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((contract) => (
                <tr key={contract.id} data-testid="contract-row">
                  <td>
                    <Anchor component={Link} to={`/contracts/${contract.id}`}>
                      {contract.number}
                    </Anchor>
                  </td>
                  <td>
                    <Badge color={CONTRACT_STATUS_COLORS[contract.status ?? ""] ?? "gray.7"} variant="outline">
                      {contract.status}
                    </Badge>
                  </td>
                  <td className="from-sm">
                    {formatDate(contract.start_date)} – {formatDate(contract.end_date)}
                  </td>
                  <td className="num">{exactMoney(contract.value, contract.currency)}</td>
                  <td className="num">{exactMoney(contract.outstanding, contract.currency)}</td>
                  <td className="num from-sm">{exactMoney(contract.overdue, contract.currency)}</td>
                  <td className="from-md">{ownerName(contract.owner_id)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {contracts.hasNextPage && (
        <Group>
          <Button variant="default" onClick={() => contracts.fetchNextPage()} loading={contracts.isFetchingNextPage}>
            Load more
          </Button>
        </Group>
      )}
    </Stack>
  );
}
