import { Alert, Center, Loader, Paper, Stack, Title } from "@mantine/core";
import { Suspense, lazy } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";
import { loadConfig } from "../auth/config";
import { useSession } from "../session";

// The forms load with the sign-in page, beside config.json (which says which forms to show): the first page
// of a signed-in user ships neither them nor, until someone types a password, the SRP library.
const SignInForms = lazy(() => {
  void loadConfig();
  return import("../auth/SignInForms");
});

/** The ways to sign in that config.json allows: the user pool's email and password, an API key, or both. */
export function SignInForm({ onSignedIn }: { onSignedIn: () => void }) {
  return (
    <Suspense
      fallback={
        <Center py="md">
          <Loader size="sm" role="status" aria-label="Loading sign-in" />
        </Center>
      }
    >
      <SignInForms onSignedIn={onSignedIn} />
    </Suspense>
  );
}

export function SignInPage() {
  const { credential } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? "/contacts";
  if (credential) return <Navigate to={from} replace />;
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w="100%" maw={420} component="main">
        <Stack>
          <Title order={1}>Sign in to the CRM</Title>
          <SignInForm onSignedIn={() => navigate(from, { replace: true })} />
          {location.state && (
            <Alert color="gray" variant="light">
              Sign in to continue where you were.
            </Alert>
          )}
        </Stack>
      </Paper>
    </Center>
  );
}
