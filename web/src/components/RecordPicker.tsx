import { Loader, Paper, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useId, useState, type KeyboardEvent } from "react";
import { api, unwrap } from "../api/client";
import { personName } from "../format";

export interface Picked {
  id: string;
  label: string;
}

interface Option extends Picked {
  hint?: string;
}

export type PickerObject = "contacts" | "companies";

/** Up to 8 records whose name (or email, phone, domain) starts with what was typed: the list's type-ahead. */
async function searchRecords(object: PickerObject, q: string): Promise<Option[]> {
  const query = { q: q || undefined, limit: 8 };
  if (object === "companies") {
    const page = await unwrap(api.GET("/v1/companies", { params: { query } }));
    return page.items.map((c) => ({ id: c.id, label: c.name ?? "(no name)", hint: c.domain ?? undefined }));
  }
  const page = await unwrap(api.GET("/v1/contacts", { params: { query } }));
  return page.items.map((c) => ({ id: c.id, label: personName(c), hint: c.email ?? undefined }));
}

/** A type-ahead choice of one contact or company (the ARIA 1.2 combobox pattern: arrows move through the
 * options, Enter picks, Escape closes), small enough for a first page, unlike a full select component. */
export function RecordPicker({
  object,
  label,
  value,
  onChange,
  error,
  description,
  exclude,
}: {
  object: PickerObject;
  label: string;
  value: Picked | null;
  onChange: (value: Picked | null) => void;
  error?: string;
  description?: string;
  exclude?: string;
}) {
  const listId = useId();
  const [text, setText] = useState(value?.label ?? "");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [q] = useDebouncedValue(text.trim(), 200);
  // The chosen record's label stays in the box until the user types over it.
  const shown = value && text === "" && !open ? value.label : text;
  const options = useQuery({
    queryKey: ["picker", object, q],
    queryFn: () => searchRecords(object, q),
    enabled: open,
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
  const choices = (options.data ?? []).filter((option) => option.id !== exclude);

  function pick(option: Option) {
    onChange({ id: option.id, label: option.label });
    setText(option.label);
    setOpen(false);
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) return setOpen(true);
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((current) => (choices.length ? (current + step + choices.length) % choices.length : 0));
    } else if (event.key === "Enter" && open && choices[active]) {
      event.preventDefault();
      pick(choices[active]);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      setOpen(false);
    }
  }

  const expanded = open && (choices.length > 0 || options.isSuccess);
  return (
    <div style={{ position: "relative" }}>
      <TextInput
        label={label}
        description={description}
        error={error}
        value={shown}
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls={expanded ? listId : undefined}
        aria-activedescendant={expanded && choices[active] ? `${listId}-${active}` : undefined}
        autoComplete="off"
        rightSection={open && options.isFetching ? <Loader size="xs" role="status" aria-label="Searching" /> : undefined}
        onChange={(event) => {
          const typed = event.currentTarget.value;
          setText(typed);
          setActive(0);
          setOpen(true);
          if (value) onChange(null);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      {expanded && (
        <Paper
          component="ul"
          role="listbox"
          id={listId}
          aria-label={label}
          withBorder
          shadow="md"
          style={{ position: "absolute", zIndex: 20, left: 0, right: 0, margin: 0, padding: 4, listStyle: "none" }}
        >
          {choices.map((option, index) => (
            <li
              key={option.id}
              id={`${listId}-${index}`}
              role="option"
              aria-selected={index === active}
              // Chosen before the input's blur closes the list.
              onMouseDown={(event) => {
                event.preventDefault();
                pick(option);
              }}
              onMouseEnter={() => setActive(index)}
              style={{
                padding: "6px 8px",
                cursor: "pointer",
                borderRadius: 4,
                background: index === active ? "var(--mantine-color-indigo-0)" : undefined,
              }}
            >
              {option.label}
              {option.hint && (
                <span style={{ color: "var(--mantine-color-dimmed)", fontSize: "var(--mantine-font-size-xs)" }}>
                  {" "}
                  · {option.hint}
                </span>
              )}
            </li>
          ))}
          {options.isSuccess && choices.length === 0 && (
            <li role="option" aria-selected={false} aria-disabled style={{ padding: "6px 8px" }}>
              No match
            </li>
          )}
        </Paper>
      )}
    </div>
  );
}
