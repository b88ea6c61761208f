import { Checkbox, Group, NativeSelect, TextInput } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { formatDate } from "../format";

export type CustomObject = "contacts" | "companies" | "deals";
export type Property = Schemas["Property"];
/** A value as the API holds it in `custom`. */
type Sent = string | number | boolean | string[] | null;
type Stored = Sent | undefined;
/** A custom property's value as a form holds it: text for most types, the chosen values of a multi_enum. */
export type CustomValue = string | string[];
export type CustomValues = Record<string, CustomValue>;

/** The tenant's active property definitions of an object (one request, cached a while: definitions change
 * rarely, and Settings → Properties refreshes them when it changes one). */
export function useCustomProperties(object: CustomObject) {
  return useQuery({
    queryKey: ["properties", object],
    queryFn: () => unwrap(api.GET("/v1/properties/{object}", { params: { path: { object }, query: { limit: 100 } } })),
    staleTime: 5 * 60_000,
    select: (page) => page.items.filter((property) => property.name),
  });
}

/** The form's field a property's errors are shown at: the API names them `custom.<name>`. */
export const customField = (name: string) => `custom.${name}`;

function formValue(property: Property, stored: Stored): CustomValue {
  if (property.type === "multi_enum") return Array.isArray(stored) ? stored.map(String) : [];
  if (stored === null || stored === undefined) return "";
  return Array.isArray(stored) ? stored.join(", ") : String(stored);
}

/** The form's values of the definitions, from a record's `custom` (empty for a new record). */
export function customValuesOf(properties: Property[], custom?: Record<string, Stored> | null): CustomValues {
  return Object.fromEntries(properties.map((property) => [property.name ?? "", formValue(property, custom?.[property.name ?? ""])]));
}

/** What the API is sent for a value typed: a number or a boolean as one when it reads as one; anything else as
 * typed, for the API to name the property; empty is none. */
function apiValue(property: Property, value: CustomValue): Sent {
  if (Array.isArray(value)) return value.length ? value : null;
  const text = value.trim();
  if (!text) return null;
  if (property.type === "number" && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (property.type === "boolean" && (text === "true" || text === "false")) return text === "true";
  return text;
}

const same = (a: CustomValue, b: CustomValue) => (Array.isArray(a) && Array.isArray(b) ? a.join("\n") === b.join("\n") : a === b);

/** The `custom` of a create (the values given), or of a change (the values changed since `opened`, an emptied
 * one as null, which removes it); undefined when there is nothing to send. */
export function customBody(properties: Property[], values: CustomValues, opened?: CustomValues): Record<string, Sent> | undefined {
  const body: Record<string, Sent> = {};
  for (const property of properties) {
    const name = property.name ?? "";
    const value = values[name] ?? "";
    if (opened && same(value, opened[name] ?? "")) continue;
    const sent = apiValue(property, value);
    if (sent !== null || opened) body[name] = sent;
  }
  return Object.keys(body).length ? body : undefined;
}

/** One input per custom property, of its type, with the API's error for it (`custom.<name>`) beneath. */
export function CustomInputs({
  properties,
  values,
  errors,
  onChange,
}: {
  properties: Property[];
  values: CustomValues;
  errors: Record<string, string>;
  onChange: (name: string, value: CustomValue) => void;
}) {
  return (
    <>
      {properties.map((property) => {
        const name = property.name ?? "";
        const value = values[name] ?? (property.type === "multi_enum" ? [] : "");
        const common = {
          label: property.label ?? name,
          description: property.description ?? undefined,
          required: property.required ?? false,
          error: errors[customField(name)],
        };
        const text = typeof value === "string" ? value : "";
        const set = (next: CustomValue) => onChange(name, next);
        const options = property.options ?? [];
        if (property.type === "multi_enum") {
          return (
            <Checkbox.Group key={name} {...common} value={Array.isArray(value) ? value : []} onChange={set}>
              <Group gap="sm" mt={4}>
                {options.map((option) => (
                  <Checkbox key={option.value} value={option.value} label={option.label} />
                ))}
              </Group>
            </Checkbox.Group>
          );
        }
        if (property.type === "enum" || property.type === "boolean") {
          const data =
            property.type === "boolean"
              ? [
                  { value: "true", label: "Yes" },
                  { value: "false", label: "No" },
                ]
              : options.map((option) => ({ value: option.value, label: option.label }));
          // A value stored before its option was removed stays choosable, so that saving keeps it.
          if (text && !data.some((option) => option.value === text)) data.push({ value: text, label: text });
          return (
            <NativeSelect
              key={name}
              {...common}
              value={text}
              onChange={(event) => set(event.currentTarget.value)}
              data={[{ value: "", label: "—" }, ...data]}
            />
          );
        }
        return (
          <TextInput
            key={name}
            {...common}
            type={property.type === "date" ? "date" : "text"}
            inputMode={property.type === "number" ? "decimal" : undefined}
            value={text}
            onChange={(event) => set(event.currentTarget.value)}
          />
        );
      })}
    </>
  );
}

function shown(property: Property | undefined, value: Stored): ReactNode {
  if (value === null || value === undefined || value === "") return null;
  const label = (option: string) => property?.options?.find((item) => item.value === option)?.label ?? option;
  if (Array.isArray(value)) return value.map(label).join(", ");
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (property?.type === "date" && typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) return formatDate(`${value}T00:00:00`);
  if (property?.type === "enum" && typeof value === "string") return label(value);
  return String(value);
}

/** A record's custom values as `Fields` entries: each active property by its label (— when the record has none),
 * then any value stored under a name no active property has (one archived since), by its name. */
export function customFields(properties: Property[] | undefined, custom?: Record<string, Stored> | null): [string, ReactNode][] {
  const defined = properties ?? [];
  const names = new Set(defined.map((property) => property.name));
  return [
    ...defined.map((property): [string, ReactNode] => [property.label ?? property.name ?? "", shown(property, custom?.[property.name ?? ""])]),
    ...Object.entries(custom ?? {})
      .filter(([name, value]) => !names.has(name) && value !== null)
      .map(([name, value]): [string, ReactNode] => [name, shown(undefined, value)]),
  ];
}

/** A record form's custom properties: the object's definitions, the values typed over the record's (or none),
 * the form fields their errors are shown at, the `custom` to send, and the inputs. `clearError` is the form's,
 * so that a value changed loses its error until the next save. */
export function useCustomForm(object: CustomObject, custom: Record<string, Stored> | null | undefined, clearError: (field: string) => void) {
  const definitions = useCustomProperties(object);
  const properties = definitions.data ?? [];
  const [typed, setTyped] = useState<CustomValues>({});
  const opened = customValuesOf(properties, custom);
  const values = { ...opened, ...typed };
  return {
    properties,
    fields: properties.map((property) => customField(property.name ?? "")),
    /** The `custom` of a create (`changes` false) or of a change (what differs from the record's). */
    body: (changes: boolean) => customBody(properties, values, changes ? opened : undefined),
    inputs: (errors: Record<string, string>) => (
      <CustomInputs
        properties={properties}
        values={values}
        errors={errors}
        onChange={(name, value) => {
          setTyped((current) => ({ ...current, [name]: value }));
          clearError(customField(name));
        }}
      />
    ),
  };
}
