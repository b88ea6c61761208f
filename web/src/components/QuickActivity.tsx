import { Alert, Button, Group, Paper, SegmentedControl, Stack, TextInput, Textarea } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ApiError, api, unwrap } from "../api/client";
import { timelineKey, type TimelineObject } from "./Timeline";

type Kind = "note" | "call" | "task";

const LINK_FIELD = { contacts: "contact_id", companies: "company_id", deals: "deal_id" } as const;

/** A note, a call or a task on a contact, company or deal, shown on its timeline once saved. */
export function QuickActivity({ object, id }: { object: Exclude<TimelineObject, "tickets" | "quotes" | "contracts">; id: string }) {
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<Kind>("note");
  const [subject, setSubject] = useState("");
  const [body, setBody] = useState("");
  const [due, setDue] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});

  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/activities", {
          body: {
            type: kind,
            subject: subject.trim() || null,
            body: body.trim() || null,
            due_at: kind === "task" && due ? new Date(due).toISOString() : null,
            [LINK_FIELD[object]]: id,
          },
        }),
      ),
    onSuccess: async () => {
      setSubject("");
      setBody("");
      setDue("");
      setErrors({});
      await queryClient.invalidateQueries({ queryKey: timelineKey(object, id) });
      await queryClient.invalidateQueries({ queryKey: ["activities"] });
    },
    onError: (error) => setErrors(error instanceof ApiError ? error.fieldErrors() : {}),
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!subject.trim()) {
      setErrors({ subject: "Give it a subject." });
      return;
    }
    create.mutate();
  }

  return (
    <Paper withBorder p="md" component="section" aria-label="Log an activity">
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          <SegmentedControl
            aria-label="Activity type"
            value={kind}
            onChange={(value) => setKind(value as Kind)}
            data={[
              { value: "note", label: "Note" },
              { value: "call", label: "Call" },
              { value: "task", label: "Task" },
            ]}
          />
          <TextInput label="Subject" value={subject} onChange={(e) => setSubject(e.currentTarget.value)} error={errors.subject} />
          <Textarea label="Details" value={body} onChange={(e) => setBody(e.currentTarget.value)} error={errors.body} autosize minRows={2} />
          {kind === "task" && (
            <TextInput type="datetime-local" label="Due" value={due} onChange={(e) => setDue(e.currentTarget.value)} error={errors.due_at} />
          )}
          {create.isError && !(create.error instanceof ApiError && create.error.problem.errors) && (
            <Alert color="red" role="alert">
              {create.error.message}
            </Alert>
          )}
          <Group>
            <Button type="submit" loading={create.isPending}>
              Add {kind}
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}
