import {
  DndContext,
  KeyboardSensor,
  PointerSensor,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
  type DragEndEvent,
  type DraggableAttributes,
  type DraggableSyntheticListeners,
  type KeyboardCoordinateGetter,
} from "@dnd-kit/core";
import type { ReactNode } from "react";
import type { Schemas } from "../api/client";

type Deal = Schemas["Deal"];
type BoardStage = Schemas["BoardStage"];

export interface CardDnd {
  attributes?: DraggableAttributes;
  listeners?: DraggableSyntheticListeners;
  setNodeRef?: (element: HTMLElement | null) => void;
  transform?: { x: number; y: number } | null;
  isDragging?: boolean;
}

export interface ColumnDnd {
  setNodeRef?: (element: HTMLElement | null) => void;
  isOver?: boolean;
}

/** What the board needs of drag and drop: a hook per card, a hook per column, and the context around them. */
export interface BoardDnd {
  useCard: (deal: Deal) => CardDnd;
  useColumn: (stage: BoardStage) => ColumnDnd;
  Provider: (props: { children: ReactNode; onMove: (deal: Deal, to: BoardStage) => void }) => ReactNode;
}

/** Arrow keys carry a picked-up deal from column to column (right or down: the next stage; left or up: the
 * one before), in the board's reading order, so that the keyboard move is one key press per stage whether the
 * columns stand side by side or, at phone width, one under another. */
const stageByStage: KeyboardCoordinateGetter = (event, { context }) => {
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.code];
  const { collisionRect, droppableRects, over } = context;
  if (!step || !collisionRect) return undefined;
  event.preventDefault();
  const columns = [...droppableRects.entries()].sort(([, a], [, b]) => a.top - b.top || a.left - b.left);
  // The column under the deal now (by its rectangle: `over` may not be known yet on the first key press).
  const x = collisionRect.left + collisionRect.width / 2;
  const y = collisionRect.top + collisionRect.height / 2;
  const under = columns.findIndex(([, r]) => x >= r.left && x <= r.right && y >= r.top && y <= r.bottom);
  const here = under >= 0 ? under : columns.findIndex(([id]) => id === over?.id);
  const next = columns[Math.min(Math.max(here + step, 0), columns.length - 1)];
  if (!next) return undefined;
  const [, rect] = next;
  return { x: rect.left + rect.width / 2 - collisionRect.width / 2, y: rect.top + 48 };
};

function Provider({ children, onMove }: { children: ReactNode; onMove: (deal: Deal, to: BoardStage) => void }) {
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 5 } }),
    useSensor(KeyboardSensor, { coordinateGetter: stageByStage }),
  );
  function onDragEnd(event: DragEndEvent) {
    const deal = event.active.data.current?.deal as Deal | undefined;
    const to = event.over?.data.current?.stage as BoardStage | undefined;
    if (deal && to) onMove(deal, to);
  }
  return (
    <DndContext sensors={sensors} onDragEnd={onDragEnd}>
      {children}
    </DndContext>
  );
}

export const BOARD_DND: BoardDnd = {
  useCard: (deal) => useDraggable({ id: deal.id, data: { deal } }),
  useColumn: (stage) => useDroppable({ id: stage.stage_id, data: { stage } }),
  Provider,
};
