import { Badge, Button, Checkbox, Group, Paper, SimpleGrid, Stack, Switch, Text, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ifMatch, noContent, unwrap, type Schemas } from "../../api/client";
import { FormButtons, FormCard, ProblemAlert } from "../../forms/parts";
import { useFormState } from "../../forms/useFormState";
import { formatNumber } from "../../format";
import { ConfirmButton, ListSection, useIsAdmin } from "./shared";

type Policy = Schemas["SlaPolicy"];
type Create = Schemas["SlaPolicyCreate"];
const PRIORITIES = ["urgent", "high", "normal", "low"] as const;
type Priority = (typeof PRIORITIES)[number];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const DAY_NAMES: Record<(typeof DAYS)[number], string> = {
  mon: "Monday",
  tue: "Tuesday",
  wed: "Wednesday",
  thu: "Thursday",
  fri: "Friday",
  sat: "Saturday",
  sun: "Sunday",
};

type TargetRow = { first: string; resolution: string };
type Values = {
  name: string;
  targets: Record<Priority, TargetRow>;
  hours: boolean;
  timezone: string;
  days: string[];
  from: string;
  to: string;
  warn: string;
};

function valuesOf(policy?: Policy): Values {
  const targets = Object.fromEntries(
    PRIORITIES.map((priority) => {
      const target = policy?.targets?.[priority];
      return [priority, { first: target ? String(target.first_response_minutes) : "", resolution: target ? String(target.resolution_minutes) : "" }];
    }),
  ) as Record<Priority, TargetRow>;
  const hours = policy?.business_hours;
  return {
    name: policy?.name ?? "",
    targets,
    // A new policy starts with office hours in the user's own zone.
    hours: policy ? Boolean(hours) : true,
    timezone: hours?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
    days: hours?.days ?? ["mon", "tue", "wed", "thu", "fri"],
    from: hours?.from ?? "09:00",
    to: hours?.to ?? "17:00",
    warn: String(policy?.warn_before_minutes ?? 30),
  };
}

/** A minutes input's number; what is not one is sent as typed, for the API to name at its field. */
function minutes(text: string): number {
  const trimmed = text.trim();
  return (trimmed !== "" && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed) as number;
}

/** Minutes as hours and minutes ("2 h 30 min"). */
function formatMinutes(minutes: number) {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return [hours ? `${formatNumber(hours)} h` : "", rest ? `${rest} min` : ""].filter(Boolean).join(" ") || "0 min";
}

/** Creates or changes a policy (If-Match on the version opened); the API's errors at their fields. */
function PolicyEditor({ policy, onDone }: { policy?: Policy; onDone: () => void }) {
  const queryClient = useQueryClient();
  const form = useFormState<Values>(() => valuesOf(policy), ["name", "targets", "business_hours", "warn_before_minutes"], {
    // `business_hours.from`, `targets.high.first_response_minutes`: kept whole, each shown at its input.
    fieldOf: (field) => field,
  });
  const { values, errors, change, field } = form;
  const setTarget = (priority: Priority, key: keyof TargetRow, value: string) => {
    form.setValues((current) => ({ ...current, targets: { ...current.targets, [priority]: { ...current.targets[priority], [key]: value } } }));
    form.clearErrors((name) => name.startsWith(`targets.${priority}`) || name === "targets");
  };
  const save = useMutation({
    mutationFn: () => {
      const targets = Object.fromEntries(
        PRIORITIES.filter((priority) => values.targets[priority].first.trim() || values.targets[priority].resolution.trim()).map((priority) => [
          priority,
          {
            first_response_minutes: minutes(values.targets[priority].first),
            resolution_minutes: minutes(values.targets[priority].resolution),
          },
        ]),
      ) as Create["targets"];
      const body: Create = {
        name: values.name.trim(),
        targets,
        business_hours: values.hours ? { timezone: values.timezone.trim(), days: values.days as NonNullable<Create["business_hours"]>["days"], from: values.from, to: values.to } : null,
        warn_before_minutes: values.warn.trim() === "" ? 0 : Number(values.warn),
      };
      return policy
        ? unwrap(api.PATCH("/v1/sla-policies/{record_id}", { params: { path: { record_id: policy.id } }, headers: ifMatch(policy.version), body }))
        : unwrap(api.POST("/v1/sla-policies", { body }));
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["sla-policies"] });
      onDone();
    },
    onError: form.fail,
  });
  const targetError = (priority: Priority, key: string) => errors[`targets.${priority}.${key}`] ?? errors[`targets.${priority}`];

  return (
    <FormCard id="sla-editor-title" title={policy ? `Edit ${policy.name}` : "New SLA policy"} level={3} onSubmit={form.submit(save.mutate)}>
      <TextInput label="Policy name" required {...field("name")} />
      <Stack gap="xs" component="fieldset" className="plain-fieldset">
        <Text component="legend" fw={600} size="sm">
          Targets in business minutes (leave a priority empty for no due times)
        </Text>
        {errors.targets && (
          <Text c="red.8" size="sm" role="alert">
            {errors.targets}
          </Text>
        )}
        {PRIORITIES.map((priority) => (
          <SimpleGrid key={priority} cols={{ base: 1, xs: 2 }}>
            <TextInput
              label={`${priority[0]!.toUpperCase()}${priority.slice(1)}: first response, minutes`}
              type="number"
              min={1}
              value={values.targets[priority].first}
              onChange={(event) => setTarget(priority, "first", event.currentTarget.value)}
              error={targetError(priority, "first_response_minutes")}
            />
            <TextInput
              label={`${priority[0]!.toUpperCase()}${priority.slice(1)}: resolution, minutes`}
              type="number"
              min={1}
              value={values.targets[priority].resolution}
              onChange={(event) => setTarget(priority, "resolution", event.currentTarget.value)}
              error={targetError(priority, "resolution_minutes")}
            />
          </SimpleGrid>
        ))}
      </Stack>
      <Switch label="Count business hours only" checked={values.hours} onChange={(event) => change("hours", event.currentTarget.checked)} />
      {values.hours && (
        <Stack gap="xs" component="fieldset" className="plain-fieldset">
          <Text component="legend" fw={600} size="sm">
            Business hours
          </Text>
          {errors.business_hours && (
            <Text c="red.8" size="sm" role="alert">
              {errors.business_hours}
            </Text>
          )}
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <TextInput label="Time zone" description="IANA name, e.g. Europe/Berlin" {...field("timezone")} error={errors["business_hours.timezone"]} />
            <TextInput label="From" type="time" {...field("from")} error={errors["business_hours.from"]} />
            <TextInput label="To" type="time" {...field("to")} error={errors["business_hours.to"]} />
          </SimpleGrid>
          <Checkbox.Group label="Days" value={values.days} onChange={(days) => change("days", days)} error={errors["business_hours.days"]}>
            <Group gap="sm" mt={4}>
              {DAYS.map((day) => (
                <Checkbox key={day} value={day} label={DAY_NAMES[day]} />
              ))}
            </Group>
          </Checkbox.Group>
        </Stack>
      )}
      <TextInput
        label="Warn before, minutes"
        description="The assignee is warned this many business minutes before a due time."
        type="number"
        min={0}
        {...field("warn")}
        error={errors.warn_before_minutes}
      />
      <ProblemAlert error={form.problem} stale="This policy changed since you opened it, so nothing was saved. Close and open it again." />
      <FormButtons submit={policy ? "Save policy" : "Create policy"} pending={save.isPending} onCancel={onDone} />
    </FormCard>
  );
}

