import { ActionIcon, Button, Indicator, Paper, Stack, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../api/client";
import { formatDateTime } from "../format";

/** The caller's reminders and assignments, newest first; unread ones counted on the bell. */
export default function NotificationBell() {
  const queryClient = useQueryClient();
  const notifications = useQuery({
    queryKey: ["notifications"],
    queryFn: () => unwrap(api.GET("/v1/notifications", { params: { query: { limit: 20 } } })),
    refetchInterval: 60_000,
  });
  const markRead = useMutation({
    mutationFn: (id: string) =>
      unwrap(api.POST("/v1/notifications/{notification_id}/read", { params: { path: { notification_id: id } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["notifications"] }),
  });
  const items = notifications.data?.items ?? [];
  const unread = items.filter((item) => !item.read_at).length;
  const [open, setOpen] = useState(false);

  // A plain disclosure under the header rather than a popover: no positioning library on every page.
  return (
    <>
      <Indicator label={unread} size={16} disabled={unread === 0}>
        <ActionIcon
          variant="subtle"
          aria-label={`Notifications, ${unread} unread`}
          aria-expanded={open}
          aria-controls="notifications-panel"
          size="lg"
          onClick={() => setOpen((shown) => !shown)}
        >
          <svg aria-hidden viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" strokeWidth="2">
            <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9M10.3 21a1.94 1.94 0 0 0 3.4 0" />
          </svg>
        </ActionIcon>
      </Indicator>
      {open && (
        <Paper
          id="notifications-panel"
          withBorder
          shadow="md"
          p="sm"
          onKeyDown={(event) => event.key === "Escape" && setOpen(false)}
          style={{ position: "fixed", top: 60, right: 8, width: "min(320px, calc(100vw - 16px))", zIndex: 300 }}
        >
          <Stack gap="xs" role="region" aria-label="Notifications">
            {notifications.isPending && <Text size="sm">Loading…</Text>}
            {notifications.isError && (
              <Text size="sm" c="red.8">
                The notifications could not be loaded.
              </Text>
            )}
            {notifications.isSuccess && items.length === 0 && <Text size="sm">No notifications.</Text>}
            {items.map((item) => (
              <Stack key={item.id} gap={2}>
                <Text size="sm" fw={item.read_at ? 400 : 700}>
                  {item.title}
                </Text>
                <Text size="xs" c="dimmed">
                  {formatDateTime(item.created_at)}
                </Text>
                {!item.read_at && (
                  <Button size="compact-xs" variant="light" onClick={() => markRead.mutate(item.id)}>
                    Mark as read
                  </Button>
                )}
              </Stack>
            ))}
          </Stack>
        </Paper>
      )}
    </>
  );
}
