import { ActionIcon, Group, NativeSelect } from "@mantine/core";
import { useState } from "react";
import { DebouncedFilter, type CustomName } from "./ListFilters";
import { useCustomProperties, type CustomObject, type Property } from "./CustomFields";

const name = (property: Property): CustomName => `custom.${property.name ?? ""}`;

/** One property's filter, with an input that fits its type: a choice for enum, multi_enum (one of its values)
 * and boolean; a date picker for a date; a number box for a number; text otherwise (the API matches it
 * exactly, as the other filters). */
function PropertyFilter({
  property,
  value,
  onChange,
  onRemove,
}: {
  property: Property;
  value: string;
  onChange: (value: string) => void;
  onRemove: () => void;
}) {
  const label = property.label || property.name || "";
  let input;
  if (property.type === "enum" || property.type === "multi_enum" || property.type === "boolean") {
    const options =
      property.type === "boolean"
        ? [
            { value: "true", label: "Yes" },
            { value: "false", label: "No" },
          ]
        : (property.options ?? []).map((option) => ({ value: option.value, label: option.label || option.value }));
    input = (
      <NativeSelect
        label={label}
        value={value}
        onChange={(event) => onChange(event.currentTarget.value)}
        data={[{ value: "", label: "Any" }, ...options]}
      />
    );
  } else {
    const type = property.type === "number" ? "number" : property.type === "date" ? "date" : "text";
    input = <DebouncedFilter label={label} type={type} value={value} onChange={onChange} maw={180} />;
  }
  return (
    <Group gap={2} align="flex-end" wrap="nowrap">
      {input}
      <ActionIcon variant="subtle" color="gray" mb={4} aria-label={`Remove the ${label} filter`} onClick={onRemove}>
        ×
      </ActionIcon>
    </Group>
  );
}

/** The tenant's custom properties of a list's object as filters: those set in the URL are shown, and "Filter by
 * property" adds one (an input only: the URL takes it once it has a value). */
export function CustomFilters({
  object,
  values,
  set,
}: {
  object: CustomObject;
  values: Record<CustomName, string>;
  set: (name: CustomName, value: string) => void;
}) {
  const properties = useCustomProperties(object);
  const [added, setAdded] = useState<string[]>([]);
  const all = properties.data ?? [];
  const shown = all.filter((property) => values[name(property)] || added.includes(name(property)));
  const offered = all.filter((property) => !shown.includes(property));
  return (
    <>
      {shown.map((property) => (
        <PropertyFilter
          key={name(property)}
          property={property}
          value={values[name(property)] ?? ""}
          onChange={(value) => set(name(property), value)}
          onRemove={() => {
            setAdded((current) => current.filter((item) => item !== name(property)));
            set(name(property), "");
          }}
        />
      ))}
      {offered.length > 0 && (
        <NativeSelect
          label="Filter by property"
          value=""
          onChange={(event) => {
            const chosen = event.currentTarget.value;
            if (chosen) setAdded((current) => [...current, chosen]);
          }}
          data={[
            { value: "", label: "Choose…" },
            ...offered.map((property) => ({ value: name(property), label: property.label || property.name || "" })),
          ]}
        />
      )}
    </>
  );
}
