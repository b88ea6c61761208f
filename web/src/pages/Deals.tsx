import { Alert, Badge, Button, Group, NativeSelect, Paper, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Suspense, createContext, lazy, useContext, useEffect, useState, type ReactNode } from "react";
import { Link } from "react-router";
import { ApiError, api, ifMatch, unwrap, type Schemas } from "../api/client";
import type { BoardDnd } from "../components/BoardDnd";
import { Empty, LoadError, Loading } from "../components/States";
import { formatMoney, formatNumber } from "../format";

// Neither is needed for the board's first paint: the form opens on demand, the chart follows the board.
const DealForm = lazy(() => import("../components/DealForm"));
const BoardChart = lazy(() => import("../components/BoardChart"));

type Deal = Schemas["Deal"];
type Board = Schemas["Board"];
type BoardStage = Schemas["BoardStage"];

interface Move {
  deal: Deal;
  to: BoardStage;
}

/** A move the API refused because the deal had changed since the board was read. */
interface Conflict extends Move {
  currentVersion: number | null;
}

function boardKey(pipelineId: string | undefined) {
  return ["board", pipelineId] as const;
}

/** The board with the deal moved: what the board will read once the API has taken the move. */
function moved(board: Board, { deal, to }: Move): Board {
  return {
    ...board,
    stages: board.stages.map((stage) => {
      if (stage.stage_id === deal.stage_id) {
        return { ...stage, count: stage.count - 1, deals: stage.deals.filter((d) => d.id !== deal.id) };
      }
      if (stage.stage_id === to.stage_id) {
        return { ...stage, count: stage.count + 1, deals: [{ ...deal, stage_id: to.stage_id }, ...stage.deals] };
      }
      return stage;
    }),
  };
}

/** Until drag and drop has loaded (it is a chunk of its own, a tenth of the page's JavaScript), the board is
 * drawn without it: the first cards show sooner, and the board is drawn again, draggable, when it arrives. */
const STILL: BoardDnd = {
  useCard: () => ({}),
  useColumn: () => ({}),
  Provider: ({ children }: { children: ReactNode }) => children,
};
const Dnd = createContext<BoardDnd>(STILL);

function DealCard({ deal }: { deal: Deal }) {
  const { attributes, listeners, setNodeRef, transform, isDragging } = useContext(Dnd).useCard(deal);
  // The link sits beside the card, not in it: a link inside the draggable (a button) would nest controls.
  return (
    <div className="deal-card-box">
      <Paper
        ref={setNodeRef}
        withBorder
        p="sm"
        shadow={isDragging ? "md" : "xs"}
        style={{
          transform: transform ? `translate3d(${transform.x}px, ${transform.y}px, 0)` : undefined,
          cursor: "grab",
          position: "relative",
          zIndex: isDragging ? 10 : undefined,
          touchAction: "none",
        }}
        data-testid="deal-card"
        aria-label={`${deal.name}, ${formatMoney(deal.amount, deal.currency)}`}
        {...attributes}
        {...listeners}
      >
        <Text fw={600} size="sm">
          {deal.name}
        </Text>
        <Text size="sm" c="dimmed">
          {formatMoney(deal.amount, deal.currency)}
        </Text>
      </Paper>
      <Link to={`/deals/${deal.id}`} className="deal-card-open">
        Open<span className="visually-hidden"> {deal.name}</span>
      </Link>
    </div>
  );
}

function StageColumn({ stage, currency, created }: { stage: BoardStage; currency: string; created: Deal[] }) {
  // Deals created here that the stage's first page leaves out (it lists the oldest first) show on top.
  const pinned = created.filter((deal) => deal.stage_id === stage.stage_id && !stage.deals.some((d) => d.id === deal.id));
  const { setNodeRef, isOver } = useContext(Dnd).useColumn(stage);
  return (
    <Paper
      ref={setNodeRef}
      component="section"
      aria-label={stage.name}
      data-testid="stage-column"
      data-stage-id={stage.stage_id}
      withBorder
      p="sm"
      bg={isOver ? "indigo.0" : "gray.0"}
      miw={0}
      style={{ flex: "1 1 220px" }}
    >
      <Stack gap="xs">
        <Group justify="space-between" gap="xs">
          <Title order={2} size="h5">
            {stage.name}
          </Title>
          <Badge variant="light" aria-label={`${stage.count} deals`}>
            {formatNumber(stage.count)}
          </Badge>
        </Group>
        <Text size="sm" data-testid="stage-total">
          {formatMoney(stage.total.amount, stage.total.currency || currency)}
        </Text>
        {[...pinned, ...stage.deals].map((deal) => (
          <DealCard key={deal.id} deal={deal} />
        ))}
        {stage.deals.length + pinned.length === 0 && (
          <Text size="xs" c="dimmed">
            No deals here.
          </Text>
        )}
        {stage.next_cursor && (
          <Text size="xs" c="dimmed">
            Showing {stage.deals.length} of {formatNumber(stage.count)}.
          </Text>
        )}
      </Stack>
    </Paper>
  );
}

