import { SimpleGrid, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";

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
