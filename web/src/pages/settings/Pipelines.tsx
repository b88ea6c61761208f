import { ActionIcon, Badge, Button, Group, NativeSelect, Paper, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ifMatch, unwrap, type Schemas } from "../../api/client";
import { FormButtons, FormCard, ProblemAlert } from "../../forms/parts";
import { useFormState } from "../../forms/useFormState";
import { formatDateTime, formatNumber } from "../../format";
import { ConfirmButton, ListSection, useArchiveRestore, useIsAdmin } from "./shared";

type Pipeline = Schemas["Pipeline"];
type Kind = "open" | "won" | "lost";
/** A stage as the form holds it: `key` tells rows apart before a new stage has an id. */
type StageRow = { key: string; id?: string | null; name: string; probability: string; kind: Kind };

let nextKey = 0;
const newKey = () => `stage-${++nextKey}`;

function rowsOf(pipeline?: Pipeline): StageRow[] {
  if (!pipeline?.stages) return [{ key: newKey(), name: "", probability: "", kind: "open" }];
  return pipeline.stages.map((stage) => ({
    key: newKey(),
    id: stage.id,
    name: stage.name,
    // Percent in the form, a fraction in the API.
    probability: stage.probability === null || stage.probability === undefined ? "" : String(Math.round(stage.probability * 10000) / 100),
    kind: stage.kind ?? "open",
  }));
}

function formatPercent(probability: number | null | undefined) {
  return new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 2 }).format(probability ?? 0);
}

/** Creates a pipeline or changes one at the version it was opened (If-Match). Sending the stages replaces
 * them: a kept stage is sent with its id, so its deals stay in it. */
function PipelineEditor({ pipeline, onDone }: { pipeline?: Pipeline; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [base, setBase] = useState(pipeline);
  const form = useFormState(
    () => ({ name: pipeline?.name ?? "", currency: pipeline?.currency ?? "", stages: rowsOf(pipeline) }),
    ["name", "currency", "stages"],
  );
  const { values, errors, change, field } = form;
  const stages = values.stages;

  const save = useMutation({
    mutationFn: () => {
      const body = {
        name: values.name.trim(),
        currency: values.currency.trim().toUpperCase() || null,
        stages: stages.map((stage) => ({
          ...(stage.id ? { id: stage.id } : {}),
          name: stage.name.trim(),
          kind: stage.kind,
          probability: stage.probability.trim() === "" ? null : Number(stage.probability) / 100,
        })),
      };
      return base
        ? unwrap(api.PATCH("/v1/pipelines/{record_id}", { params: { path: { record_id: base.id } }, headers: ifMatch(base.version), body }))
        : unwrap(api.POST("/v1/pipelines", { body }));
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["pipelines"] });
      onDone();
    },
    // A 409 (a stage left out still holds deals) or 412 names no field: it shows above the buttons.
    onError: form.fail,
  });

  const reload = useMutation({
    mutationFn: (id: string) => unwrap(api.GET("/v1/pipelines/{record_id}", { params: { path: { record_id: id } } })),
    onSuccess: (current) => {
      setBase(current);
      form.reset({ name: current.name ?? "", currency: current.currency ?? "", stages: rowsOf(current) });
    },
  });

  function setStages(next: (current: StageRow[]) => StageRow[]) {
    form.setValues((current) => ({ ...current, stages: next(current.stages) }));
  }
  function changeStage(index: number, change: Partial<StageRow>) {
    setStages((current) => current.map((stage, at) => (at === index ? { ...stage, ...change } : stage)));
    form.clearErrors((field) => field.startsWith(`stages[${index}]`));
  }
  function move(index: number, by: number) {
    setStages((current) => {
      const moved = [...current];
      moved.splice(index + by, 0, ...moved.splice(index, 1));
      return moved;
    });
    // Errors name stages by position, which just changed.
    form.clearErrors((field) => field.startsWith("stages["));
  }
  const stageLabel = (stage: StageRow, index: number) => stage.name.trim() || `stage ${index + 1}`;

  return (
    <FormCard id="pipeline-editor-title" title={pipeline ? `Edit ${pipeline.name}` : "New pipeline"} level={3} onSubmit={form.submit(save.mutate)}>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput label="Pipeline name" required {...field("name")} />
        <TextInput
          label="Currency"
          description="ISO code of the board's totals, e.g. EUR."
          maxLength={3}
          value={values.currency}
          onChange={(event) => change("currency", event.currentTarget.value.toUpperCase())}
          error={errors.currency}
        />
      </SimpleGrid>
      <Stack gap="xs" component="fieldset" className="plain-fieldset">
        <Text component="legend" fw={600} size="sm">
          Stages, in order
        </Text>
        {errors.stages && (
          <Text c="red.8" size="sm" role="alert">
            {errors.stages}
          </Text>
        )}
        <ol className="stage-list">
          {stages.map((stage, index) => (
            <li key={stage.key}>
              <Group gap="xs" align="flex-start" wrap="wrap">
                <TextInput
                  label={`Stage ${index + 1} name`}
                  value={stage.name}
                  onChange={(event) => changeStage(index, { name: event.currentTarget.value })}
                  error={errors[`stages[${index}].name`]}
                  style={{ flex: "1 1 12rem" }}
                />
                <TextInput
                  label="Probability %"
                  type="number"
                  min={0}
                  max={100}
                  step="any"
                  value={stage.probability}
                  onChange={(event) => changeStage(index, { probability: event.currentTarget.value })}
                  error={errors[`stages[${index}].probability`]}
                  w={120}
                  aria-label={`Probability of ${stageLabel(stage, index)} in percent`}
                />
                <NativeSelect
                  label="Kind"
                  value={stage.kind}
                  data={["open", "won", "lost"]}
                  onChange={(event) => changeStage(index, { kind: event.currentTarget.value as Kind })}
                  error={errors[`stages[${index}].kind`]}
                  w={100}
                  aria-label={`Kind of ${stageLabel(stage, index)}`}
                />
                <Group gap={4} mt={26}>
                  <ActionIcon
                    variant="default"
                    size="lg"
                    onClick={() => move(index, -1)}
                    disabled={index === 0}
                    aria-label={`Move ${stageLabel(stage, index)} up`}
                  >
                    ↑
                  </ActionIcon>
                  <ActionIcon
                    variant="default"
                    size="lg"
                    onClick={() => move(index, 1)}
                    disabled={index === stages.length - 1}
                    aria-label={`Move ${stageLabel(stage, index)} down`}
                  >
                    ↓
                  </ActionIcon>
                  <ActionIcon
                    variant="default"
                    size="lg"
                    color="red"
                    onClick={() => setStages((current) => current.filter((_, at) => at !== index))}
                    disabled={stages.length === 1}
                    aria-label={`Remove ${stageLabel(stage, index)}`}
                  >
                    ×
                  </ActionIcon>
                </Group>
              </Group>
            </li>
          ))}
        </ol>
        <Group>
          <Button variant="default" size="xs" onClick={() => setStages((current) => [...current, { key: newKey(), name: "", probability: "", kind: "open" }])}>
            Add stage
          </Button>
        </Group>
      </Stack>
      <ProblemAlert error={form.problem} onReload={base ? () => reload.mutate(base.id) : undefined} reloading={reload.isPending} />
      <FormButtons submit={pipeline ? "Save pipeline" : "Create pipeline"} pending={save.isPending} onCancel={onDone} />
    </FormCard>
  );
}

