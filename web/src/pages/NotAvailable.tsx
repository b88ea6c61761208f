import { Stack, Text, Title } from "@mantine/core";

/** A capability the CRM does not have yet: said plainly, with nothing made up to fill the page. */
export function NotAvailable({ name, missing = false }: { name: string; missing?: boolean }) {
  return (
    <Stack gap="xs" py="xl" maw={560}>
      <Title order={1}>{name}</Title>
      <Text>
        {missing
          ? "There is no such page."
          : `${name} are not available yet: this CRM does not offer that capability so far. Its page will appear here when it does.`}
      </Text>
    </Stack>
  );
}
