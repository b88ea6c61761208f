import { AppShell, Button, Group, NavLink, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Suspense, lazy } from "react";
import { Link, Outlet, useLocation, useNavigate } from "react-router";
import { api, unwrap } from "./api/client";

// Neither is needed to show the first page: each loads after it (the dialog only once a session ends).
const NotificationBell = lazy(() => import("./components/NotificationBell"));
const SessionEnded = lazy(() => import("./components/SessionEnded"));
import { session, useSession } from "./session";

const NAVIGATION = [
  ["Contacts", "/contacts"],
  ["Companies", "/companies"],
  ["Deals", "/deals"],
  ["Activities", "/activities"],
  ["Tickets", "/tickets"],
  ["Quotes", "/quotes"],
  ["Campaigns", "/campaigns"],
  ["Reports", "/reports"],
  ["Settings", "/settings"],
] as const;

export function useMe() {
  return useQuery({ queryKey: ["me"], queryFn: () => unwrap(api.GET("/v1/me")), staleTime: 5 * 60_000 });
}

export function Shell() {
  const [menuOpen, menu] = useDisclosure(false);
  const { expired } = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const me = useMe();

  function signOut() {
    session.signOut();
    queryClient.clear();
    navigate("/sign-in", { replace: true });
  }

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !menuOpen } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Button
              hiddenFrom="sm"
              variant="default"
              size="xs"
              onClick={menu.toggle}
              aria-expanded={menuOpen}
              aria-controls="main-navigation"
            >
              Menu
            </Button>
            <Title order={2} size="h4">
              CRM
            </Title>
          </Group>
          <Group gap="sm" wrap="nowrap">
            {me.data && (
              <Text size="sm" visibleFrom="sm" data-testid="signed-in-as">
                {me.data.user.name ?? me.data.user.email} · {me.data.tenant.name} ({me.data.role})
              </Text>
            )}
            <Suspense fallback={null}>
              <NotificationBell />
            </Suspense>
            <Button variant="subtle" size="xs" onClick={signOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" id="main-navigation" aria-label="Main">
        {NAVIGATION.map(([label, path]) => (
          <NavLink
            key={path}
            component={Link}
            to={path}
            label={label}
            active={location.pathname.startsWith(path)}
            aria-current={location.pathname.startsWith(path) ? "page" : undefined}
            onClick={menu.close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
      {expired && (
        <Suspense fallback={null}>
          <SessionEnded />
        </Suspense>
      )}
    </AppShell>
  );
}
