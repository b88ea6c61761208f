import { Anchor, Button, Group, Stack, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { Empty, QueryState } from "../components/States";
import { formatDateTime, formatNumber } from "../format";

export default function Companies() {
  const [search, setSearch] = useState("");
  const [q] = useDebouncedValue(search.trim(), 250);
  const companies = useInfiniteQuery({
    queryKey: ["companies", { q }],
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/v1/companies", { params: { query: { q: q || undefined, cursor: pageParam, limit: 25 } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const rows = companies.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <Stack>
      <Title order={1}>Companies</Title>
      <TextInput
        label="Search"
        type="search"
        value={search}
        onChange={(event) => setSearch(event.currentTarget.value)}
        maw={420}
      />
      <QueryState query={companies} what="companies" />
      {companies.isSuccess && rows.length === 0 && <Empty>{q ? `No company matches “${q}”.` : "No companies yet."}</Empty>}
      {rows.length > 0 && (
        <table className="data-table" aria-label="Companies">
          <thead>
            <tr>
              <th>Name</th>
              <th>Domain</th>
              <th className="from-sm">Industry</th>
              <th className="from-md">Employees</th>
              <th className="from-md">Updated</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((company) => (
              <tr key={company.id}>
                <td>
                  <Anchor component={Link} to={`/companies/${company.id}`}>
                    {company.name ?? "(no name)"}
                  </Anchor>
                </td>
                <td>{company.domain ?? "—"}</td>
                <td className="from-sm">{company.industry ?? "—"}</td>
                <td className="from-md">{company.employees != null ? formatNumber(company.employees) : "—"}</td>
                <td className="from-md">{formatDateTime(company.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {companies.hasNextPage && (
        <Group>
          <Button variant="default" onClick={() => companies.fetchNextPage()} loading={companies.isFetchingNextPage}>
            Load more
          </Button>
        </Group>
      )}
    </Stack>
  );
}