export default function Pipelines() {
  const admin = useIsAdmin();
  const [editing, setEditing] = useState<Pipeline | "new" | null>(null);
  const [archived, setArchived] = useState(false);
  // The active list keeps the ["pipelines"] key the other pages share; the archived one sits under it, so
  // that invalidating ["pipelines"] refreshes both.
  const pipelines = useQuery({
    queryKey: archived ? ["pipelines", "archived"] : ["pipelines"],
    queryFn: () => unwrap(api.GET("/v1/pipelines", { params: { query: { limit: 100, ...(archived ? { archived } : {}) } } })),
  });
  const rows = pipelines.data?.items ?? [];
  const { archive, restore } = useArchiveRestore("pipelines");

  return (
    <ListSection
      id="pipelines"
      title="Pipelines"
      what="pipelines"
      action={editing === null && <Button onClick={() => setEditing("new")}>New pipeline</Button>}
      top={editing === "new" && <PipelineEditor onDone={() => setEditing(null)} />}
      archived={archived}
      onArchivedChange={(checked) => {
        setArchived(checked);
        setEditing(null);
      }}
      query={pipelines}
      count={rows.length}
      empty="No pipelines."
    >
      {rows.map((pipeline) =>
        editing !== null && editing !== "new" && editing.id === pipeline.id ? (
          <PipelineEditor key={pipeline.id} pipeline={pipeline} onDone={() => setEditing(null)} />
        ) : (
          <Paper key={pipeline.id} withBorder p="sm" component="article" aria-label={pipeline.name ?? "Pipeline"}>
            <Group justify="space-between" wrap="nowrap" align="flex-start">
              <Text fw={600}>
                {pipeline.name} {pipeline.currency && <Badge variant="light">{pipeline.currency}</Badge>}
              </Text>
              {admin && editing === null && archived && (
                <ConfirmButton
                  label="Restore"
                  name={`Restore ${pipeline.name}`}
                  title={`Restore the pipeline ${pipeline.name}?`}
                  confirmLabel="Restore pipeline"
                  color="indigo"
                  onConfirm={() => restore(pipeline)}
                >
                  Deals can be put in it again, and the Deals page shows its board.
                </ConfirmButton>
              )}
              {admin && editing === null && !archived && (
                <Group gap={6} wrap="nowrap">
                  <Button size="xs" variant="default" onClick={() => setEditing(pipeline)} aria-label={`Edit ${pipeline.name}`}>
                    Edit
                  </Button>
                  <ConfirmButton
                    label="Archive"
                    name={`Archive ${pipeline.name}`}
                    title={`Archive the pipeline ${pipeline.name}?`}
                    confirmLabel="Archive pipeline"
                    onConfirm={() => archive(pipeline)}
                  >
                    Only a pipeline without open deals can be archived. It can be restored for 30 days.
                  </ConfirmButton>
                </Group>
              )}
            </Group>
            <ol className="stage-summary">
              {pipeline.stages?.map((stage) => (
                <li key={stage.id ?? stage.name}>
                  <Badge variant="outline" color={stage.kind === "open" ? "gray.7" : stage.kind === "won" ? "teal.9" : "red.9"}>
                    {stage.name} · {formatPercent(stage.probability)}
                    {stage.kind !== "open" && stage.name.toLowerCase() !== stage.kind && ` · ${stage.kind}`}
                  </Badge>
                </li>
              ))}
            </ol>
            <Text size="xs" c="dimmed">
              {formatNumber(pipeline.stages?.length ?? 0)} stages
              {archived && pipeline.archived_at && ` · archived ${formatDateTime(pipeline.archived_at)}`}
            </Text>
          </Paper>
        ),
      )}
    </ListSection>
  );
}