/** Settings → SLA policies: the targets per priority and the business hours they count in (admins change). */
export default function SlaPolicies() {
  const admin = useIsAdmin();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Policy | "new" | null>(null);
  const policies = useQuery({
    queryKey: ["sla-policies"],
    queryFn: () => unwrap(api.GET("/v1/sla-policies", { params: { query: { limit: 100 } } })),
  });
  const rows = policies.data?.items ?? [];
  const archive = async (policy: Policy) => {
    await noContent(api.DELETE("/v1/sla-policies/{record_id}", { params: { path: { record_id: policy.id } }, headers: ifMatch(policy.version) }));
    await queryClient.invalidateQueries({ queryKey: ["sla-policies"] });
  };

  return (
    <ListSection
      id="sla-policies"
      title="SLA policies"
      what="SLA policies"
      intro={
        <Text size="sm" c="dimmed">
          A ticket's first response and resolution due times come from the oldest policy for its category (or for every category), counted in the policy's business hours.
        </Text>
      }
      action={editing === null && <Button onClick={() => setEditing("new")}>New SLA policy</Button>}
      top={editing === "new" && <PolicyEditor onDone={() => setEditing(null)} />}
      query={policies}
      count={rows.length}
      empty="No SLA policies yet: tickets have no due times."
    >
      {rows.map((policy) =>
        editing !== null && editing !== "new" && editing.id === policy.id ? (
          <PolicyEditor key={policy.id} policy={policy} onDone={() => setEditing(null)} />
        ) : (
          <Paper key={policy.id} withBorder p="sm" component="article" aria-label={policy.name ?? "SLA policy"}>
            <Group justify="space-between" wrap="nowrap" align="flex-start">
              <Text fw={600}>{policy.name}</Text>
              {admin && editing === null && (
                <Group gap={6} wrap="nowrap">
                  <Button size="xs" variant="default" onClick={() => setEditing(policy)} aria-label={`Edit ${policy.name}`}>
                    Edit
                  </Button>
                  <ConfirmButton
                    label="Archive"
                    name={`Archive ${policy.name}`}
                    title={`Archive the SLA policy ${policy.name}?`}
                    confirmLabel="Archive policy"
                    onConfirm={() => archive(policy)}
                  >
                    New tickets no longer follow it; tickets that do keep their due times.
                  </ConfirmButton>
                </Group>
              )}
            </Group>
            <table className="data-table" aria-label={`Targets of ${policy.name}`}>
              <thead>
                <tr>
                  <th>Priority</th>
                  <th>First response</th>
                  <th>Resolution</th>
                </tr>
              </thead>
              <tbody>
                {PRIORITIES.filter((priority) => policy.targets?.[priority]).map((priority) => (
                  <tr key={priority}>
                    <td>{priority}</td>
                    <td>{formatMinutes(policy.targets![priority]!.first_response_minutes)}</td>
                    <td>{formatMinutes(policy.targets![priority]!.resolution_minutes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Text size="xs" c="dimmed" mt={4}>
              {policy.business_hours
                ? `${policy.business_hours.days.join(", ")} ${policy.business_hours.from}–${policy.business_hours.to} (${policy.business_hours.timezone})`
                : "Round the clock"}
              {` · warns ${formatMinutes(policy.warn_before_minutes ?? 0)} ahead`}
              {policy.categories?.length ? (
                <>
                  {" · "}
                  {policy.categories.map((category) => (
                    <Badge key={category} variant="outline" color="gray.7" size="xs" mr={4}>
                      {category}
                    </Badge>
                  ))}
                </>
              ) : null}
            </Text>
          </Paper>
        ),
      )}
    </ListSection>
  );
}
