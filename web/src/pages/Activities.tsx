import { Alert, Anchor, Button, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { Empty, QueryState } from "../components/States";
import { formatDateTime } from "../format";

type Activity = Schemas["Activity"];
type ActivityPage = Schemas["ActivityPage"];

const MY_TASKS = ["activities", "my-tasks"];
// One page of tasks: more than this due by tonight is said, not paged through.
const MOST_TASKS = 100;

function endOfToday() {
  const end = new Date();
  end.setHours(23, 59, 59, 999);
  return end;
}

function startOfToday() {
  const start = new Date();
  start.setHours(0, 0, 0, 0);
  return start;
}

function TaskList({ title, tasks, onComplete, completing }: {
  title: string;
  tasks: Activity[];
  onComplete: (task: Activity) => void;
  completing: string | undefined;
}) {
  const id = `tasks-${title.toLowerCase().replaceAll(" ", "-")}`;
  return (
    <Stack gap="xs" component="section" aria-labelledby={id}>
      <Title order={2} size="h3" id={id}>
        {title} ({tasks.length})
      </Title>
      {tasks.length === 0 && <Empty>Nothing {title.toLowerCase()}.</Empty>}
      {tasks.map((task) => (
        <Paper key={task.id} withBorder p="sm">
          <Group justify="space-between" wrap="nowrap" align="flex-start">
            <Stack gap={2} miw={0}>
              <Text fw={600}>{task.subject ?? "(no subject)"}</Text>
              <Text size="sm" c="dimmed">
                Due {formatDateTime(task.due_at)}
              </Text>
              {task.contact_id && (
                <Anchor component={Link} to={`/contacts/${task.contact_id}`} size="sm">
                  Open the contact
                </Anchor>
              )}
            </Stack>
            <Button size="xs" onClick={() => onComplete(task)} loading={completing === task.id}>
              Complete
              <span className="visually-hidden"> {task.subject}</span>
            </Button>
          </Group>
        </Paper>
      ))}
    </Stack>
  );
}

/** The caller's open tasks due by tonight: the overdue ones first. */
export default function Activities() {
  const queryClient = useQueryClient();
  const tasks = useQuery({
    queryKey: MY_TASKS,
    queryFn: () =>
      unwrap(
        api.GET("/v1/activities", {
          params: {
            query: {
              owner_id: "me",
              type: "task",
              open: true,
              due_before: endOfToday().toISOString(),
              sort: "due_at",
              limit: MOST_TASKS,
            },
          },
        }),
      ),
  });
  // A completed task leaves its list at once; should the API refuse, it comes back with the reason shown.
  const complete = useMutation({
    mutationFn: (task: Activity) =>
      unwrap(api.POST("/v1/activities/{record_id}/complete", { params: { path: { record_id: task.id } } })),
    onMutate: async (task) => {
      await queryClient.cancelQueries({ queryKey: MY_TASKS });
      const before = queryClient.getQueryData<ActivityPage>(MY_TASKS);
      queryClient.setQueryData<ActivityPage>(
        MY_TASKS,
        (page) => page && { ...page, items: page.items.filter((item) => item.id !== task.id) },
      );
      return { before };
    },
    onError: (_error, _task, context) => {
      if (context?.before) queryClient.setQueryData(MY_TASKS, context.before);
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["activities"] }),
  });

  const today = startOfToday().getTime();
  const items = tasks.data?.items ?? [];
  const overdue = items.filter((task) => task.due_at && new Date(task.due_at).getTime() < today);
  const dueToday = items.filter((task) => !overdue.includes(task));

  return (
    <Stack>
      <Title order={1}>Activities</Title>
      <Text c="dimmed">My tasks: your open tasks that are overdue or due today, the most overdue first.</Text>
      {complete.isError && (
        <Alert color="red" role="alert" withCloseButton closeButtonLabel="Dismiss" onClose={() => complete.reset()}>
          “{complete.variables?.subject ?? "The task"}” was not completed: {complete.error.message}
        </Alert>
      )}
      <QueryState query={tasks} what="tasks" />
      {tasks.isSuccess && tasks.data.next_cursor && (
        <Text size="sm">
          Showing your first {MOST_TASKS} tasks due by tonight; complete some to see the rest.
        </Text>
      )}
      {tasks.isSuccess && (
        <>
          <TaskList title="Overdue" tasks={overdue} onComplete={complete.mutate} completing={complete.isPending ? complete.variables?.id : undefined} />
          <TaskList title="Due today" tasks={dueToday} onComplete={complete.mutate} completing={complete.isPending ? complete.variables?.id : undefined} />
        </>
      )}
    </Stack>
  );
}
