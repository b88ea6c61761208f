import { Anchor, Badge, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { Empty, QueryState } from "../../components/States";
import { formatDateTime } from "../../format";
import { StatusBadge } from "./targetStatus";

/** What the tenant's settings come to at a glance: its pipelines and where its events go. */
export default function Overview() {
  const pipelines = useQuery({
    queryKey: ["pipelines"],
    queryFn: () => unwrap(api.GET("/v1/pipelines", { params: { query: { limit: 100 } } })),
  });
  const targets = useQuery({
    queryKey: ["event-targets"],
    queryFn: () => unwrap(api.GET("/v1/event-targets", { params: { query: { limit: 100 } } })),
  });

  return (
    <Stack>
      <Stack component="section" aria-labelledby="settings-pipelines">
        <Group justify="space-between">
          <Title order={2} size="h3" id="settings-pipelines">
            Pipelines
          </Title>
          <Anchor component={Link} to="/settings/pipelines" size="sm">
            Manage pipelines
          </Anchor>
        </Group>
        <QueryState query={pipelines} what="pipelines" />
        {pipelines.data?.items.map((pipeline) => (
          <Paper key={pipeline.id} withBorder p="sm">
            <Text fw={600}>
              {pipeline.name} {pipeline.currency && <Badge variant="light">{pipeline.currency}</Badge>}
            </Text>
            <Group gap="xs" mt="xs">
              {pipeline.stages?.map((stage) => (
                <Badge key={stage.id ?? stage.name} variant="outline" color={stage.kind === "open" ? "gray" : "dark"}>
                  {stage.name} · {Math.round((stage.probability ?? 0) * 100)}%
                </Badge>
              ))}
            </Group>
          </Paper>
        ))}
      </Stack>
      <Stack component="section" aria-labelledby="settings-targets">
        <Group justify="space-between">
          <Title order={2} size="h3" id="settings-targets">
            Event targets
          </Title>
          <Anchor component={Link} to="/settings/event-targets" size="sm">
            Manage event targets
          </Anchor>
        </Group>
        <QueryState query={targets} what="event targets" />
        {targets.isSuccess && targets.data.items.length === 0 && <Empty>No event targets: events reach no partner yet.</Empty>}
        {targets.isSuccess && targets.data.items.length > 0 && (
          <table className="data-table" aria-label="Event targets">
            <thead>
              <tr>
                <th>Where</th>
                <th>Status</th>
                <th className="from-sm">Events</th>
                <th className="from-md">Created</th>
              </tr>
            </thead>
            <tbody>
              {targets.data.items.map((target) => (
                <tr key={target.id}>
                  <td>
                    <Anchor component={Link} to={`/settings/event-targets/${target.id}`}>
                      {target.type === "webhook" ? target.url : target.event_bus_arn}
                    </Anchor>
                  </td>
                  <td>
                    <StatusBadge status={target.status} />
                  </td>
                  <td className="from-sm">{target.event_types?.join(", ")}</td>
                  <td className="from-md">{formatDateTime(target.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Stack>
    </Stack>
  );
}