export default function Deals() {
  const queryClient = useQueryClient();
  const [chosenPipeline, setChosenPipeline] = useState<string | undefined>();
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  // Deals created on this page, until the board is left: shown in their column even beyond its first page.
  const [created, setCreated] = useState<Deal[]>([]);
  const [dnd, setDnd] = useState<BoardDnd>(STILL);
  useEffect(() => {
    let mounted = true;
    void import("../components/BoardDnd").then((module) => mounted && setDnd(module.BOARD_DND));
    return () => {
      mounted = false;
    };
  }, []);

  const pipelines = useQuery({
    queryKey: ["pipelines"],
    queryFn: () => unwrap(api.GET("/v1/pipelines", { params: { query: { limit: 100 } } })),
  });
  const pipelineId = chosenPipeline ?? pipelines.data?.items[0]?.id;
  const board = useQuery({
    queryKey: boardKey(pipelineId),
    queryFn: () => unwrap(api.GET("/v1/pipelines/{record_id}/board", { params: { path: { record_id: pipelineId! } } })),
    enabled: Boolean(pipelineId),
  });

  const move = useMutation({
    mutationFn: ({ deal, to }: Move) =>
      unwrap(
        api.PATCH("/v1/deals/{record_id}", {
          params: { path: { record_id: deal.id } },
          headers: ifMatch(deal.version),
          body: { stage_id: to.stage_id },
        }),
      ),
    onMutate: async (change) => {
      setCreated((current) => current.filter((deal) => deal.id !== change.deal.id));
      setConflict(null);
      setFailure(null);
      await queryClient.cancelQueries({ queryKey: boardKey(pipelineId) });
      queryClient.setQueryData<Board>(boardKey(pipelineId), (current) => current && moved(current, change));
    },
    onError: (error, change) => {
      if (error instanceof ApiError && error.status === 412) {
        setConflict({ ...change, currentVersion: error.problem.current_version ?? null });
      } else {
        setFailure(`“${change.deal.name}” was not moved to ${change.to.name}: ${error.message}`);
      }
    },
    // The board's totals and order are the API's to compute: read it again after every move.
    onSettled: () => queryClient.invalidateQueries({ queryKey: boardKey(pipelineId) }),
  });

  /** After a conflict: the deal as it is now, moved if the user still wants it moved. */
  const retry = useMutation({
    mutationFn: async ({ deal, to }: Move) => {
      const current = await unwrap(
        api.GET("/v1/deals/{record_id}", { params: { path: { record_id: deal.id } } }),
      );
      move.mutate({ deal: current, to });
    },
  });

  function onMove(deal: Deal, to: BoardStage) {
    if (deal.stage_id !== to.stage_id) move.mutate({ deal, to });
  }

  const pipelineOptions = pipelines.data?.items ?? [];
  const pipeline = pipelineOptions.find((option) => option.id === pipelineId);

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>Deals</Title>
        <Group align="flex-end" gap="sm">
          {pipelineOptions.length > 1 && (
            <NativeSelect
              label="Pipeline"
              value={pipelineId}
              onChange={(event) => {
                setChosenPipeline(event.currentTarget.value);
                setCreating(false);
                setCreated([]);
              }}
              data={pipelineOptions.map((option) => ({ value: option.id, label: option.name ?? option.id }))}
            />
          )}
          {pipeline && !creating && <Button onClick={() => setCreating(true)}>New deal</Button>}
        </Group>
      </Group>
      {creating && pipeline && (
        <Suspense fallback={<Loading what="form" />}>
          <DealForm
            pipeline={pipeline}
            onCancel={() => setCreating(false)}
            onSaved={(deal) => {
              setCreating(false);
              setCreated((current) => [deal, ...current]);
              void queryClient.invalidateQueries({ queryKey: boardKey(pipelineId) });
            }}
          />
        </Suspense>
      )}
      {conflict && (
        <Alert color="orange" role="alert" title="The deal changed elsewhere" data-testid="move-conflict">
          <Text size="sm">
            “{conflict.deal.name}” was changed by someone else since the board loaded
            {conflict.currentVersion !== null ? ` (it is now at version ${conflict.currentVersion})` : ""}, so it was not
            moved to {conflict.to.name}. The board shows it where it is now.
          </Text>
          <Group mt="sm">
            <Button
              size="xs"
              onClick={() => {
                retry.mutate(conflict);
                setConflict(null);
              }}
            >
              Move it to {conflict.to.name} anyway
            </Button>
            <Button size="xs" variant="default" onClick={() => setConflict(null)}>
              Leave it
            </Button>
          </Group>
        </Alert>
      )}
      {failure && (
        <Alert color="red" role="alert" withCloseButton onClose={() => setFailure(null)} closeButtonLabel="Dismiss">
          {failure}
        </Alert>
      )}
      {(pipelines.isPending || (board.isPending && Boolean(pipelineId))) && <Loading what="board" />}
      {pipelines.isError && <LoadError what="pipelines" error={pipelines.error} retry={() => pipelines.refetch()} />}
      {pipelines.isSuccess && pipelineOptions.length === 0 && <Empty>There is no pipeline yet.</Empty>}
      {board.isError && <LoadError what="board" error={board.error} retry={() => board.refetch()} />}
      {board.isSuccess && (
        <Dnd.Provider value={dnd}>
          <dnd.Provider onMove={onMove}>
            {/* Columns wrap at phone width rather than scroll sideways. Drawn anew (key) when drag and drop
                arrives: its hooks replace the still board's. */}
            <Group
              key={dnd === STILL ? "still" : "draggable"}
              data-dnd={dnd === STILL ? "loading" : "ready"}
              align="flex-start"
              gap="sm"
              wrap="wrap"
              data-testid="board"
            >
              {board.data.stages.map((stage) => (
                <StageColumn key={stage.stage_id} stage={stage} currency={board.data.currency} created={created} />
              ))}
            </Group>
          </dnd.Provider>
        </Dnd.Provider>
      )}
      {/* Under the board: arriving after it, the chart moves nothing a hand or a pointer is about to drag. */}
      {board.isSuccess && board.data.stages.length > 0 && (
        <Suspense fallback={null}>
          <BoardChart stages={board.data.stages} currency={board.data.currency} />
        </Suspense>
      )}
    </Stack>
  );
}
