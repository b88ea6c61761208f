import { Anchor, SimpleGrid, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { Link } from "react-router";

/** A record's fields as a description list: label above value. */
export function Fields({ fields }: { fields: [string, ReactNode][] }) {
  return (
    <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }} component="dl" spacing="sm" m={0}>
      {fields.map(([label, value]) => (
        <Stack key={label} gap={0}>
          <Text component="dt" size="xs" c="dimmed">
            {label}
          </Text>
          <Text component="dd" m={0}>
            {value || "—"}
          </Text>
        </Stack>
      ))}
    </SimpleGrid>
  );
}

/** A record's company as a field's value: a link named by the company once it is read ("…" until then), nothing
 * when the record has none. */
export function companyLink(companyId: string | null | undefined, company: { name?: string | null } | undefined): ReactNode {
  if (!companyId) return null;
  return company ? (
    <Anchor component={Link} to={`/companies/${companyId}`}>
      {company.name || "(no name)"}
    </Anchor>
  ) : (
    "…"
  );
}
