import { Alert, Anchor, Button, Group, Paper, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { ApiError, api, ifMatch, noContent, unwrap, type Schemas } from "../api/client";
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

/** An ISO instant as a datetime-local input's value, in the user's time zone. */
function localInput(iso: string | null | undefined) {
  if (!iso) return "";
  const at = new Date(iso);
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** A task with its actions: complete, edit its subject and due date (at the version listed: If-Match), or
 * delete it after a confirmation. */
function TaskCard({ task, onComplete, completing }: {
  task: Activity;
  onComplete: (task: Activity) => void;
  completing: boolean;
}) {
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<"show" | "edit" | "confirm-delete">("show");
  const [subject, setSubject] = useState("");
  const [due, setDue] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const label = task.subject ?? "(no subject)";

  /** A refusal: a stale version reads the list again (the form keeps what was typed, to save again). */
  function refused(error: Error) {
    if (error instanceof ApiError && error.status === 412) {
      setProblem("This task changed since the list loaded, so nothing was changed. It has been read again: try once more.");
      void queryClient.invalidateQueries({ queryKey: MY_TASKS });
      return;
    }
    const fieldErrors = error instanceof ApiError ? error.fieldErrors() : {};
    setErrors(fieldErrors);
    setProblem(fieldErrors.subject || fieldErrors.due_at ? null : error.message);
  }

  const save = useMutation({
    mutationFn: () => {
      const body: Schemas["ActivityUpdate"] = {};
      if (subject.trim() !== (task.subject ?? "")) body.subject = subject.trim() || null;
      if (due !== localInput(task.due_at)) body.due_at = due ? new Date(due).toISOString() : null;
      return unwrap(
        api.PATCH("/v1/activities/{record_id}", {
          params: { path: { record_id: task.id } },
          headers: ifMatch(task.version),
          body,
        }),
      );
    },
    onSuccess: async () => {
      setMode("show");
      await queryClient.invalidateQueries({ queryKey: ["activities"] });
    },
    onError: refused,
  });
  const remove = useMutation({
    mutationFn: () =>
      noContent(
        api.DELETE("/v1/activities/{record_id}", {
          params: { path: { record_id: task.id } },
          headers: ifMatch(task.version),
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["activities"] }),
    onError: refused,
  });

  function edit() {
    setSubject(task.subject ?? "");
    setDue(localInput(task.due_at));
    setErrors({});
    setProblem(null);
    setMode("edit");
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    if (!subject.trim()) {
      setErrors({ subject: "Give it a subject." });
      return;
    }
    save.mutate();
  }

  return (
    <Paper withBorder p="sm" data-testid="task">
      {mode === "edit" ? (
        <form onSubmit={submit} noValidate aria-label={`Edit ${label}`}>
          <Stack gap="xs">
            <Group align="flex-start" gap="sm">
              <TextInput label="Subject" value={subject} onChange={(e) => setSubject(e.currentTarget.value)} error={errors.subject} />
              <TextInput type="datetime-local" label="Due" value={due} onChange={(e) => setDue(e.currentTarget.value)} error={errors.due_at} />
            </Group>
            {problem && (
              <Alert color="red" role="alert">
                {problem}
              </Alert>
            )}
            <Group gap="xs">
              <Button size="xs" type="submit" loading={save.isPending}>
                Save
              </Button>
              <Button size="xs" variant="default" onClick={() => setMode("show")}>
                Cancel
              </Button>
            </Group>
          </Stack>
        </form>
      ) : (
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Stack gap={2} miw={0}>
            <Text fw={600}>{label}</Text>
            <Text size="sm" c="dimmed">
              Due {formatDateTime(task.due_at)}
            </Text>
            {task.contact_id && (
              <Anchor component={Link} to={`/contacts/${task.contact_id}`} size="sm">
                Open the contact
              </Anchor>
            )}
            {problem && (
              <Alert color="red" role="alert" mt="xs">
                {problem}
              </Alert>
            )}
          </Stack>
          {mode === "confirm-delete" ? (
            <Group gap="xs" role="group" aria-label={`Delete ${label}?`} wrap="nowrap">
              <Text size="sm">Delete it?</Text>
              <Button size="xs" color="red" onClick={() => remove.mutate()} loading={remove.isPending}>
                Yes, delete
              </Button>
              <Button size="xs" variant="default" onClick={() => setMode("show")}>
                Keep it
              </Button>
            </Group>
          ) : (
            <Group gap="xs" wrap="nowrap">
              <Button size="xs" variant="default" onClick={edit}>
                Edit<span className="visually-hidden"> {task.subject}</span>
              </Button>
              <Button size="xs" variant="default" color="red" onClick={() => { setProblem(null); setMode("confirm-delete"); }}>
                Delete<span className="visually-hidden"> {task.subject}</span>
              </Button>
              <Button size="xs" onClick={() => onComplete(task)} loading={completing}>
                Complete
                <span className="visually-hidden"> {task.subject}</span>
              </Button>
            </Group>
          )}
        </Group>
      )}
    </Paper>
  );
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
        <TaskCard key={task.id} task={task} onComplete={onComplete} completing={completing === task.id} />
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
