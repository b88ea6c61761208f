import { Button, Group, Stack, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { Link, Route, Routes, useLocation } from "react-router";
import { Page, lazyPage } from "../lazyPage";
import { NotAvailable } from "./NotAvailable";
import { useIsAdmin } from "./settings/shared";

const Overview = lazyPage(() => import("./settings/Overview"));
const Users = lazyPage(() => import("./settings/Users"));
const Teams = lazyPage(() => import("./settings/Teams"));
const ApiKeys = lazyPage(() => import("./settings/ApiKeys"));
const Pipelines = lazyPage(() => import("./settings/Pipelines"));
const Properties = lazyPage(() => import("./settings/Properties"));
const Imports = lazyPage(() => import("./settings/Imports"));
const Exports = lazyPage(() => import("./settings/Exports"));
const EventTargets = lazyPage(() => import("./settings/EventTargets"));
const EventSources = lazyPage(() => import("./settings/EventSources"));
const Deliveries = lazyPage(() => import("./settings/Deliveries"));
const Audit = lazyPage(() => import("./settings/Audit"));
const SlaPolicies = lazyPage(() => import("./settings/SlaPolicies"));

const SECTIONS = [
  { label: "Overview", path: "/settings", adminOnly: false },
  { label: "Users", path: "/settings/users", adminOnly: false },
  { label: "Teams", path: "/settings/teams", adminOnly: false },
  { label: "API keys", path: "/settings/api-keys", adminOnly: false },
  { label: "Pipelines", path: "/settings/pipelines", adminOnly: false },
  { label: "Properties", path: "/settings/properties", adminOnly: false },
  // Only an admin imports or lists imports (any other role gets 403).
  { label: "Imports", path: "/settings/imports", adminOnly: true },
  // Likewise exports: only an admin exports the tenant's data or lists its exports.
  { label: "Exports", path: "/settings/exports", adminOnly: true },
  { label: "SLA policies", path: "/settings/sla-policies", adminOnly: false },
  { label: "Event targets", path: "/settings/event-targets", adminOnly: false },
  { label: "Event sources", path: "/settings/event-sources", adminOnly: false },
  // Only an admin reads the audit trail (any other role gets 403).
  { label: "Audit log", path: "/settings/audit", adminOnly: true },
];

// The sub-page each path opens (as the routes below say), for preloading it beside this chunk.
const SUB_PAGES: [RegExp, { preload: () => Promise<unknown> }][] = [
  [/^\/settings\/?$/, Overview],
  [/^\/settings\/users/, Users],
  [/^\/settings\/teams/, Teams],
  [/^\/settings\/api-keys/, ApiKeys],
  [/^\/settings\/pipelines/, Pipelines],
  [/^\/settings\/properties/, Properties],
  [/^\/settings\/imports/, Imports],
  [/^\/settings\/exports/, Exports],
  [/^\/settings\/event-targets\/[^/]+/, Deliveries],
  [/^\/settings\/event-targets/, EventTargets],
  [/^\/settings\/event-sources/, EventSources],
  [/^\/settings\/audit/, Audit],
  [/^\/settings\/sla-policies/, SlaPolicies],
];

/** The sub-page's chunk, when Settings is the first page opened (routes.tsx's preloadFirstPage). */
export function preloadSubPage(pathname: string): Promise<unknown> {
  const subPage = SUB_PAGES.find(([pattern]) => pattern.test(pathname));
  return subPage ? subPage[1].preload() : Promise.resolve();
}

/** The Settings section: its sub-navigation above the sub-page the path opens. */
export default function Settings() {
  const location = useLocation();
  const admin = useIsAdmin();
  const current = (path: string) =>
    path === "/settings" ? location.pathname.replace(/\/$/, "") === path : location.pathname.startsWith(path);
  const page = (element: ReactNode) => <Page>{element}</Page>;

  return (
    <Stack>
      <Title order={1}>Settings</Title>
      <nav aria-label="Settings sections">
        <Group gap="xs">
          {SECTIONS.filter((section) => !section.adminOnly || admin).map((section) => (
            <Button
              key={section.path}
              component={Link}
              to={section.path}
              size="xs"
              variant={current(section.path) ? "filled" : "default"}
              aria-current={current(section.path) ? "page" : undefined}
            >
              {section.label}
            </Button>
          ))}
        </Group>
      </nav>
      <Routes>
        <Route index element={page(<Overview />)} />
        <Route path="users" element={page(<Users />)} />
        <Route path="teams" element={page(<Teams />)} />
        <Route path="api-keys" element={page(<ApiKeys />)} />
        <Route path="pipelines" element={page(<Pipelines />)} />
        <Route path="properties" element={page(<Properties />)} />
        <Route path="imports" element={page(<Imports />)} />
        <Route path="exports" element={page(<Exports />)} />
        <Route path="event-targets" element={page(<EventTargets />)} />
        <Route path="event-targets/:id" element={page(<Deliveries />)} />
        <Route path="event-sources" element={page(<EventSources />)} />
        <Route path="audit" element={page(<Audit />)} />
        <Route path="sla-policies" element={page(<SlaPolicies />)} />
        <Route path="*" element={<NotAvailable name="This page" missing />} />
      </Routes>
    </Stack>
  );
}
