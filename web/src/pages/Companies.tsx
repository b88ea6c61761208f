import { Anchor, Button, Group, Stack, Title } from "@mantine/core";
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { Suspense, lazy, useState } from "react";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { CompanyForm } from "../components/CompanyForm";
import { DebouncedFilter, OwnerFilter, useUrlFilters } from "../components/ListFilters";
import { RecordTable } from "../components/RecordTable";
import { formatDateTime, formatNumber } from "../format";

// The custom-property filters (and the definitions they read) load after the list: not on its first JavaScript.
const CustomFilters = lazy(() => import("../components/CustomFilters").then((module) => ({ default: module.CustomFilters })));

const FILTERS = ["q", "owner", "industry", "tag"] as const;

export default function Companies() {
  const filters = useUrlFilters(FILTERS);
  const { q, owner, industry, tag } = filters.values;
  const [creating, setCreating] = useState(false);
  // Companies created on this page: the list reads the oldest first, so a new one shows on top until it is
  // among the pages read (not under filters, which it may not match).
  const [created, setCreated] = useState<Schemas["Company"][]>([]);
  const companies = useInfiniteQuery({
    queryKey: ["companies", filters.values, filters.custom],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/v1/companies", {
          params: {
            query: {
              ...filters.custom,
              q: q || undefined,
              owner_id: owner || undefined,
              industry: industry || undefined,
              tag: tag || undefined,
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
  const loaded = companies.data?.pages.flatMap((page) => page.items) ?? [];
  const pinned = filters.active ? [] : created.filter((company) => !loaded.some((row) => row.id === company.id));
  const rows = [...pinned, ...loaded];

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>Companies</Title>
        <Group gap="xs">
          <Button component={Link} to="/companies/duplicates" variant="default">
            Duplicates
          </Button>
          {!creating && <Button onClick={() => setCreating(true)}>New company</Button>}
        </Group>
      </Group>
      {creating && (
        <CompanyForm
          onCancel={() => setCreating(false)}
          onSaved={(saved) => {
            setCreating(false);
            setCreated((current) => [saved, ...current]);
          }}
        />
      )}
      <Group align="flex-end" gap="sm" role="search" aria-label="Filter companies">
        <DebouncedFilter label="Search" type="search" value={q} onChange={(value) => filters.set("q", value)} maw={420} />
        <OwnerFilter value={owner} onChange={(value) => filters.set("owner", value)} />
        <DebouncedFilter
          label="Industry"
          value={industry}
          onChange={(value) => filters.set("industry", value)}
          maw={200}
        />
        <DebouncedFilter label="Tag" value={tag} onChange={(value) => filters.set("tag", value)} maw={160} />
        <Suspense fallback={null}>
          <CustomFilters object="companies" values={filters.custom} set={filters.set} />
        </Suspense>
        {filters.active && (
          <Button variant="subtle" onClick={filters.clear}>
            Clear filters
          </Button>
        )}
      </Group>
      <RecordTable
        object="companies"
        label="Companies"
        query={companies}
        rows={rows}
        filterKey={JSON.stringify([filters.values, filters.custom])}
        rowName={(company) => company.name ?? "(no name)"}
        empty={
          companies.hasNextPage
            ? "None of the companies read so far matches: load more to read on."
            : filters.active
              ? "No company matches these filters."
              : "No companies yet."
        }
        head={
          <>
            <th>Name</th>
            <th>Domain</th>
            <th className="from-sm">Industry</th>
            <th className="from-md">Employees</th>
            <th className="from-md">Tags</th>
            <th className="from-md">Updated</th>
          </>
        }
        cells={(company) => (
          <>
            <td>
              <Anchor component={Link} to={`/companies/${company.id}`}>
                {company.name ?? "(no name)"}
              </Anchor>
            </td>
            <td>{company.domain ?? "—"}</td>
            <td className="from-sm">{company.industry ?? "—"}</td>
            <td className="from-md">{company.employees != null ? formatNumber(company.employees) : "—"}</td>
            <td className="from-md">{company.tags?.join(", ") || "—"}</td>
            <td className="from-md">{formatDateTime(company.updated_at)}</td>
          </>
        )}
      />
    </Stack>
  );
}
