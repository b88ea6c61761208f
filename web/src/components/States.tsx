import { Alert, Button, Center, Loader, Text } from "@mantine/core";
import type { ReactNode } from "react";

export function Loading({ what }: { what: string }) {
  return (
    <Center py="xl">
      <Loader role="status" aria-label={`Loading ${what}`} />
    </Center>
  );
}

export function LoadError({ what, error, retry }: { what: string; error: Error; retry?: () => void }) {
  return (
    <Alert color="red" title={`The ${what} could not be loaded`} role="alert">
      <Text size="sm">{error.message}</Text>
      {retry && (
        <Button mt="sm" size="xs" variant="light" color="red" onClick={retry}>
          Try again
        </Button>
      )}
    </Alert>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Text c="dimmed" py="lg">
      {children}
    </Text>
  );
}

/** What a list or page shows while its query loads or after it failed (nothing once it has data). */
export function QueryState({
  query,
  what,
}: {
  query: { isPending: boolean; isError: boolean; error: Error | null; refetch: () => unknown };
  what: string;
}) {
  if (query.isPending) return <Loading what={what} />;
  if (query.isError && query.error) return <LoadError what={what} error={query.error} retry={() => query.refetch()} />;
  return null;
}
