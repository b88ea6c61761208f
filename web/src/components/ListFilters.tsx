import { NativeSelect, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useEffect, useRef, useState } from "react";
import { useLocation, useNavigate } from "react-router";
import type { Schemas } from "../api/client";
import { useMe } from "../Shell";
import { useUsers } from "./owners";

export type LifecycleStage = NonNullable<Schemas["Contact"]["lifecycle_stage"]>;
export const LIFECYCLE_STAGES: LifecycleStage[] = [
  "subscriber",
  "lead",
  "mql",
  "sql",
  "opportunity",
  "customer",
  "evangelist",
  "other",
];

/** A list's filters as the page's URL query, so that a filtered list is a link (and survives a reload);
 * an empty value is left out. Changing one replaces the history entry rather than adding one per key. */
export function useUrlFilters<Name extends string>(names: readonly Name[]) {
  // The location and navigate, not useSearchParams: the router code they need is on the first page already.
  const location = useLocation();
  const navigate = useNavigate();
  const params = new URLSearchParams(location.search);
  const values = Object.fromEntries(names.map((name) => [name, params.get(name) ?? ""])) as Record<Name, string>;
  function go(next: URLSearchParams) {
    const search = next.toString();
    navigate({ pathname: location.pathname, search: search ? `?${search}` : "" }, { replace: true });
  }
  function set(name: Name | CustomName, value: string) {
    // From the URL as it is now: two filters set in one go must not undo each other.
    const next = new URLSearchParams(window.location.search);
    if (value) next.set(name, value);
    else next.delete(name);
    go(next);
  }
  // Custom-property filters are kept as the API names them (`custom.<name>=value`), whatever the names.
  const custom = Object.fromEntries([...params].filter(([name, value]) => name.startsWith(CUSTOM) && value)) as Record<
    CustomName,
    string
  >;
  const active = names.some((name) => values[name]) || Object.keys(custom).length > 0;
  return { values, custom, set, clear: () => go(new URLSearchParams()), active };
}

const CUSTOM = "custom.";
export type CustomName = `custom.${string}`;

/** A text filter that narrows as one types: the URL takes the text once typing pauses. */
export function DebouncedFilter({
  label,
  value,
  onChange,
  description,
  type = "text",
  maw,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  description?: string;
  type?: string;
  maw?: number;
}) {
  const [text, setText] = useState(value);
  const [settled] = useDebouncedValue(text.trim(), 250);
  // What this box last wrote: a URL value other than that was changed elsewhere (Clear filters, a link).
  const written = useRef(value);
  const write = useRef(onChange);
  write.current = onChange;
  // Only when typing pauses (settled changes), never on a render for another reason.
  useEffect(() => {
    if (settled === written.current) return;
    written.current = settled;
    write.current(settled);
  }, [settled]);
  useEffect(() => {
    if (value === written.current) return;
    written.current = value;
    setText(value);
  }, [value]);
  return (
    <TextInput
      label={label}
      description={description}
      type={type}
      value={text}
      onChange={(event) => setText(event.currentTarget.value)}
      maw={maw}
    />
  );
}

/** Owner filter: anyone, the caller's own records ("me", as the API takes it), or one user's. */
export function OwnerFilter({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  const users = useUsers();
  const me = useMe();
  const others = (users.data?.items ?? []).filter((user) => user.id !== me.data?.user.id);
  return (
    <NativeSelect
      label="Owner"
      value={value}
      onChange={(event) => onChange(event.currentTarget.value)}
      data={[
        { value: "", label: "Anyone" },
        { value: "me", label: "Mine" },
        ...others.map((user) => ({ value: user.id, label: user.name ?? user.email ?? user.id })),
        // A user named by a link but not among the first 100 still shows as chosen.
        ...(value && value !== "me" && !others.some((user) => user.id === value)
          ? [{ value, label: "Another user" }]
          : []),
      ]}
    />
  );
}
