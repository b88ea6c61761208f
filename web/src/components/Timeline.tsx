import { Stack, Text, Timeline as MantineTimeline, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { formatDateTime } from "../format";
import { Empty, QueryState } from "./States";

export type TimelineObject = "contacts" | "companies" | "deals" | "tickets" | "quotes" | "contracts";

export function timelineKey(object: TimelineObject, id: string) {
  return ["timeline", object, id] as const;
}

function describe(type: string) {
  const [, action = type] = type.split(".");
  return action.replaceAll("_", " ");
}

/** A record's history, newest first: its own changes and those of the activities and deals linked to it. */
export function RecordTimeline({ object, id }: { object: TimelineObject; id: string }) {
  const timeline = useQuery({
    queryKey: timelineKey(object, id),
    queryFn: () =>
      unwrap(
        object === "contacts"
          ? api.GET("/v1/contacts/{record_id}/timeline", { params: { path: { record_id: id } } })
          : object === "companies"
            ? api.GET("/v1/companies/{record_id}/timeline", { params: { path: { record_id: id } } })
            : object === "deals"
              ? api.GET("/v1/deals/{record_id}/timeline", { params: { path: { record_id: id } } })
              : object === "quotes"
                ? api.GET("/v1/quotes/{record_id}/timeline", { params: { path: { record_id: id } } })
                : object === "contracts"
                  ? api.GET("/v1/contracts/{record_id}/timeline", { params: { path: { record_id: id } } })
                  : api.GET("/v1/tickets/{record_id}/timeline", { params: { path: { record_id: id } } }),
      ),
  });
  return (
    <Stack component="section" aria-labelledby="timeline-title">
      <Title order={2} size="h3" id="timeline-title">
        Timeline
      </Title>
      <QueryState query={timeline} what="timeline" />
      {timeline.isSuccess && timeline.data.items.length === 0 && <Empty>Nothing has happened yet.</Empty>}
      {timeline.isSuccess && timeline.data.items.length > 0 && (
        <MantineTimeline bulletSize={12} lineWidth={2} data-testid="timeline">
          {timeline.data.items.map((entry) => (
            <MantineTimeline.Item
              key={entry.id}
              title={`${entry.record.type} ${describe(entry.type)}${entry.record.title ? `: ${entry.record.title}` : ""}`}
            >
              <Text size="xs" c="dimmed">
                {formatDateTime(entry.occurred_at)}
              </Text>
            </MantineTimeline.Item>
          ))}
        </MantineTimeline>
      )}
    </Stack>
  );
}
